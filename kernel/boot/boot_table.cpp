// The boot page table, built while the MMU is still off (at physical addresses). It maps RAM
// twice with 1 GiB pages: identity (for the instruction that turns paging on) and at the
// link-time window, where kmain runs until the scheme installs the real tables.
#include "mm/layout.hpp"
#include "arch/riscv.hpp"

namespace {
alignas(4096) u64 boot_root[512];
}

extern "C" u64 boot_page_table() {
  constexpr u64 flags = 0xcf;  // V R W X A D
  for (u64 g = 0; g < 2; g++) {
    u64 pa = layout::RAM_BASE + g * layout::GIGA_SIZE;
    boot_root[(pa >> 30) & 511] = ((pa >> 12) << 10) | flags;
    boot_root[((layout::LINK_WINDOW + g * layout::GIGA_SIZE) >> 30) & 511] = ((pa >> 12) << 10) | flags;
  }
  return riscv::make_satp(reinterpret_cast<u64>(boot_root) >> 12, 0);
}
