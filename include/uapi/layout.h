// The user address-space layout: the one definition shared by the kernel (kernel/mm/layout.hpp
// takes its user constants from here) and user programs (user/lib/user.hpp includes it).
//
//   0 .. USER_BASE                 never mapped (null pointers fault)
//   USER_IMAGE_BASE ..             the program image (user/lib/user.ld links it there), then the
//                                  heap (sbrk), which stays below MMAP_BASE
//   MMAP_BASE ..                   where mmap(0, ...) starts looking
//   .. USER_STACK_TOP              the stack (CONFIG_USER_STACK_PAGES pages, a kernel option),
//                                  with an unmapped guard page below it
//   USER_TOP                       the end of user VA (Sv39: 256 GiB)
//   KERNEL_HALF ..                 the kernel half of VA: never a user mapping
#pragma once

#ifdef __cplusplus
#include <stdint.h>
namespace uapi {
#endif

enum UserLayout : uint64_t {
  USER_PAGE_SIZE = 0x1000,
  USER_BASE = 0x1000,
  USER_IMAGE_BASE = 0x10000,
  MMAP_BASE = 0x2000000000,
  USER_STACK_TOP = 0x3fffff0000,
  USER_TOP = 0x4000000000,
  KERNEL_HALF = 0xffffffc000000000,
};

#ifdef __cplusplus
}  // namespace uapi
#endif
