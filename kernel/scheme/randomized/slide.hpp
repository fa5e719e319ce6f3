// Scheme 3 (shared table, per-process randomized kernel VA): the slide. See scheme.cpp.
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

}  // namespace scheme
