// Scheme 3 (shared table, per-process randomized kernel VA): inline part. See randomized.cpp.
#pragma once

namespace scheme {

inline constexpr char name[] = "shared table, per-process random kernel VA";
inline constexpr int number = 3;

extern "C" char __kernel_start[];

// Where the running code is relative to where it was linked. Derived from the pc itself
// (auipc), so it is right in whichever slot the kernel happens to run, with no state to update.
inline u64 slide() {
  u64 here;
  asm("lla %0, __kernel_start" : "=r"(here));
  return here - (layout::LINK_WINDOW + (layout::KERNEL_LOAD_PA - layout::RAM_BASE));
}

// Each address space has its own window slot, and the level-1 tables that map the window
// there (the level-0 tables under them are shared).
struct SpaceState {
  u64 window;  // VA of this table's kernel window
  PhysPageNum l1[2];
};
struct ProcessState {};

}  // namespace scheme
