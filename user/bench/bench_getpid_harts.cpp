// bench_getpid_harts [iters]: the null system call on 1..N harts at once, one thread pinned to
// each hart, all calling getpid in a loop. The kernel's null path takes no lock, so the
// instructions per call on each hart should not grow with the number of busy harts (issue 17:
// within 5 instructions of the one-hart figure).
//
// Why rounds, and why the minimum. Under -icount QEMU's rdinstret is the machine's instruction
// count, not the hart's: the vCPUs run in turn on one host thread, and a loop during which QEMU
// hands the thread to another hart counts that hart's instructions too (so does a loop that
// took an interrupt). Each thread therefore runs its calls in rounds of ROUND calls, each
// timed with rdinstret, and keeps the smallest round. Every round's count is at least the
// calls' own instructions, so the minimum is an upper bound on them, and equal to them
// whenever one round ran within one turn without an interrupt (rounds are short, turns long).
//
// insns_per_op: that per-call figure averaged over the busy harts; extra keys
// insns_per_op_min / insns_per_op_max over the harts. ns_per_op: the slowest hart's time per
// call over all its rounds; the harness keeps it from the runs without -icount only (3 of
// them), as QEMU wall time, and their instruction figures not at all (rdinstret then reads
// host ticks). The counters (traps, satp, ...) are the process's, per call summed over all
// threads.
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
//! wall_reps = 3
//! [bench_getpid_harts.tlb]
//! args = ["2000"]
//! quick = ["200"]
#include "harts.hpp"

constexpr int REGION = 1100;

constexpr long ROUND = 200;  // calls per timed round (~21,000 instructions)

struct Worker {
  long hart;
  long rounds, per_round;
  volatile long* ready;
  long busy;          // threads in this round
  uint64_t best;      // instructions of the smallest round
  uint64_t ticks;     // rdtime over all rounds
  long sum;
};

static long worker(void* arg) {
  auto* w = (Worker*)arg;
  pin(w->hart);
  for (long i = 0; i < 1000; i++) getpid();  // warm up on this hart
  barrier(w->ready, w->busy);
  long sum = 0;
  uint64_t best = ~0ul;
  uint64_t t0 = rdtime();
  region_begin<REGION>((int)w->busy - 1);
  for (long r = 0; r < w->rounds; r++) {
    uint64_t i0 = rdinstret();
    for (long i = 0; i < w->per_round; i++) sum += getpid();
    uint64_t i1 = rdinstret();
    if (i1 - i0 < best) best = i1 - i0;
  }
  TLB_REGION_END();
  w->ticks = rdtime() - t0;
  w->best = best;
  w->sum = sum;
  return 0;
}

int main(int argc, char** argv) {
  long iters = bench_arg(argc, argv, 1, 100000);
  bench_init();
  long per_round = iters < ROUND ? iters : ROUND;
  long rounds = iters / per_round;
  iters = rounds * per_round;  // the calls made (a multiple of the round)
  long n = harts_online();
  long pid = getpid();
  static Worker w[MAX_HARTS];
  for (long busy = 1; busy <= n; busy++) {
    static volatile long ready;
    ready = 0;
    long tids[MAX_HARTS];
    Counters c0 = self_counters();
    for (long h = 0; h < busy; h++) {
      w[h] = Worker{h, rounds, per_round, &ready, busy, 0, 0, 0};
      tids[h] = spawn(worker, &w[h]);
    }
    for (long h = 0; h < busy; h++) join_ok(tids[h]);
    Counters c1 = self_counters();
    uint64_t total = 0, lo = ~0ul, hi = 0, ticks = 0;
    for (long h = 0; h < busy; h++) {
      if (w[h].sum != iters * pid) bench_fail("hart %ld: sum of getpid = %ld, want %ld", h, w[h].sum, iters * pid);
      total += w[h].best;
      if (w[h].best < lo) lo = w[h].best;
      if (w[h].best > hi) hi = w[h].best;
      if (w[h].ticks > ticks) ticks = w[h].ticks;
    }
    // The counters span the threads' creation and warm-up too: 1000 warm-up calls, the
    // barrier's yields and the pin; only the loop's calls are counted as ops, so traps_per_op
    // is a little above 1 and says that the loop itself made no extra trap only approximately.
    Deltas d;
    uint64_t ops = (uint64_t)(busy * iters);
    d.ns = (int64_t)ticks_to_ns(ticks) * busy;  // per call on the slowest hart, after / ops
    d.insns = (int64_t)(total * (uint64_t)rounds);  // / ops: the harts' mean of best / per_round
    d.satp = (int64_t)(c1.satp_writes - c0.satp_writes);
    d.sfence = (int64_t)(sfences(c1) - sfences(c0));
    d.traps = (int64_t)(c1.traps - c0.traps);
    d.switches = (int64_t)(c1.context_switches - c0.context_switches);
    char params[32], extra[96], mn[32], mx[32];
    snprintf(params, sizeof params, "{\"harts\":%ld}", busy);
    fmt_per_op(mn, sizeof mn, (int64_t)lo, (uint64_t)per_round);
    fmt_per_op(mx, sizeof mx, (int64_t)hi, (uint64_t)per_round);
    snprintf(extra, sizeof extra, ",\"insns_per_op_min\":%s,\"insns_per_op_max\":%s", mn, mx);
    bench_report_deltas("bench_getpid_harts", params, ops, ops, d, extra);
  }
  bench_mem();
  return 0;
}
