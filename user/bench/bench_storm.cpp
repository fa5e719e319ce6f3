// bench_storm [iters]: a fork/exec/exit storm on every hart: one thread pinned to each online
// hart runs `iters` rounds of fork; the child execs `bench_storm --child`, which exits at once;
// the thread waits for it. What the harts contend for: the process table, the frame allocator,
// ASIDs (and scheme 3's kernel window slots), and the shootdowns of exiting address spaces.
//
// insns_per_op: instructions retired on all harts per fork+exec+exit+wait (the sum of each
// pinned thread's hart's rdinstret over its loop, divided by all rounds; children may run on
// any hart, and each hart's count includes whatever ran there). Extra keys per round:
// remote_fences, ipis (from stats()).
//
//! [bench_storm]
//! regions = "1160"
//! arguments = "iters (100)"
//! op = "fork + exec + exit + waitpid, on every hart at once"
//! params = "`harts` (online); extra `remote_fences`, `ipis`"
//! checks = "every child exits 0 through exec"
//! args = ["100"]
//! quick = ["5"]
//! harts = true
//! wall = false
#include "harts.hpp"

constexpr int REGION = 1160;

struct Stormer {
  long hart;
  long iters;
  volatile long* ready;
  long harts;
  uint64_t insns;
  long bad;
};

static long storm(void* arg) {
  auto* s = (Stormer*)arg;
  pin(s->hart);
  barrier(s->ready, s->harts);
  uint64_t i0 = rdinstret();
  for (long i = 0; i < s->iters; i++) {
    long pid = fork();
    if (pid < 0) bench_fail("fork = %ld", pid);
    if (pid == 0) {
      const char* args[] = {"bench_storm", "--child", nullptr};
      exec("bench_storm", args);
      exit(99);  // exec failed
    }
    int st = -1;
    if (waitpid(pid, &st, 0) != pid || st != 0) s->bad++;
  }
  s->insns = rdinstret() - i0;
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--child") == 0) return 0;
  long iters = bench_arg(argc, argv, 1, 100);
  bench_init();
  long n = harts_online();
  static volatile long ready;
  static Stormer st[MAX_HARTS];
  long tids[MAX_HARTS];
  KernelStats s0 = all_stats();
  uint64_t t0 = rdtime();
  region_begin<REGION>(0);
  for (long h = 0; h < n; h++) {
    st[h] = Stormer{h, iters, &ready, n, 0, 0};
    tids[h] = spawn(storm, &st[h]);
  }
  for (long h = 0; h < n; h++) join_ok(tids[h]);
  TLB_REGION_END();
  uint64_t t1 = rdtime();
  KernelStats s1 = all_stats();
  uint64_t insns = 0;
  for (long h = 0; h < n; h++) {
    if (st[h].bad) bench_fail("hart %ld: %ld children did not exit 0", h, st[h].bad);
    insns += st[h].insns;
  }
  uint64_t ops = (uint64_t)(n * iters);
  Deltas d;
  d.ns = (int64_t)ticks_to_ns(t1 - t0);
  d.insns = (int64_t)insns;
  // this process's counters: the threads' forks and waits (children count their own)
  d.satp = (int64_t)(s1.self.satp_writes - s0.self.satp_writes);
  d.sfence = (int64_t)(sfences(s1.self) - sfences(s0.self));
  d.traps = (int64_t)(s1.self.traps - s0.self.traps);
  d.switches = (int64_t)(s1.self.context_switches - s0.self.context_switches);
  char params[32], extra[96], f[32], ip[32];
  snprintf(params, sizeof params, "{\"harts\":%ld}", n);
  fmt_per_op(f, sizeof f, (int64_t)(s1.remote_fences_sent - s0.remote_fences_sent), ops);
  fmt_per_op(ip, sizeof ip, (int64_t)(s1.ipis_sent - s0.ipis_sent), ops);
  snprintf(extra, sizeof extra, ",\"remote_fences\":%s,\"ipis\":%s", f, ip);
  bench_report_deltas("bench_storm", params, ops, ops, d, extra);
  bench_mem();
  return 0;
}
