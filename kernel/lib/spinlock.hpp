// Spinlocks that disable interrupts on the hart holding them (sstatus.SIE is saved at lock()
// and restored at unlock(), so nested locks restore in reverse order). Ticket locks: harts get
// the lock in the order they asked for it, so a hart that releases and retakes it (a long
// system call's preemption point) lets every waiting hart in first.
//
// Every lock has a rank; a hart takes locks in increasing rank order only (docs/design.md,
// "Lock order"). With CONFIG_DEBUG_LOCKS each hart records the locks it holds: taking a lock whose
// rank is not above every held one, taking a lock twice, or switching threads while holding a
// lock that must not cross a switch panics, naming both locks.
#pragma once

#include "arch/riscv.hpp"
#include "lib/log.hpp"
#include "arch/hart.hpp"

// The lock order, outermost first (docs/design.md restates it).
enum class LockRank : u8 {
  Kernel = 1,  // the kernel lock: processes, the run queue, address spaces, pipes, allocators
  Test = 2,    // the boot-time self-test of the checker (lock_order_selftest=1)
};

class SpinLock {
 public:
  // `crosses_switch`: the lock may be held across a context switch (it passes to the thread
  // switched in, which releases it). Only the kernel lock does.
  // The name is copied in: a pointer would be an absolute relocation in shared kernel data,
  // which scheme 3 forbids.
  constexpr SpinLock(const char* name, LockRank rank, bool crosses_switch = false)
      : rank_(rank), crosses_switch_(crosses_switch) {
    for (int i = 0; i < NAME_MAX - 1 && name[i]; i++) name_[i] = name[i];
  }

  void lock() {
    u64 sie = CSR_READ(sstatus) & riscv::SSTATUS_SIE;
    CSR_CLEAR(sstatus, riscv::SSTATUS_SIE);
    if (config::debug_locks) check_order();
    u32 ticket = __atomic_fetch_add(&next_ticket_, 1u, __ATOMIC_RELAXED);
    for (u32 spins = 0; __atomic_load_n(&now_serving_, __ATOMIC_ACQUIRE) != ticket; spins++) {
      // The holder may be waiting for this hart to do a TLB fence (SHOOTDOWN_IPI).
      if (hart::self().fence_pending) hart::handle_ipi();
      if (spins == SPINS_BEFORE_SLEEP) {
        sleep_until_released(ticket);
        spins = 0;
      }
    }
    owner_ = hart::self().logical;
    saved_sie_ = sie;
    if (config::debug_locks) push_held();
  }

  void unlock() {
    if (config::debug_locks) pop_held();
    u64 sie = saved_sie_;
    owner_ = -1;
    __atomic_store_n(&now_serving_, now_serving_ + 1, __ATOMIC_SEQ_CST);
    // Waiters that stopped spinning (below) are woken: all of them, the next ticket checks.
    if (u32 sleepers = __atomic_load_n(&sleepers_, __ATOMIC_SEQ_CST)) hart::wake_lock_sleepers(sleepers);
    if (sie) CSR_SET(sstatus, riscv::SSTATUS_SIE);
  }

  // The lock changes hands with a context switch: the incoming thread releases what the
  // outgoing one took (its saved SIE is the outgoing thread's, which is "off" in the kernel).
  bool held_here() const { return owner_ == hart::self().logical; }
  // Does another hart wait for it?
  bool contended() const { return __atomic_load_n(&next_ticket_, __ATOMIC_RELAXED) != now_serving_ + 1; }
  void set_owner_here() { owner_ = hart::self().logical; }
  const char* name() const { return name_; }
  LockRank rank() const { return rank_; }
  bool crosses_switch() const { return crosses_switch_; }

 private:
  void check_order() const;
  void push_held();
  void pop_held();

  // A waiter that has spun this long waits in wfi instead, until unlock() sends it an IPI (or
  // its timer fires). Why: under QEMU each hart is a host thread, and on a host with fewer cores
  // than harts a spinning hart takes the core the holder needs (with -icount, its whole turn).
  static constexpr u32 SPINS_BEFORE_SLEEP = 256;
  void sleep_until_released(u32 ticket) {
    u32 me = 1u << hart::self().logical;
    hart::handle_ipi();  // clears sip.SSIP (doing any posted fence), so that wfi can wait
    __atomic_fetch_or(&sleepers_, me, __ATOMIC_SEQ_CST);
    // The release's IPI comes after this check can see the release, or it is pending in sip
    // and wfi returns at once: no lost wake-up.
    if (__atomic_load_n(&now_serving_, __ATOMIC_SEQ_CST) != ticket && !hart::self().fence_pending) riscv::wfi();
    __atomic_fetch_and(&sleepers_, ~me, __ATOMIC_SEQ_CST);
  }

  static constexpr int NAME_MAX = 16;
  char name_[NAME_MAX] = {};
  LockRank rank_;
  bool crosses_switch_;
  u32 next_ticket_ = 0;   // the ticket the next lock() draws
  u32 now_serving_ = 0;   // the ticket that holds the lock
  u32 sleepers_ = 0;      // logical harts waiting in wfi for a release
  int owner_ = -1;
  u64 saved_sie_ = 0;
};

// Holds a lock for a scope.
class LockGuard {
 public:
  explicit LockGuard(SpinLock& l) : l_(l) { l_.lock(); }
  ~LockGuard() { l_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  SpinLock& l_;
};

namespace locks {
// Called by the scheduler just before a context switch: with CONFIG_DEBUG_LOCKS, panic if this
// hart holds a lock that must not cross a switch (naming it and the switch's own lock).
void check_switch(const SpinLock& switch_lock);
}  // namespace locks
