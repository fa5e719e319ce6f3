// The kernel window (see mm/layout.hpp), built once at boot. Schemes place it: scheme 1 in the
// kernel's own table, scheme 2 in a master table whose kernel half every process shares,
// scheme 3 in a master table whose window entries each process copies to its own slot.
#pragma once

#include "mm/pagetable.hpp"

namespace kmap {

// How much RAM the window maps (set at boot from the device tree).
void set_ram_size(u64 bytes);
u64 ram_mapped();

// Map the window at `window_va` in `root`. `extra` is added to every leaf (PteFlags::G for
// global kernel entries). Allocates the kernel stacks' frames: call it once.
void build_window(PhysPageNum root, u64 window_va, PteFlags extra, u64& pt_pages);
// Map the page of code at `code` (the trampoline or switch page) at TRAMPOLINE.
Error map_trampoline(PhysPageNum root, const void* code, PteFlags extra, u64& pt_pages);
// Load `satp` and flush; the boot-time switch to the real kernel tables.
void activate(u64 satp);

}  // namespace kmap
