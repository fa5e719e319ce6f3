// Small pieces more than one scheme uses. Only kernel/scheme/<scheme>/scheme.cpp include this.
#pragma once

#include "arch/riscv.hpp"
#include "proc/process.hpp"

namespace scheme::common {

// Schemes 2 and 3: the user's pages are mapped in the running table, so the kernel copies
// directly, with sstatus.SUM (supervisor access to user pages) set only for the copy.
inline void copy_with_sum(void* dst, const void* src, size_t len) {
  CSR_SET(sstatus, riscv::SSTATUS_SUM);
  memcpy(dst, src, len);
  CSR_CLEAR(sstatus, riscv::SSTATUS_SUM);
}

// Schemes 2 and 3: the trap frame sits at the top of the process's kernel stack. Every kernel
// stack is mapped in every window, so any process's frame is reachable from the running one.
inline TrapFrame* trapframe_on_kernel_stack(Process& p) {
  return reinterpret_cast<TrapFrame*>(window_va() + layout::kstack_top(p.index()) - sizeof(TrapFrame));
}

// Schemes 2 and 3: the satp value that loads `to`'s table (an ASID of the current generation
// is acquired here), with one satp write (and, without usable ASIDs, the full flush the
// generated code then does) charged to `to`.
inline u64 satp_for_switch(Process& to) {
  u64 satp = to.vm().satp_for_load();
  if (config::stats) {
    to.counters.satp_writes++;
    if (asid::flush_on_load()) to.counters.sfence_all++;
  }
  return satp;
}

// sret will enter user mode (SPP = 0) with interrupts enabled (SPIE = 1), and SUM is off.
inline void prepare_sret_to_user() {
  CSR_CLEAR(sstatus, riscv::SSTATUS_SPP | riscv::SSTATUS_SUM);
  CSR_SET(sstatus, riscv::SSTATUS_SPIE);
}

// log2(n) * 1000, for the slot entropy that diag reports (schemes 2 with KASLR_BOOT, and 3).
inline u64 log2_millibits(u64 n) {
  // floor(log2 n) plus the fraction, bit by bit (fixed point, 10 fractional bits).
  u64 bits = 63 - __builtin_clzll(n);
  u64 frac = 0;
  unsigned __int128 x = (static_cast<unsigned __int128>(n) << 32) >> bits;  // in [1,2) * 2^32
  for (int i = 0; i < 10; i++) {
    x = (x * x) >> 32;
    frac <<= 1;
    if (x >= (static_cast<unsigned __int128>(2) << 32)) x >>= 1, frac |= 1;
  }
  return bits * 1000 + frac * 1000 / 1024;
}

}  // namespace scheme::common
