// The virtual and physical memory layout, the same in every scheme except where a scheme says.
//
//   user half   0x0000000000000000 .. 0x0000004000000000   (256 GiB; include/uapi/layout.h)
//   kernel half 0xffffffc000000000 .. 0xffffffffffffffff   (256 GiB)
//
// The kernel lives in one *window*: a contiguous range of kernel VAs that maps
//   [0, WINDOW_RAM)            all of RAM from 0x80000000 (the kernel image is at +2 MiB),
//   [KSTACKS, +KSTACKS_SIZE)   one kernel stack per process slot, each below a guard page,
//   [MMIO, +4 KiB)             the test device that powers QEMU off.
// Schemes 1 and 2 put the window at LINK_WINDOW (where the kernel is linked); scheme 3 puts it
// at a random 2 MiB-aligned slot per process. The top 1 GiB of VA holds fixed pages
// (TRAMPOLINE, TRAPFRAME) that never move.
#pragma once

#include "lib/types.hpp"
#include "uapi/layout.h"

namespace layout {

inline constexpr u64 PAGE_SIZE = 4096;
static_assert(PAGE_SIZE == uapi::USER_PAGE_SIZE, "one page size for kernel and user");
inline constexpr u64 MEGA_SIZE = 2ul << 20;  // a 2 MiB superpage
inline constexpr u64 GIGA_SIZE = 1ul << 30;  // a 1 GiB superpage

inline constexpr u64 RAM_BASE = 0x80000000;
inline constexpr u64 KERNEL_LOAD_PA = 0x80200000;
inline constexpr u64 TEST_DEVICE_PA = 0x100000;

inline constexpr u64 KERNEL_HALF = uapi::KERNEL_HALF;
inline constexpr u64 LINK_WINDOW = KERNEL_HALF;
inline constexpr u64 FIXED_REGION = 0xffffffffc0000000;  // top 1 GiB: fixed pages only
inline constexpr u64 TRAMPOLINE = 0xfffffffffffff000;
inline constexpr u64 TRAPFRAME = TRAMPOLINE - PAGE_SIZE;

inline constexpr u64 WINDOW_RAM = static_cast<u64>(config::kernel_window_ram_mb) << 20;
inline constexpr u64 KSTACK_PAGES = config::kstack_pages;
inline constexpr u64 KSTACK_STRIDE = (KSTACK_PAGES + 1) * PAGE_SIZE;  // guard page + stack
inline constexpr u64 KSTACKS = WINDOW_RAM;
inline constexpr u64 KSTACKS_SIZE = align_up<u64>(config::nproc * KSTACK_STRIDE, MEGA_SIZE);
inline constexpr u64 MMIO = KSTACKS + KSTACKS_SIZE;
inline constexpr u64 WINDOW_SIZE = align_up<u64>(MMIO + PAGE_SIZE, MEGA_SIZE);
static_assert(WINDOW_SIZE <= 2 * GIGA_SIZE, "the window must fit two level-1 tables");

// Offsets of one kernel stack inside the window (slot i: guard page, then the stack).
constexpr u64 kstack_bottom(int slot) { return KSTACKS + slot * KSTACK_STRIDE + PAGE_SIZE; }
constexpr u64 kstack_top(int slot) { return KSTACKS + (slot + 1) * KSTACK_STRIDE; }

// The user half (include/uapi/layout.h, shared with user programs).
inline constexpr u64 USER_BASE = uapi::USER_BASE;
inline constexpr u64 USER_TOP = uapi::USER_TOP;
inline constexpr u64 USER_STACK_TOP = uapi::USER_STACK_TOP;
inline constexpr u64 USER_STACK_SIZE = config::user_stack_pages * PAGE_SIZE;
inline constexpr u64 MMAP_BASE = uapi::MMAP_BASE;  // where mmap(0, ...) starts looking
static_assert(USER_TOP == 1ul << 38 && KERNEL_HALF == ~0ul << 38, "Sv39: the halves of a 39-bit VA");

}  // namespace layout
