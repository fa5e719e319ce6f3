// The measurement helper shared by the benchmark programs (user/bench/*.cpp).
//
// A benchmark measures a loop of `iters` operations:
//
//   bench_init();                 once: timebase, and the cost of the measurement itself
//   Sample a, b;
//   bench_begin(a);               aligns to a fresh timer tick, then reads counters and clocks
//   region_begin<BASE>(offset);   TLB-model region marker (see the id table below)
//   ... the operations ...
//   TLB_REGION_END();
//   bench_end(b);
//   ... check the work, bench_fail("...") if it is wrong ...
//   bench_report("bench_x", "{\"size\":8}", iters, iters, a, b);
//
// and prints one line:
//
//   @bench {"bench":"bench_x","params":{...},"iters":N,"ns_per_op":X,"insns_per_op":X,
//           "satp_per_op":X,"sfence_per_op":X,"traps_per_op":X,"switches_per_op":X,"check":"ok"}
//
// (on one line; docs/userspace.md and docs/harness.md describe the format). Values are
// printed with three decimals from integer arithmetic: user programs have no floating point.
//
// What the numbers are:
//   ns_per_op      rdtime delta converted with stats().timebase_hz, per op
//   insns_per_op   rdinstret delta per op (instret counts every mode, so kernel work and other
//                  processes' instructions during the loop are included: that is the point)
//   *_per_op       deltas of this process's own kernel counters (stats().self) per op;
//                  sfence_per_op sums the three sfence.vma kinds
// The stats() calls that take the samples are themselves system calls; their share (one trap,
// and in scheme 1 two satp writes) is measured once by bench_init and subtracted, so a null
// system call shows exactly 1 trap and, in scheme 1, exactly 2 satp writes per op.
//
// Timer interrupts during the loop are real costs and are counted; bench_begin sleeps until a
// fresh timer tick first, so that a short loop does not see one by chance and a deterministic
// (-icount) run gives the same counts every time.
//
// TLB-model region ids (TLB_REGION_BEGIN immediates, 1..2047), distinct per benchmark and
// parameter:
//   1                 bench_null
//   20                bench_fork
//   50 + log2(kb/4)   bench_fork with touched_kb (4..16384 KiB: 50..62)
//   21                bench_exec
//   22                bench_timer
//   100 + log2(size)  bench_copy, size in bytes (8..65536: 103..116)
//   200 + log2(K)     bench_tlb, K pages touched (1..1024: 200..210)
//   300 + log2(N)     bench_mmap, N pages mapped (1..1024: 300..310)
//   400 + 8*b + p-1   bench_ctx, p = processes (1..8), b = working-set bucket: 0 for 0 KiB,
//                     else 1 + log2(KiB) (0..15); 400..527
//   600               bench_pipe lat
//   601 + log2(size)  bench_pipe bw, size in bytes (1..65536: 601..617)
//   620 + 8*b + p-1   bench_pipe ctx, p = processes (2..8), b = working-set bucket as above,
//                     capped at 6 (64 KiB and above); 620..675
//   700               bench_app pipeline
//   701 + log2(kv_kb / 256)  bench_app kv (256, 1024 KiB: 701, 703)
//   720 + log2(kb/4)  bench_fault first_touch (4 KiB..64 MiB: 720..734)
//   740 + log2(kb/4)  bench_fault cow (740..754); 760: bench_fault protfault
//   800 + 8*log2(W/4) + log10(N)  bench_mix, W KiB (4..16384: 13 buckets), a system call
//                     every N accesses (1..100000: 6 buckets); 800..903
//   1000 + case       bench_lebench, one id per case (1000..1063)
//   1100 + harts-1    bench_getpid_harts, harts busy (1..8: 1100..1107)
//   1120 + 8*b + r    bench_shootdown, b = 0, 1, 2 for 1, 16, 256 pages, r remote harts (1120..1143)
//   1150 + cross      bench_pingpong_harts, 0 same hart, 1 cross hart
//   1160              bench_storm
//   1170 + clients-1  bench_kv_harts (1..8 clients: 1170..1177)
// Parameters that are not powers of two share the id of the power of two below them, more
// than 8 processes share p = 8, and working sets above 16 MiB share bucket 15.
#pragma once

#include "user.hpp"

// ---------------------------------------------------------------- failing
// A wrong result: the harness treats the whole run as an error.
[[noreturn]] __attribute__((format(printf, 1, 2))) inline void bench_fail(const char* fmt, ...) {
  char reason[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  printf("@bench-error %s\n", reason);
  exit(1);
}

// argv[i] as a number >= min, or dflt when absent.
inline long bench_arg(int argc, char** argv, int i, long dflt, long min = 1) {
  if (i >= argc) return dflt;
  long v = atol(argv[i]);
  if (v < min || (v == 0 && strcmp(argv[i], "0") != 0))
    bench_fail("bad argument %d '%s' (want an integer >= %ld)", i, argv[i], min);
  return v;
}

// floor(log2(x)) for x >= 1.
inline int ilog2(unsigned long x) {
  int n = 0;
  while (x > 1) {
    x >>= 1;
    n++;
  }
  return n;
}

// Blocking I/O on pipes that must move exactly n bytes (a short or failed call fails the run).
inline void bench_read_exact(int fd, void* buf, long n) {
  char* p = static_cast<char*>(buf);
  while (n > 0) {
    long r = read(fd, p, n);
    if (r <= 0) bench_fail("read of %ld bytes returned %ld", n, r);
    p += r, n -= r;
  }
}
inline void bench_write_exact(int fd, const void* buf, long n) {
  long r = write(fd, buf, n);
  if (r != n) bench_fail("write of %ld bytes returned %ld", n, r);
}

// ---------------------------------------------------------------- TLB regions with a runtime id
// TLB_REGION_BEGIN needs its id as an immediate, so a runtime offset selects one of 64
// compiled-in markers: region_begin<BASE>(off) opens region BASE + off (off clamped to 0..63).
#define BENCH_RB_CASE(n) \
  case n:                \
    TLB_REGION_BEGIN(BASE + n); \
    break;
#define BENCH_RB_8(n)                                                                    \
  BENCH_RB_CASE(n) BENCH_RB_CASE(n + 1) BENCH_RB_CASE(n + 2) BENCH_RB_CASE(n + 3)        \
  BENCH_RB_CASE(n + 4) BENCH_RB_CASE(n + 5) BENCH_RB_CASE(n + 6) BENCH_RB_CASE(n + 7)

template <int BASE>
inline void region_begin(int off) {
  static_assert(BASE >= 1 && BASE + 63 <= 2047, "region ids are 1..2047");
  if (off < 0) off = 0;
  if (off > 63) off = 63;
  switch (off) {
    BENCH_RB_8(0) BENCH_RB_8(8) BENCH_RB_8(16) BENCH_RB_8(24)
    BENCH_RB_8(32) BENCH_RB_8(40) BENCH_RB_8(48) BENCH_RB_8(56)
  }
}

// ---------------------------------------------------------------- samples
struct Sample {
  uint64_t time;   // rdtime
  uint64_t insns;  // rdinstret
  Counters c;      // this process's kernel counters
};

// The measurement's own cost (an empty begin/end pair), subtracted from every result.
inline Sample g_bench_overhead;
inline uint64_t g_timebase_hz = 10000000;

inline Counters self_counters() {
  KernelStats s;
  if (stats(&s) != 0) bench_fail("stats() failed");
  return s.self;
}

// Counters first, clocks last, so that the stats call stays outside the timed span.
inline void sample_begin(Sample& s) {
  s.c = self_counters();
  s.insns = rdinstret();
  s.time = rdtime();
}

inline void sample_end(Sample& s) {
  s.time = rdtime();
  s.insns = rdinstret();
  s.c = self_counters();
}

// Sleep until the next timer tick: the measurement then starts a full tick before the next
// timer interrupt.
inline void bench_align() { sleep_ns(1); }

inline void bench_begin(Sample& s) {
  bench_align();
  sample_begin(s);
}

inline void bench_end(Sample& s) { sample_end(s); }

inline uint64_t sfences(const Counters& c) { return c.sfence_all + c.sfence_asid + c.sfence_addr; }

inline void bench_init() {
  KernelStats s;
  if (stats(&s) != 0) bench_fail("stats() failed");
  if (s.timebase_hz == 0) bench_fail("stats() reports timebase_hz 0");
  g_timebase_hz = s.timebase_hz;
  // The smallest of a few empty measurements (an interrupt could inflate one).
  for (int i = 0; i < 4; i++) {
    Sample a, b;
    bench_begin(a);
    bench_end(b);
    Sample d;
    d.time = b.time - a.time;
    d.insns = b.insns - a.insns;
    d.c.traps = b.c.traps - a.c.traps;
    d.c.satp_writes = b.c.satp_writes - a.c.satp_writes;
    d.c.sfence_all = sfences(b.c) - sfences(a.c);
    d.c.context_switches = b.c.context_switches - a.c.context_switches;
    Sample& o = g_bench_overhead;
    if (i == 0 || d.time < o.time) o.time = d.time;
    if (i == 0 || d.insns < o.insns) o.insns = d.insns;
    if (i == 0 || d.c.traps < o.c.traps) o.c.traps = d.c.traps;
    if (i == 0 || d.c.satp_writes < o.c.satp_writes) o.c.satp_writes = d.c.satp_writes;
    if (i == 0 || d.c.sfence_all < o.c.sfence_all) o.c.sfence_all = d.c.sfence_all;
    if (i == 0 || d.c.context_switches < o.c.context_switches)
      o.c.context_switches = d.c.context_switches;
  }
}

// ---------------------------------------------------------------- printing
// value / ops with three decimals ("12.345"), from integers.
inline void fmt_per_op(char* buf, size_t size, int64_t value, uint64_t ops) {
  bool neg = value < 0;
  uint64_t v = neg ? (uint64_t)-value : (uint64_t)value;
  uint64_t milli = ops ? (v / ops) * 1000 + (v % ops) * 1000 / ops : 0;
  snprintf(buf, size, "%s%lu.%03lu", neg ? "-" : "", milli / 1000, milli % 1000);
}

// rdtime ticks to nanoseconds (split so the product cannot overflow).
inline uint64_t ticks_to_ns(uint64_t ticks) {
  return ticks / g_timebase_hz * 1000000000ul + ticks % g_timebase_hz * 1000000000ul / g_timebase_hz;
}

// Deltas b - a with the measurement overhead removed.
struct Deltas {
  int64_t ns, insns, satp, sfence, traps, switches;
};

inline Deltas bench_deltas(const Sample& a, const Sample& b) {
  const Sample& o = g_bench_overhead;
  Deltas d;
  d.ns = (int64_t)ticks_to_ns(b.time - a.time) - (int64_t)ticks_to_ns(o.time);
  d.insns = (int64_t)(b.insns - a.insns) - (int64_t)o.insns;
  d.satp = (int64_t)(b.c.satp_writes - a.c.satp_writes) - (int64_t)o.c.satp_writes;
  d.sfence = (int64_t)(sfences(b.c) - sfences(a.c)) - (int64_t)o.c.sfence_all;
  d.traps = (int64_t)(b.c.traps - a.c.traps) - (int64_t)o.c.traps;
  d.switches = (int64_t)(b.c.context_switches - a.c.context_switches) -
               (int64_t)o.c.context_switches;
  return d;
}

// Print the @bench line. Time and instructions are divided by `ops`, this process's counters
// by `counter_ops` (they differ only for bench_ctx, where the parent measures its own counters
// over its own passes). `extra` is either empty or more JSON members starting with a comma.
inline void bench_report_deltas(const char* name, const char* params, uint64_t ops,
                                uint64_t counter_ops, const Deltas& d, const char* extra = "") {
  char ns[32], insns[32], satp[32], sfence[32], traps[32], switches[32];
  fmt_per_op(ns, sizeof ns, d.ns, ops);
  fmt_per_op(insns, sizeof insns, d.insns, ops);
  fmt_per_op(satp, sizeof satp, d.satp, counter_ops);
  fmt_per_op(sfence, sizeof sfence, d.sfence, counter_ops);
  fmt_per_op(traps, sizeof traps, d.traps, counter_ops);
  fmt_per_op(switches, sizeof switches, d.switches, counter_ops);
  printf("@bench {\"bench\":\"%s\",\"params\":%s,\"iters\":%lu,\"ns_per_op\":%s,"
         "\"insns_per_op\":%s,\"satp_per_op\":%s,\"sfence_per_op\":%s,\"traps_per_op\":%s,"
         "\"switches_per_op\":%s%s,\"check\":\"ok\"}\n",
         name, params, ops, ns, insns, satp, sfence, traps, switches, extra);
}

inline void bench_report(const char* name, const char* params, uint64_t ops, uint64_t counter_ops,
                         const Sample& a, const Sample& b, const char* extra = "") {
  bench_report_deltas(name, params, ops, counter_ops, bench_deltas(a, b), extra);
}

// The process's page-table pages now (the harness keeps the largest value it sees).
inline void bench_mem() {
  KernelStats s;
  if (stats(&s) != 0) bench_fail("stats() failed");
  printf("@mem {\"pt_pages\":%lu,\"pt_pages_kernel\":%lu}\n", s.self.pt_pages,
         s.self.pt_pages_kernel);
}
