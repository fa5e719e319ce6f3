// bench_mmap [iters] [max_pages]: mapping memory. Each op maps N pages (populated and
// zero-filled by the kernel), touches each page once (checking it is zero) and unmaps them,
// for N = 1, 2, 4 ... max_pages (default 1024). munmap is where TLB shootdown policy shows:
// sfence.vma per page, per ASID, or everything.
//
// The harness's declaration of this benchmark (harness/benchspec.py reads it; TOML after `//!`):
//! [bench_mmap]
//! wall = false  # wall time only for bench_null and bench_ctx (reported, never ranked)
//! regions = "300 + log2(N) (300..310)"
//! arguments = "iters (50), max pages (1024)"
//! op = "mmap N pages, touch each, munmap, N = 1..1024"
//! params = "`pages`"
//! checks = "zero fill, checksum"
//! args = ["50"]
//! quick = ["3"]
#include "bench.hpp"

using namespace uapi;

constexpr int REGION_BASE = 300;  // + log2(N)
constexpr long PAGE = 4096;

int main(int argc, char** argv) {
  long iters = bench_arg(argc, argv, 1, 50);
  long max_pages = bench_arg(argc, argv, 2, 1024);
  bench_init();

  for (long pages = 1; pages <= max_pages; pages *= 2) {
    size_t len = (size_t)(pages * PAGE);
    long warm = mmap(nullptr, len, PROT_READ | PROT_WRITE);  // warm up (page tables exist after)
    if (warm < 0) bench_fail("bench_mmap: mmap of %ld pages failed (%ld)", pages, warm);
    munmap((void*)warm, len);

    Sample a, b;
    long failed = 0, nonzero = 0, sum = 0;
    bench_begin(a);
    region_begin<REGION_BASE>(ilog2((unsigned long)pages));
    for (long i = 0; i < iters; i++) {
      long addr = mmap(nullptr, len, PROT_READ | PROT_WRITE);
      if (addr < 0) {
        failed = addr;
        break;
      }
      for (long p = 0; p < pages; p++) {
        volatile long* w = (volatile long*)(addr + p * PAGE + (p * 64) % PAGE);
        nonzero += *w != 0;
        *w = p + 1;
        sum += *w;
      }
      if (munmap((void*)addr, len) != 0) {
        failed = -1;
        break;
      }
    }
    TLB_REGION_END();
    bench_end(b);

    if (failed) bench_fail("bench_mmap: %ld pages: mmap or munmap failed (%ld)", pages, failed);
    if (nonzero) bench_fail("bench_mmap: %ld pages: %ld fresh pages were not zero", pages, nonzero);
    if (sum != iters * (pages * (pages + 1) / 2))
      bench_fail("bench_mmap: %ld pages: checksum %ld wrong", pages, sum);
    char params[48];
    snprintf(params, sizeof params, "{\"pages\":%ld}", pages);
    bench_report("bench_mmap", params, iters, iters, a, b);
  }
  bench_mem();
  return 0;
}
