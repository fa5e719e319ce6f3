// bench_ctx [iters] [procs] [ws_kb...]: process-switch cost, in the style of lmbench's lat_ctx.
//
// `procs` processes (default 2) form a ring: each in turn touches its own working set of
// ws_kb KiB (one load per 64-byte line) and yields, and the round-robin scheduler hands the
// CPU to the next one. The parent measures `iters` of its passes; every pass of every process
// is one switch, so time and instructions are reported per switch (iters * procs ops). The
// counters are the parent's own, per pass: by symmetry the cost of one switch into a process.
//
// For each working set a second line with "procs":1 measures the same touching and yield
// calls in a single process, where yield finds nothing else to run: the harness subtracts it
// to get the switch alone. Working sets default to 0 4 16 64 256 KiB.
//
// The harness's declaration of this benchmark (harness/benchspec.py reads it; TOML after `//!`):
//! [bench_ctx]
//! regions = "400 + 8*b + p-1, b = 0 for 0 KiB else 1 + log2(KiB) (400..527)"
//! arguments = "iters (2000), procs (2), ws_kb... (0 4 16 64 256)"
//! op = "one switch in a ring of `procs` processes that each touch `ws_kb` KiB and `yield`; plus a `procs: 1` line per working set (same work, no switch)"
//! params = "`procs`, `ws_kb`"
//! checks = "working-set sums"
//! args = ["2000", "2", "0", "4", "16", "64", "256"]
//! quick = ["50", "2", "0", "16"]
//! lines = 5
//! quick_lines = 2
//! [bench_ctx.tlb]
//! args = ["200", "2", "0", "16"]
//! quick = ["20", "2", "0"]
//! lines = 4
//! quick_lines = 2
#include "bench.hpp"

using namespace uapi;

constexpr int REGION_BASE = 400;  // + 8 * ws bucket + procs - 1 (see bench.hpp)
constexpr long PAGE = 4096;
constexpr long LINE_WORDS = 64 / sizeof(long);
constexpr long MAX_PROCS = 64;

// One pass: read one word per cache line of the working set; returns the sum.
static long touch(const volatile long* ws, long words) {
  long sum = 0;
  for (long i = 0; i < words; i += LINE_WORDS) sum += ws[i];
  return sum;
}

static void region_for(long procs, long ws_kb) {
  int bucket = ws_kb == 0 ? 0 : 1 + ilog2((unsigned long)ws_kb);
  if (bucket > 15) bucket = 15;
  int p = (int)(procs > 8 ? 8 : procs);
  int off = 8 * bucket + p - 1;  // 0..127: two blocks of 64 ids
  if (off < 64) region_begin<REGION_BASE>(off);
  else region_begin<REGION_BASE + 64>(off - 64);
}

// Measure `iters` passes of the calling process (the ring is already running when procs > 1).
static void measure(long iters, long procs, long ws_kb, const volatile long* ws, long words,
                    long expect) {
  long warm = iters / 10 + 10;
  long bad = 0;
  for (long i = 0; i < warm; i++) {
    bad += touch(ws, words) != expect;
    yield();
  }
  Sample a, b;
  // No bench_begin here: sleeping to align with the tick would let the rest of the ring run on
  // without us and use up its passes.
  sample_begin(a);
  region_for(procs, ws_kb);
  for (long i = 0; i < iters; i++) {
    bad += touch(ws, words) != expect;
    yield();
  }
  TLB_REGION_END();
  bench_end(b);
  if (bad) bench_fail("bench_ctx: %ld passes read a wrong working-set sum", bad);
  char params[64];
  snprintf(params, sizeof params, "{\"procs\":%ld,\"ws_kb\":%ld}", procs, ws_kb);
  bench_report("bench_ctx", params, (uint64_t)(iters * procs), (uint64_t)iters, a, b);
}

int main(int argc, char** argv) {
  long iters = bench_arg(argc, argv, 1, 2000);
  long procs = bench_arg(argc, argv, 2, 2);
  if (procs > MAX_PROCS) bench_fail("bench_ctx: at most %ld processes", MAX_PROCS);
  static long default_ws[] = {0, 4, 16, 64, 256};
  long ws_list[32];
  int n_ws = 0;
  if (argc > 3) {
    for (int i = 3; i < argc && n_ws < 32; i++) ws_list[n_ws++] = bench_arg(argc, argv, i, 0, 0);
  } else {
    for (long w : default_ws) ws_list[n_ws++] = w;
  }
  bench_init();

  for (int w = 0; w < n_ws; w++) {
    long ws_kb = ws_list[w];
    long bytes = ws_kb * 1024;
    long words = bytes / (long)sizeof(long);
    // Each process works on its own copy: fork copies this mapping.
    long ws = 0;
    if (bytes > 0) {
      ws = mmap(nullptr, (size_t)bytes, PROT_READ | PROT_WRITE);
      if (ws < 0) bench_fail("bench_ctx: mmap of %ld KiB failed (%ld)", ws_kb, ws);
      for (long i = 0; i < words; i++) ((long*)ws)[i] = i;
    }
    long expect = touch((const volatile long*)ws, words);

    // The ring: procs - 1 children that pass the CPU on for longer than the parent measures.
    long kids[MAX_PROCS];
    long child_passes = 2 * (iters / 10 + 10) + iters + 64;
    for (long k = 0; k < procs - 1; k++) {
      kids[k] = fork();
      if (kids[k] < 0) bench_fail("bench_ctx: fork failed (%ld)", kids[k]);
      if (kids[k] == 0) {
        long bad = 0;
        for (long i = 0; i < child_passes; i++) {
          bad += touch((const volatile long*)ws, words) != expect;
          yield();
        }
        exit(bad ? 1 : 0);
      }
    }
    measure(iters, procs, ws_kb, (const volatile long*)ws, words, expect);
    for (long k = 0; k < procs - 1; k++) {
      int st = -1;
      if (waitpid(kids[k], &st, 0) != kids[k] || st != 0)
        bench_fail("bench_ctx: ring process %ld failed (status %d)", k, st);
    }

    // The same work in one process: the overhead to subtract.
    if (procs > 1) measure(iters, 1, ws_kb, (const volatile long*)ws, words, expect);
    if (ws) munmap((void*)ws, (size_t)bytes);
  }
  bench_mem();
  return 0;
}
