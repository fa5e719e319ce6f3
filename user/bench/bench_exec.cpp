// bench_exec [iters]: fork + exec of a tiny program + waitpid. The exec'd program is this one
// with `--child`, which exits at once; each op therefore builds and tears down two address
// spaces (the fork copy and the exec'd image).
//
// The harness's declaration of this benchmark (harness/benchspec.py reads it; TOML after `//!`):
//! [bench_exec]
//! wall = false  # wall time only for bench_null and bench_ctx (reported, never ranked)
//! regions = "21"
//! arguments = "iters (100)"
//! op = "fork + exec `bench_exec --child` + waitpid"
//! params = "`{}`"
//! checks = "exit statuses"
//! args = ["100"]
//! quick = ["3"]
#include "bench.hpp"

constexpr int REGION = 21;
constexpr int CHILD_STATUS = 42;

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "--child") == 0) return CHILD_STATUS;

  long iters = bench_arg(argc, argv, 1, 100);
  bench_init();
  static const char* const child_args[] = {"bench_exec", "--child", nullptr};

  long bad = 0;
  auto one = [&bad]() {
    long pid = fork();
    if (pid == 0) {
      long r = exec("bench_exec", child_args);
      exit((int)(1000 - r));  // exec failed
    }
    if (pid < 0) bench_fail("bench_exec: fork failed (%ld)", pid);
    int st = -1;
    if (waitpid(pid, &st, 0) != pid || st != CHILD_STATUS) bad++;
  };
  for (int i = 0; i < 3; i++) one();  // warm up
  if (bad) bench_fail("bench_exec: the exec'd child did not exit with %d", CHILD_STATUS);

  Sample a, b;
  bench_begin(a);
  TLB_REGION_BEGIN(REGION);
  for (long i = 0; i < iters; i++) one();
  TLB_REGION_END();
  bench_end(b);

  if (bad) bench_fail("bench_exec: %ld exec'd children did not exit with %d", bad, CHILD_STATUS);
  bench_report("bench_exec", "{}", iters, iters, a, b);
  bench_mem();
  return 0;
}
