// Scheme 2 (shared table, the same kernel VA everywhere): the slide. See scheme.cpp.
#pragma once

namespace scheme {

inline constexpr char name[] = "shared table, same kernel VA";
inline constexpr int number = 2;

extern "C" char __kernel_start[];

// Without KASLR_BOOT the kernel window is at its link-time VA in every table: the constant 0.
// With it, every process table maps the window at one slot drawn at boot while the boot code
// runs at the link-time VA, so the slide is read from the pc (auipc), as in scheme 3.
inline u64 slide() {
  if constexpr (!config::kaslr_boot) {
    return 0;
  } else {
    u64 here;
    asm("lla %0, __kernel_start" : "=r"(here));
    return here - (layout::LINK_WINDOW + (layout::KERNEL_LOAD_PA - layout::RAM_BASE));
  }
}

}  // namespace scheme
