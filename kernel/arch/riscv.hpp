// RISC-V privileged-architecture helpers: CSRs, fences and the SBI calls the kernel uses.
#pragma once

#include "lib/types.hpp"

namespace riscv {

#define CSR_READ(name)                                  \
  ({                                                    \
    u64 v__;                                            \
    asm volatile("csrr %0, " #name : "=r"(v__));        \
    v__;                                                \
  })
#define CSR_WRITE(name, v) asm volatile("csrw " #name ", %0" ::"r"(static_cast<u64>(v)) : "memory")
#define CSR_SET(name, v) asm volatile("csrs " #name ", %0" ::"r"(static_cast<u64>(v)) : "memory")
#define CSR_CLEAR(name, v) asm volatile("csrc " #name ", %0" ::"r"(static_cast<u64>(v)) : "memory")

// sstatus bits
inline constexpr u64 SSTATUS_SIE = 1ul << 1;
inline constexpr u64 SSTATUS_SPIE = 1ul << 5;
inline constexpr u64 SSTATUS_SPP = 1ul << 8;
inline constexpr u64 SSTATUS_FS = 3ul << 13;
inline constexpr u64 SSTATUS_SUM = 1ul << 18;
// sie / sip bits
inline constexpr u64 SIE_SSIE = 1ul << 1;
inline constexpr u64 SIE_STIE = 1ul << 5;
inline constexpr u64 SIP_SSIP = 1ul << 1;

// scause values
inline constexpr u64 SCAUSE_INTERRUPT = 1ul << 63;
inline constexpr u64 IRQ_S_SOFT = 1;
inline constexpr u64 IRQ_S_TIMER = 5;
enum class Exception : u64 {
  InstructionMisaligned = 0,
  InstructionAccessFault = 1,
  IllegalInstruction = 2,
  Breakpoint = 3,
  LoadMisaligned = 4,
  LoadAccessFault = 5,
  StoreMisaligned = 6,
  StoreAccessFault = 7,
  UserEcall = 8,
  InstructionPageFault = 12,
  LoadPageFault = 13,
  StorePageFault = 15,
};

inline constexpr u64 SATP_MODE_SV39 = 8ul << 60;
inline constexpr unsigned SATP_ASID_SHIFT = 44;
inline constexpr u64 SATP_ASID_MASK = 0xfffful;
inline constexpr u64 SATP_PPN_MASK = (1ul << 44) - 1;

constexpr u64 make_satp(u64 root_ppn, u64 asid) {
  return SATP_MODE_SV39 | ((asid & SATP_ASID_MASK) << SATP_ASID_SHIFT) | root_ppn;
}

inline u64 rdtime() {
  u64 v;
  asm volatile("rdtime %0" : "=r"(v));
  return v;
}

inline void wfi() { asm volatile("wfi"); }

}  // namespace riscv

// The Supervisor Binary Interface: OpenSBI's calls.
namespace sbi {

struct Ret {
  long error;
  long value;
};

inline Ret call(long ext, long fid, long a0 = 0, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0) {
  register long r_a0 asm("a0") = a0;
  register long r_a1 asm("a1") = a1;
  register long r_a2 asm("a2") = a2;
  register long r_a3 asm("a3") = a3;
  register long r_a4 asm("a4") = a4;
  register long r_a6 asm("a6") = fid;
  register long r_a7 asm("a7") = ext;
  asm volatile("ecall" : "+r"(r_a0), "+r"(r_a1) : "r"(r_a2), "r"(r_a3), "r"(r_a4), "r"(r_a6), "r"(r_a7) : "memory");
  return {r_a0, r_a1};
}

inline constexpr long EXT_TIME = 0x54494D45;
inline constexpr long EXT_DBCN = 0x4442434E;
inline constexpr long EXT_IPI = 0x735049;
inline constexpr long EXT_RFENCE = 0x52464E43;

// hart_mask: bit i = hart id i (hart_mask_base 0).
inline long send_ipi(u64 hart_mask) { return call(EXT_IPI, 0, static_cast<long>(hart_mask), 0).error; }
// Fence [start, start + size) on the harts in hart_mask (size ~0: everything), for one ASID or
// for all address spaces.
inline long remote_sfence_vma(u64 hart_mask, u64 start, u64 size) {
  return call(EXT_RFENCE, 1, static_cast<long>(hart_mask), 0, static_cast<long>(start), static_cast<long>(size)).error;
}
inline long remote_sfence_vma_asid(u64 hart_mask, u64 start, u64 size, u16 asid) {
  return call(EXT_RFENCE, 2, static_cast<long>(hart_mask), 0, static_cast<long>(start), static_cast<long>(size), asid).error;
}

inline void set_timer(u64 when) { call(EXT_TIME, 0, static_cast<long>(when)); }
// Debug console: write `len` bytes starting at physical address `pa`.
inline long console_write(u64 pa, u64 len) { return call(EXT_DBCN, 0, len, pa, 0).value; }
// Debug console: read up to `len` bytes into physical address `pa`; returns bytes read (0: none).
inline Ret console_read(u64 pa, u64 len) { return call(EXT_DBCN, 1, len, pa, 0); }
inline void console_putc(char c) { call(EXT_DBCN, 2, static_cast<u8>(c)); }

}  // namespace sbi
