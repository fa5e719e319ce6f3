// bench_copy [iters]: copying between user and kernel memory. For each size from 8 bytes to
// 64 KiB (powers of two), `iters` calls of bench_echo(in, out, size), which copies the user
// buffer into a kernel buffer and back out. Scheme 1 reaches user memory through a software
// page-table walk, schemes 2 and 3 directly with SUM set.
//
// The harness's declaration of this benchmark (harness/benchspec.py reads it; TOML after `//!`):
//! [bench_copy]
//! wall = false  # wall time only for bench_null and bench_ctx (reported, never ranked)
//! regions = "100 + log2(size) (103..116)"
//! arguments = "iters (2000)"
//! op = "`bench_echo` of `size` bytes, size 8..65536 (14 lines)"
//! params = "`size`"
//! checks = "bytes come back"
//! args = ["2000"]
//! quick = ["20"]
//! lines = 14
//! quick_lines = 14
#include "bench.hpp"

constexpr int REGION_BASE = 100;  // + log2(size)
constexpr long MAX_SIZE = 65536;

static char in[MAX_SIZE];
static char out[MAX_SIZE];

int main(int argc, char** argv) {
  long iters = bench_arg(argc, argv, 1, 2000);
  bench_init();
  for (long i = 0; i < MAX_SIZE; i++) in[i] = (char)(i * 131 + (i >> 8));

  for (long size = 8; size <= MAX_SIZE; size *= 2) {
    memset(out, 0, sizeof out);
    for (int i = 0; i < 10; i++) bench_echo(in, out, (size_t)size);  // warm up
    memset(out, 0, sizeof out);

    Sample a, b;
    long total = 0;
    bench_begin(a);
    region_begin<REGION_BASE>(ilog2((unsigned long)size));
    for (long i = 0; i < iters; i++) total += bench_echo(in, out, (size_t)size);
    TLB_REGION_END();
    bench_end(b);

    if (total != iters * size)
      bench_fail("bench_copy: size %ld: bench_echo returned %ld bytes in all, want %ld", size,
                 total, iters * size);
    if (memcmp(in, out, (size_t)size) != 0 || (size < MAX_SIZE && out[size] != 0))
      bench_fail("bench_copy: size %ld: the bytes did not come back intact", size);
    char params[48];
    snprintf(params, sizeof params, "{\"size\":%ld}", size);
    bench_report("bench_copy", params, iters, iters, a, b);
  }
  bench_mem();
  return 0;
}
