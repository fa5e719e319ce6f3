// Threads pinned to harts, for the multi-hart benchmarks (bench_*_harts, bench_shootdown,
// bench_storm): a stack per thread, a start barrier, and the hart count.
//
// rdinstret under -icount is NOT per hart: QEMU runs the vCPUs in turn on one host thread and
// its instret is the machine's instruction count, so a thread's rdinstret delta counts its own
// instructions plus those of any hart that had a turn meanwhile. The counts are deterministic
// (the turns are), and they are upper bounds on the thread's own work; bench_getpid_harts takes
// the minimum over short rounds to get the own figure. Wall time (ns_per_op) at several harts
// is QEMU's and says little about hardware.
#pragma once

#include "bench.hpp"

constexpr long HART_STACK_BYTES = 16 * 4096;
constexpr int MAX_HARTS = 8;

inline long harts_online() {
  KernelStats s;
  if (stats(&s) != 0) bench_fail("stats() failed");
  return s.harts_online < 1 ? 1 : (long)s.harts_online;
}

inline KernelStats all_stats() {
  KernelStats s;
  if (stats(&s) != 0) bench_fail("stats() failed");
  return s;
}

// A new thread running fn(arg) on its own mmap'd stack; fails the run if it cannot start.
inline long spawn(long (*fn)(void*), void* arg) {
  long a = mmap(nullptr, HART_STACK_BYTES, uapi::PROT_READ | uapi::PROT_WRITE);
  if (a < 0) bench_fail("no memory for a thread stack (%ld)", a);
  long tid = thread_create(fn, arg, (void*)(a + HART_STACK_BYTES));
  if (tid <= 0) bench_fail("thread_create = %ld", tid);
  return tid;
}

inline void join_ok(long tid) {
  long r = thread_join(tid);
  if (r != 0) bench_fail("thread %ld ended with %ld", tid, r);
}

inline void pin(long hart) {
  long r = sched_pin(hart);
  if (r != 0) bench_fail("sched_pin(%ld) = %ld", hart, r);
  if (hart >= 0 && current_hart() != hart) bench_fail("pinned to hart %ld, running on %ld", hart, current_hart());
}

inline long atomic_load(const volatile long* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
inline void atomic_store(volatile long* p, long v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
inline long atomic_add(volatile long* p, long v) { return __atomic_add_fetch(p, v, __ATOMIC_ACQ_REL); }

// Arrive and wait until `n` threads have arrived (busy: every party has a hart of its own, or
// yields when it shares one so that the others can arrive).
inline void barrier(volatile long* count, long n) {
  atomic_add(count, 1);
  while (atomic_load(count) < n) yield();
}
