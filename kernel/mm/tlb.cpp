#include "mm/tlb.hpp"

#include "arch/riscv.hpp"
#include "lib/counters.hpp"
#include "arch/hart.hpp"

namespace tlb {

void flush_all() {
  asm volatile("sfence.vma zero, zero" ::: "memory");
  if (config::stats) stats::counters_now().sfence_all++;
}

void flush_asid(u16 asid) {
  asm volatile("sfence.vma zero, %0" ::"r"(u64(asid)) : "memory");
  if (config::stats) stats::counters_now().sfence_asid++;
}

void flush_page(u64 va, u16 asid) {
  asm volatile("sfence.vma %0, %1" ::"r"(va), "r"(u64(asid)) : "memory");
  if (config::stats) stats::counters_now().sfence_addr++;
}

void flush_range(u64 start, u64 end, u16 asid) {
  constexpr u64 PAGE_BY_PAGE_LIMIT = 32;
  if ((end - start) / 4096 > PAGE_BY_PAGE_LIMIT) {
    if (asid) flush_asid(asid);
    else flush_all();
    return;
  }
  for (u64 va = start; va < end; va += 4096) flush_page(va, asid);
}

void shootdown(u32 logical_mask, u64 start, u64 end, u16 asid, bool all) {
  hart::Hart& me = hart::self();
  u32 targets = logical_mask & hart::all_mask() & ~(1u << me.logical);
  if (!targets) return;
  u64 size = end ? end - start : ~0ul;
  me.tlb_shootdowns++;
  me.remote_fences_sent += hart::count_bits(targets);
  if constexpr (config::shootdown_rfence) {
    u64 mask = hart::sbi_mask(targets);
    if (all) sbi::remote_sfence_vma(mask, 0, ~0ul);
    else sbi::remote_sfence_vma_asid(mask, end ? start : 0, size, asid);
    return;
  }
  for (int h = 0; h < hart::online(); h++) {
    if (!(targets >> h & 1)) continue;
    hart::Hart& t = hart::harts[h];
    t.fence = {end ? start : 0, size, asid, all};
    __atomic_store_n(&t.fence_pending, 1u, __ATOMIC_RELEASE);
  }
  hart::send_ipi(targets);
  // The targets answer from user mode (the interrupt), from wfi, or from the kernel lock's spin.
  for (int h = 0; h < hart::online(); h++)
    while (targets >> h & 1 && __atomic_load_n(&hart::harts[h].fence_pending, __ATOMIC_ACQUIRE)) asm volatile("" ::: "memory");
}

}  // namespace tlb
