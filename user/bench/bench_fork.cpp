// bench_fork [iters] [touched_kb...]: process creation and teardown. Each op is fork, the
// child's immediate exit, and the parent's waitpid: a new page table (and in scheme 3 a new
// kernel slot), a copy of the address space (or, with CONFIG_FORK_COW, a read-only share of
// it), two switches and the reaping. Without touched_kb one line with params {}; with them,
// one line per size in which the parent first touched that many KiB of fresh memory
// (lmbench lat_proc fork with a larger process: 64 KiB to 16 MiB shows eager copy against
// copy-on-write), each with a quarter of the iterations.
//
// The harness's declaration of this benchmark (harness/benchspec.py reads it; TOML after `//!`):
//! [bench_fork]
//! wall = false  # wall time only for bench_null and bench_ctx (reported, never ranked)
//! regions = "20"
//! arguments = "iters (200), touched_kb..."
//! op = "fork + child exit + waitpid; with sizes, after the parent touched that much memory (a quarter of the iterations each)"
//! params = "`{}` or `touched_kb`"
//! checks = "exit statuses"
//! args = ["200"]
//! quick = ["5"]
//! [bench_fork_sizes]
//! wall = false  # wall time only for bench_null and bench_ctx (reported, never ranked)
//! arguments = "iters (40), touched_kb... (64 .. 16384)"
//! op = "`bench_fork` after the parent touched `touched_kb` KiB: eager copy against copy-on-write"
//! params = "`touched_kb`"
//! checks = "exit statuses"
//! regions = "50 + log2(touched_kb/4) (50..62)"
//! program = "bench_fork"
//! args = ["40", "64", "256", "1024", "4096", "16384"]
//! quick = ["8", "64", "1024"]
//! lines = 5
//! quick_lines = 2
//! paging = true
#include "bench.hpp"

using namespace uapi;

constexpr int REGION = 20;        // the plain run
constexpr int REGION_SIZED = 50;  // + log2(touched_kb / 4)

// `iters` forks, each child exiting at once with a status the parent checks; region -1: the
// plain run's id, else REGION_SIZED + region.
static void forks(long iters, const char* params, int region) {
  for (int i = 0; i < 3; i++) {  // warm up
    long pid = fork();
    if (pid == 0) exit(0);
    if (pid < 0) bench_fail("bench_fork: fork failed (%ld)", pid);
    waitpid(pid, nullptr, 0);
  }
  Sample a, b;
  long bad = 0, failed_fork = 0;
  bench_begin(a);
  if (region < 0) TLB_REGION_BEGIN(REGION);
  else region_begin<REGION_SIZED>(region);
  for (long i = 0; i < iters; i++) {
    long pid = fork();
    if (pid == 0) exit((int)(i & 0x7f));
    if (pid < 0) {
      failed_fork = pid;
      break;
    }
    int st = -1;
    if (waitpid(pid, &st, 0) != pid || st != (int)(i & 0x7f)) bad++;
  }
  TLB_REGION_END();
  bench_end(b);
  if (failed_fork) bench_fail("bench_fork: fork failed (%ld)", failed_fork);
  if (bad) bench_fail("bench_fork: %ld children were not reaped with their exit status", bad);
  bench_report("bench_fork", params, iters, iters, a, b);
}

int main(int argc, char** argv) {
  long iters = bench_arg(argc, argv, 1, 200);
  bench_init();
  if (argc <= 2) {
    forks(iters, "{}", -1);
  }
  for (int i = 2; i < argc; i++) {
    long kb = bench_arg(argc, argv, i, 64, 4);
    long bytes = kb * 1024;
    long m = mmap(nullptr, (size_t)bytes, PROT_READ | PROT_WRITE);
    if (m < 0) bench_fail("bench_fork: mmap of %ld KiB failed (%ld)", kb, m);
    for (long off = 0; off < bytes; off += 4096) *(volatile long*)(m + off) = off;
    char params[48];
    snprintf(params, sizeof params, "{\"touched_kb\":%ld}", kb);
    forks(iters / 4 + 1, params, ilog2((unsigned long)(kb / 4)));
    munmap((void*)m, (size_t)bytes);
  }
  bench_mem();
  return 0;
}
