// The slide: how far the running kernel window is from where the kernel was linked (0 unless the
// scheme randomizes the window). The lowest layer of a scheme: it needs only the layout.
//
// Per-scheme (kernel/scheme/<scheme>/slide.hpp, chosen by the Makefile through SCHEME_SLIDE_HEADER):
//   scheme::name, scheme::number   what the scheme is called
//   u64 scheme::slide()            running window VA - LINK_WINDOW
#pragma once

#include "lib/types.hpp"
#include "mm/layout.hpp"

#include SCHEME_SLIDE_HEADER

// The kernel reaches physical memory through its window: RAM at window + (pa - RAM_BASE).
inline u64 window_va() { return layout::LINK_WINDOW + scheme::slide(); }
