#include "mm/tlb.hpp"

#include "arch/riscv.hpp"
#include "proc/process.hpp"

namespace {
u16 asid_max = 0;  // 0: no ASIDs in use
u16 next_asid = 1;
}  // namespace

namespace tlb {

void flush_all() {
  asm volatile("sfence.vma zero, zero" ::: "memory");
  if (config::stats) proc::counters_now().sfence_all++;
}

void flush_asid(u16 asid) {
  asm volatile("sfence.vma zero, %0" ::"r"(u64(asid)) : "memory");
  if (config::stats) proc::counters_now().sfence_asid++;
}

void flush_page(u64 va, u16 asid) {
  asm volatile("sfence.vma %0, %1" ::"r"(va), "r"(u64(asid)) : "memory");
  if (config::stats) proc::counters_now().sfence_addr++;
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

void probe_asid_bits() {
  if (!config::asid) return;
  // Write all-ones to satp.ASID (keeping mode and root) and read back what sticks.
  u64 satp = CSR_READ(satp);
  CSR_WRITE(satp, satp | (riscv::SATP_ASID_MASK << riscv::SATP_ASID_SHIFT));
  u64 back = CSR_READ(satp);
  CSR_WRITE(satp, satp);
  flush_all();
  asid_max = static_cast<u16>((back >> riscv::SATP_ASID_SHIFT) & riscv::SATP_ASID_MASK);
}

bool asids_enabled() { return asid_max != 0; }

u16 alloc_asid() {
  if (!asid_max) return 0;
  u16 a = next_asid;
  next_asid = next_asid >= asid_max ? 1 : next_asid + 1;
  return a;
}

void release_asid(u16 asid) {
  if (asid) flush_asid(asid);
}

}  // namespace tlb
