// bench_tlb [iters] [max_pages]: TLB pollution by a system call. Each iteration touches K
// distinct pages (one load each) and then makes one getpid call, for K = 1, 2, 4 ... max_pages
// (default 1024). A design that flushes the TLB on every trap (scheme 1 without ASIDs) makes
// every one of the K loads miss again; the cost per iteration against K shows it. Under QEMU
// the architectural effect shows in the TLB model (region markers), not in wall time.
//
// The harness's declaration of this benchmark (harness/benchspec.py reads it; TOML after `//!`):
//! [bench_tlb]
//! wall = false  # wall time only for bench_null and bench_ctx (reported, never ranked)
//! regions = "200 + log2(K) (200..210)"
//! arguments = "iters (200), max pages (1024)"
//! op = "touch K pages + one `getpid`, K = 1..1024"
//! params = "`pages`"
//! checks = "checksum"
//! args = ["200"]
//! quick = ["5"]
//! [bench_tlb.tlb]
//! args = ["20"]
//! quick = ["3"]
//! lines = 11
//! quick_lines = 11
#include "bench.hpp"

using namespace uapi;

constexpr int REGION_BASE = 200;  // + log2(K)
constexpr long PAGE = 4096;

int main(int argc, char** argv) {
  long iters = bench_arg(argc, argv, 1, 200);
  long max_pages = bench_arg(argc, argv, 2, 1024);
  bench_init();

  long base = mmap(nullptr, (size_t)(max_pages * PAGE), PROT_READ | PROT_WRITE);
  if (base < 0) bench_fail("bench_tlb: mmap of %ld pages failed (%ld)", max_pages, base);
  // One word per page, at a different offset in each page so they use different cache lines.
  auto word = [base](long k) { return (volatile long*)(base + k * PAGE + (k * 64) % PAGE); };
  for (long k = 0; k < max_pages; k++) *word(k) = k + 1;
  long pid = getpid();

  for (long pages = 1; pages <= max_pages; pages *= 2) {
    for (long k = 0; k < pages; k++) (void)*word(k);  // warm up

    Sample a, b;
    long sum = 0, pids = 0;
    bench_begin(a);
    region_begin<REGION_BASE>(ilog2((unsigned long)pages));
    for (long i = 0; i < iters; i++) {
      for (long k = 0; k < pages; k++) sum += *word(k);
      pids += getpid();
    }
    TLB_REGION_END();
    bench_end(b);

    long want = iters * (pages * (pages + 1) / 2);
    if (sum != want) bench_fail("bench_tlb: %ld pages: checksum %ld, want %ld", pages, sum, want);
    if (pids != iters * pid) bench_fail("bench_tlb: %ld pages: getpid sum wrong", pages);
    char params[48];
    snprintf(params, sizeof params, "{\"pages\":%ld}", pages);
    bench_report("bench_tlb", params, iters, iters, a, b);
  }
  bench_mem();
  return 0;
}
