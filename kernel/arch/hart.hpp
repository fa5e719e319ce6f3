// Harts: the per-hart structure and how the kernel finds it.
//
// While the kernel runs, tp holds this hart's Hart (at the running window). The user's tp is
// saved in the trap frame at every trap entry, tp is loaded from the trap frame's kernel_tp
// (which the scheduler sets whenever a process is put on a hart), and the user's tp is restored
// at every exit: the kernel never reads a tp the user chose. The context switch does not save
// tp: a kernel thread that resumes on another hart picks up that hart's tp.
#pragma once

#include "lib/types.hpp"

namespace hart {

inline constexpr int MAX = config::nr_harts;

struct Hart {
  int logical = 0;   // 0..online()-1: the index in harts[]
  int running = -1;  // index in the process table of the process running here (-1: none yet)
  u64 hartid = 0;    // the SBI / device-tree hart id (may be sparse)
  unsigned asid_bits = 0;  // ASID bits this hart's satp implements (probed on this hart)
  bool idle = false;  // in the idle loop's wfi, to be woken by an IPI when work appears
  u16 active_asid = 0;  // the ASID of the user table this hart runs (0: none / the kernel's)
  u64 active_root = 0;  // the root PPN of the user table this hart runs (0: none)
  bool asid_flush_pending = false;  // an ASID rollover happened: flush before the next ASID load
  // SHOOTDOWN_IPI: a fence request posted by another hart, done by this one in its IPI handler.
  struct FenceRequest {
    u64 start, size;  // size ~0: the whole address space (or everything, with all)
    u16 asid;
    bool all;         // every address space
  } fence{};
  volatile u32 fence_pending = 0;
  // Event counters (KernelStats sums them over harts).
  u64 remote_fences_sent = 0;
  u64 ipis_sent = 0;
  u64 tlb_shootdowns = 0;
  // Debug lock checking (lib/spinlock.hpp): the locks this hart holds, innermost last.
  static constexpr int LOCKS_HELD_MAX = 8;
  u64 locks_held[LOCKS_HELD_MAX] = {};  // window offsets of the locks (lib/spinlock.cpp)
  int nlocks_held = 0;
};

extern Hart harts[MAX];

// This hart's structure (from tp: see above).
inline Hart& self() {
  // An explicit register variable: the compiler addresses the Hart through tp directly (no
  // copy), which the null call's instruction bound needs.
  register Hart* h asm("tp");
  asm("" : "=r"(h));
  return *h;
}
inline void set_self(Hart* h) { asm volatile("mv tp, %0" ::"r"(h) : "memory"); }

// Harts running the kernel (the device tree's, capped at config::nr_harts).
int online();

// Boot (hart 0, once the kernel table is active): start every other hart the device tree lists,
// up to MAX, through SBI HSM and wait until each has probed its ASID width. `boot_hartid` is
// the hart running this; `kernel_satp` the kernel table every hart starts on.
struct BootHarts {
  const u64* ids;
  int count;
};
void init_boot_hart(u64 boot_hartid);
void start_secondaries(BootHarts listed, u64 kernel_satp);
// The fewest ASID bits any online hart implements (satp's ASID field is per hart).
unsigned min_asid_bits();
// The kernel table's satp (ASID 0), which idle harts run on.
u64 kernel_satp();
// All online harts, as a logical mask.
inline u32 all_mask() { return online() >= 32 ? ~0u : (1u << online()) - 1; }
// Send a supervisor software interrupt to the harts in `logical_mask` (counted in ipis_sent).
void send_ipi(u32 logical_mask);
// Wake harts waiting in wfi for a lock's release (lib/spinlock.hpp). Not counted in ipis_sent,
// which counts wake-ups of idle harts and SHOOTDOWN_IPI requests.
void wake_lock_sleepers(u32 logical_mask);
// Take this hart's pending IPI: clear sip.SSIP and do a posted fence request.
void handle_ipi();
// This hart's idle stack (kernel VA at the link-time window).
u64 idle_stack_top();
// The SBI hart mask of a logical mask.
u64 sbi_mask(u32 logical_mask);

}  // namespace hart

namespace hart {
// Set bits in a mask (no libgcc: the kernel is soft-float, libgcc's popcount is not).
constexpr u64 count_bits(u32 m) {
  u64 n = 0;
  for (; m; m &= m - 1) n++;
  return n;
}
}  // namespace hart
