// bench_fork [iters]: process creation and teardown. Each op is fork, the child's immediate
// exit, and the parent's waitpid: a new page table (and in scheme 3 a new kernel slot), a copy
// of the address space, two switches and the reaping.
#include "bench.hpp"

constexpr int REGION = 20;

int main(int argc, char** argv) {
  long iters = bench_arg(argc, argv, 1, 200);
  bench_init();
  for (int i = 0; i < 3; i++) {  // warm up
    long pid = fork();
    if (pid == 0) exit(0);
    if (pid < 0) bench_fail("bench_fork: fork failed (%ld)", pid);
    waitpid(pid, nullptr, 0);
  }

  Sample a, b;
  long bad = 0, failed_fork = 0;
  bench_begin(a);
  TLB_REGION_BEGIN(REGION);
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
  bench_report("bench_fork", "{}", iters, iters, a, b);
  bench_mem();
  return 0;
}
