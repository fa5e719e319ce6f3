// bench_pingpong_harts [iters]: one byte back and forth over two pipes between two threads of
// one process, both pinned to hart 0 ("same": every round trip is two context switches on one
// hart) and pinned to hart 0 and hart 1 ("cross": every round trip is two wake-ups of another
// hart, an IPI each when the other hart sleeps in wfi). The cross line needs two harts.
//
// insns_per_op: instructions retired per round trip on the harts involved: hart 0's rdinstret
// for "same" (both threads run there), the sum of both harts' for "cross" (each thread reads its
// own hart's counter around its loop). Extra key: ipis per round trip, from stats().
//
//! [bench_pingpong_harts]
//! regions = "1150 same, 1151 cross"
//! arguments = "iters (10000)"
//! op = "a 1-byte round trip between two threads over two pipes"
//! params = "`placement` (`same`, `cross`); extra `ipis`"
//! checks = "every byte comes back unchanged"
//! args = ["10000"]
//! quick = ["500"]
//! harts = true
//! wall = false
//! [bench_pingpong_harts.tlb]
//! args = ["500"]
//! quick = ["50"]
#include "harts.hpp"

constexpr int REGION = 1150;

struct Echo {
  long hart;
  int in, out;
  long iters;
  uint64_t insns;
};

static long echo(void* arg) {
  auto* e = (Echo*)arg;
  pin(e->hart);
  char c;
  uint64_t i0 = rdinstret();
  for (long i = 0; i < e->iters; i++) {
    bench_read_exact(e->in, &c, 1);
    bench_write_exact(e->out, &c, 1);
  }
  e->insns = rdinstret() - i0;
  return 0;
}

static void one_point(bool cross, long iters) {
  int to[2], back[2];
  if (pipe(to) != 0 || pipe(back) != 0) bench_fail("pipe failed");
  static Echo e;
  e = Echo{cross ? 1 : 0, to[0], back[1], iters, 0};
  pin(0);
  long tid = spawn(echo, &e);
  char c = 0, r = 0;
  for (int i = 0; i < 100; i++) yield();  // let the echo thread reach its first read
  KernelStats s0 = all_stats();
  Sample a, b;
  bench_begin(a);
  region_begin<REGION>(cross ? 1 : 0);
  for (long i = 0; i < iters; i++) {
    c = (char)i;
    bench_write_exact(to[1], &c, 1);
    bench_read_exact(back[0], &r, 1);
    if (r != c) bench_fail("round trip %ld: sent %d, got %d", i, c, r);
  }
  TLB_REGION_END();
  bench_end(b);
  KernelStats s1 = all_stats();
  join_ok(tid);
  close(to[0]), close(to[1]), close(back[0]), close(back[1]);
  Deltas d = bench_deltas(a, b);
  if (cross) d.insns += (int64_t)e.insns;
  char params[48], extra[64], ip[32];
  snprintf(params, sizeof params, "{\"placement\":\"%s\"}", cross ? "cross" : "same");
  fmt_per_op(ip, sizeof ip, (int64_t)(s1.ipis_sent - s0.ipis_sent), (uint64_t)iters);
  snprintf(extra, sizeof extra, ",\"ipis\":%s", ip);
  bench_report_deltas("bench_pingpong_harts", params, (uint64_t)iters, (uint64_t)iters, d, extra);
}

int main(int argc, char** argv) {
  long iters = bench_arg(argc, argv, 1, 10000);
  bench_init();
  one_point(false, iters);
  if (harts_online() > 1) one_point(true, iters);
  bench_mem();
  return 0;
}
