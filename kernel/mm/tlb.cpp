#include "mm/tlb.hpp"

#include "arch/riscv.hpp"
#include "lib/counters.hpp"

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

}  // namespace tlb
