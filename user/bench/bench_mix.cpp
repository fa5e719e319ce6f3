// bench_mix [accesses] [ws_kb...]: a memory-bound loop with a system call every N accesses, the
// surface on which the KPTI literature shows the cost of separate kernel tables: the loop
// reads one word per 64-byte line of a W KiB working set, cyclically, and calls getpid after
// every N reads. W = 4 KiB .. 16 MiB (default 4 64 1024 16384), N = 1, 10, ..., 100000. Per
// access; with the TLB model the misses per access show how much of the working set each
// system call costs (scheme 1 without ASIDs loses it all at every call).
//
// The harness's declaration of this benchmark (harness/benchspec.py reads it; TOML after `//!`):
//! [bench_mix]
//! regions = "800 + 8*log2(W/4) + log10(N) (800..903)"
//! arguments = "accesses (100000), ws_kb... (4 64 1024 16384)"
//! op = "a read per 64-byte line of the working set, with a `getpid` every N reads, N = 1 .. 100000"
//! params = "`ws_kb`, `every`"
//! checks = "the sum of what was read"
//! args = ["100000", "4", "64", "1024", "16384"]
//! quick = ["2000", "4", "64", "1024"]
//! lines = 24
//! quick_lines = 18
//! wall = false
//! [bench_mix.tlb]
//! args = ["20000", "64", "256"]
//! quick = ["2000", "64"]
//! lines = 12
//! quick_lines = 6
#include "bench.hpp"

using namespace uapi;

constexpr int REGION = 800;  // + 8 * log2(W / 4) + log10(N)
constexpr long LINE = 64;

int main(int argc, char** argv) {
  long accesses = bench_arg(argc, argv, 1, 100000);
  static const long default_ws[] = {4, 64, 1024, 16384};
  long ws[16];
  int n = 0;
  for (int i = 2; i < argc && n < 16; i++) ws[n++] = bench_arg(argc, argv, i, 4, 4);
  if (n == 0)
    for (long w : default_ws) ws[n++] = w;
  bench_init();
  for (int w = 0; w < n; w++) {
    long bytes = ws[w] * 1024;
    long m = mmap(nullptr, (size_t)bytes, PROT_READ | PROT_WRITE);
    if (m < 0) bench_fail("bench_mix: mmap of %ld KiB failed (%ld)", ws[w], m);
    long lines = bytes / LINE;
    for (long l = 0; l < lines; l++) *(volatile long*)(m + l * LINE) = l;
    int decade = 0;
    for (long every = 1; every <= 100000; every *= 10, decade++) {
      long sum = 0, line = 0, calls = 0;
      Sample a, b;
      bench_begin(a);
      int off = 8 * ilog2((unsigned long)(ws[w] / 4)) + decade;  // 0..101: two blocks of 64 ids
      if (off < 64) region_begin<REGION>(off);
      else region_begin<REGION + 64>(off - 64);
      for (long i = 0, k = 0; i < accesses; i++) {
        sum += *(volatile long*)(m + line * LINE);
        if (++line == lines) line = 0;
        if (++k == every) {
          k = 0;
          getpid();
          calls++;
        }
      }
      TLB_REGION_END();
      bench_end(b);
      // The sum of the line indices read, computed independently.
      long full = accesses / lines, rest = accesses % lines;
      long want = full * (lines * (lines - 1) / 2) + rest * (rest - 1) / 2;
      if (sum != want) bench_fail("bench_mix: read sum %ld, want %ld", sum, want);
      char params[64];
      snprintf(params, sizeof params, "{\"ws_kb\":%ld,\"every\":%ld}", ws[w], every);
      bench_report("bench_mix", params, (uint64_t)accesses, (uint64_t)accesses, a, b);
    }
    munmap((void*)m, (size_t)bytes);
  }
  bench_mem();
  return 0;
}
