// bench_getpid_harts [iters]: the null system call on 1..N harts at once, one thread pinned to
// each hart, all calling getpid in a loop. The kernel's null path takes no lock, so the
// instructions per call on each hart should not grow with the number of busy harts (issue 17:
// within 5 instructions of the one-hart figure).
//
// insns_per_op: instructions per call per hart, averaged over the busy harts (each thread reads
// its own hart's rdinstret around its loop, and repeats a loop that took an interrupt); extra keys insns_per_op_min / insns_per_op_max over
// the harts. ns_per_op: the slowest hart's time per call (QEMU wall time). The counters
// (traps, satp, ...) are the process's, per call summed over all threads.
//
//! [bench_getpid_harts]
//! regions = "1100 + harts - 1 (1100..1107)"
//! arguments = "iters (100000)"
//! op = "`getpid` on each of `harts` harts"
//! params = "`harts` (1..online); extra `insns_per_op_min`, `insns_per_op_max`"
//! checks = "sum of pids per thread"
//! args = ["100000"]
//! quick = ["2000"]
//! harts = true
//! wall = false
//! [bench_getpid_harts.tlb]
//! args = ["2000"]
//! quick = ["200"]
#include "harts.hpp"

constexpr int REGION = 1100;

struct Worker {
  long hart;
  long iters;
  volatile long* ready;
  long busy;          // threads in this round
  uint64_t insns, ticks;
  long sum;
};

static long worker(void* arg) {
  auto* w = (Worker*)arg;
  pin(w->hart);
  for (long i = 0; i < 1000; i++) getpid();  // warm up on this hart
  barrier(w->ready, w->busy);
  // The null call's own cost: a loop in which this thread took an interrupt (its timer tick,
  // or an IPI) counts the interrupt's work too, so it is measured again (at most 20 times;
  // the counters are this thread's own).
  long sum = 0;
  uint64_t i0 = 0, i1 = 0, t0 = 0, t1 = 0;
  for (int attempt = 0; attempt < 20; attempt++) {
    uint64_t irq0 = self_counters().interrupts;
    sum = 0;
    i0 = rdinstret(), t0 = rdtime();
    region_begin<REGION>((int)w->busy - 1);
    for (long i = 0; i < w->iters; i++) sum += getpid();
    TLB_REGION_END();
    t1 = rdtime(), i1 = rdinstret();
    if (self_counters().interrupts == irq0) break;
  }
  w->insns = i1 - i0;
  w->ticks = t1 - t0;
  w->sum = sum;
  return 0;
}

int main(int argc, char** argv) {
  long iters = bench_arg(argc, argv, 1, 100000);
  bench_init();
  long n = harts_online();
  long pid = getpid();
  static Worker w[MAX_HARTS];
  for (long busy = 1; busy <= n; busy++) {
    static volatile long ready;
    ready = 0;
    long tids[MAX_HARTS];
    Counters c0 = self_counters();
    for (long h = 0; h < busy; h++) {
      w[h] = Worker{h, iters, &ready, busy, 0, 0, 0};
      tids[h] = spawn(worker, &w[h]);
    }
    for (long h = 0; h < busy; h++) join_ok(tids[h]);
    Counters c1 = self_counters();
    uint64_t total = 0, lo = ~0ul, hi = 0, ticks = 0;
    for (long h = 0; h < busy; h++) {
      if (w[h].sum != iters * pid) bench_fail("hart %ld: sum of getpid = %ld, want %ld", h, w[h].sum, iters * pid);
      total += w[h].insns;
      if (w[h].insns < lo) lo = w[h].insns;
      if (w[h].insns > hi) hi = w[h].insns;
      if (w[h].ticks > ticks) ticks = w[h].ticks;
    }
    // The counters span the threads' creation and warm-up too: 1000 warm-up calls, the
    // barrier's yields and the pin; only the loop's calls are counted as ops, so traps_per_op
    // is a little above 1 and says that the loop itself made no extra trap only approximately.
    Deltas d;
    uint64_t ops = (uint64_t)(busy * iters);
    d.ns = (int64_t)ticks_to_ns(ticks) * busy;  // per call on the slowest hart, after / ops
    d.insns = (int64_t)total;
    d.satp = (int64_t)(c1.satp_writes - c0.satp_writes);
    d.sfence = (int64_t)(sfences(c1) - sfences(c0));
    d.traps = (int64_t)(c1.traps - c0.traps);
    d.switches = (int64_t)(c1.context_switches - c0.context_switches);
    char params[32], extra[96], mn[32], mx[32];
    snprintf(params, sizeof params, "{\"harts\":%ld}", busy);
    fmt_per_op(mn, sizeof mn, (int64_t)lo, (uint64_t)iters);
    fmt_per_op(mx, sizeof mx, (int64_t)hi, (uint64_t)iters);
    snprintf(extra, sizeof extra, ",\"insns_per_op_min\":%s,\"insns_per_op_max\":%s", mn, mx);
    bench_report_deltas("bench_getpid_harts", params, ops, ops, d, extra);
  }
  bench_mem();
  return 0;
}
