// bench_lebench [scale]: every system call the kernel has, with small and large arguments, one
// line per case (in the spirit of LEBench, SOSP'19): @bench lines with params {"case":NAME}.
// Each case runs `iters` times (scaled by `scale`); results are checked where a call returns
// data. Calls that end or replace the process (exit, exec) run in children, as fork+call+wait.
//
// The harness's declaration of this benchmark (harness/benchspec.py reads it; TOML after `//!`):
//! [bench_lebench]
//! wall = false  # wall time only for bench_null and bench_ctx (reported, never ranked)
//! regions = "1000 + case (1000..1063)"
//! arguments = "scale (1)"
//! op = "one line per case: every system call with small and large arguments (LEBench style)"
//! params = "`case`"
//! checks = "each call's result"
//! args = ["1"]
//! quick = ["1"]
//! lines = 23
//! quick_lines = 23
#include "bench.hpp"

using namespace uapi;

constexpr int REGION = 1000;  // + case index

namespace {

int g_case = 0;
long g_scale = 1;
int g_pipe[2];
char* g_buf;  // 64 KiB, mapped once
constexpr long BIG = 65536;

template <typename F>
void run_case(const char* name, long iters, F op) {
  iters *= g_scale;
  for (long i = 0; i < 3; i++) op(i);  // warm up
  Sample a, b;
  long bad = 0;
  bench_begin(a);
  region_begin<REGION>(g_case);
  for (long i = 0; i < iters; i++) bad += !op(i);
  TLB_REGION_END();
  bench_end(b);
  if (bad) bench_fail("bench_lebench: case %s failed %ld of %ld times", name, bad, iters);
  char params[64];
  snprintf(params, sizeof params, "{\"case\":\"%s\"}", name);
  bench_report("bench_lebench", params, (uint64_t)iters, (uint64_t)iters, a, b);
  g_case++;
}

bool child_status(long pid, int want) {
  int st = -1;
  return pid > 0 && waitpid(pid, &st, 0) == pid && st == want;
}

}  // namespace

int main(int argc, char** argv) {
  g_scale = bench_arg(argc, argv, 1, 1);
  bench_init();
  long m = mmap(nullptr, BIG, PROT_READ | PROT_WRITE);
  if (m < 0 || pipe(g_pipe) != 0) bench_fail("bench_lebench: setup failed");
  g_buf = (char*)m;
  memset(g_buf, 'x', BIG);
  bool has_diag = diag(DIAG_PT_PAGES, 0) >= 0;

  run_case("getpid", 1000, [](long) { return getpid() > 0; });
  run_case("getppid", 1000, [](long) { return getppid() >= 0; });
  run_case("nosys", 1000, [](long) { return syscall6(SYS_COUNT + 5, 0, 0, 0, 0, 0, 0) == -ENOSYS; });
  run_case("yield_alone", 1000, [](long) { return yield() == 0; });
  run_case("get_time", 1000, [](long) { return get_time_ns() > 0; });
  run_case("sleep_0", 100, [](long) { return sleep_ns(0) == 0; });
  run_case("stats", 500, [](long) {
    KernelStats s;
    return stats(&s) == 0 && s.scheme >= 1;
  });
  run_case("programs", 200, [](long) { return programs(g_buf, 4096) > 0; });
  if (has_diag) run_case("diag", 1000, [](long) { return diag(DIAG_PT_PAGES, 0) > 0; });
  run_case("write_bad_fd", 1000, [](long) { return write(9, g_buf, 1) == -EBADF; });
  run_case("pipe_rw_1", 500, [](long) {
    char c;
    return write(g_pipe[1], "a", 1) == 1 && read(g_pipe[0], &c, 1) == 1 && c == 'a';
  });
  run_case("pipe_rw_4096", 200, [](long) {
    return write(g_pipe[1], g_buf, 4096) == 4096 && read(g_pipe[0], g_buf + 4096, 4096) == 4096;
  });
  run_case("pipe_close", 200, [](long) {
    int fds[2];
    return pipe(fds) == 0 && close(fds[0]) == 0 && close(fds[1]) == 0;
  });
  run_case("dup2_close", 500, [](long) { return dup2(g_pipe[0], 20) == 20 && close(20) == 0; });
  run_case("echo_8", 500, [](long) { return bench_echo(g_buf, g_buf + 8192, 8) == 8; });
  run_case("echo_65536", 50, [](long) { return bench_echo(g_buf, g_buf, BIG) == BIG; });
  run_case("mmap_munmap_1", 200, [](long) {
    long a = mmap(nullptr, 4096, PROT_READ | PROT_WRITE);
    return a > 0 && munmap((void*)a, 4096) == 0;
  });
  run_case("mmap_munmap_256", 40, [](long) {
    long a = mmap(nullptr, 256 * 4096, PROT_READ | PROT_WRITE);
    return a > 0 && munmap((void*)a, 256 * 4096) == 0;
  });
  run_case("mmap_touch_munmap_64", 20, [](long) {
    long a = mmap(nullptr, 64 * 4096, PROT_READ | PROT_WRITE);
    if (a <= 0) return false;
    for (long p = 0; p < 64; p++) *(volatile long*)(a + p * 4096) = p;
    return munmap((void*)a, 64 * 4096) == 0;
  });
  run_case("sbrk_1", 200, [](long) {
    long b = sbrk(4096);
    return b > 0 && sbrk(-4096) == b + 4096;
  });
  run_case("sbrk_256", 40, [](long) {
    long b = sbrk(256 * 4096);
    return b > 0 && sbrk(-256 * 4096) == b + 256 * 4096;
  });
  run_case("fork_exit_wait", 40, [](long i) {
    long pid = fork();
    if (pid == 0) exit((int)(i & 0x7f));
    return child_status(pid, (int)(i & 0x7f));
  });
  run_case("fork_exec_wait", 10, [](long) {
    long pid = fork();
    if (pid == 0) {
      const char* args[] = {"gen", "0", nullptr};
      exec("gen", args);
      exit(99);
    }
    return child_status(pid, 0);
  });
  run_case("waitpid_nohang_none", 1000, [](long) { return waitpid(-1, nullptr, WNOHANG) == -ECHILD; });
  bench_mem();
  return 0;
}
