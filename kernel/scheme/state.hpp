// The scheme's state kept inside other structures: per address space (mm/addrspace.hpp), per
// process (proc/process.hpp) and in the trap frame. Above the slide, below mm/: it needs only
// the address types.
//
// Per-scheme (kernel/scheme/<scheme>/state.hpp, chosen by the Makefile through SCHEME_STATE_HEADER):
//   struct scheme::SpaceState      kernel-side state of one address space (slot, private tables)
//   struct scheme::ProcessState    kernel-side state of one process (scheme 1: its trap-frame page)
//   struct scheme::TrapFrameExtra  the scheme's own trap-frame fields (the generator's extra_fields)
#pragma once

#include "lib/types.hpp"
#include "mm/addr.hpp"

#include SCHEME_STATE_HEADER
