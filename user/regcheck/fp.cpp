// Lazy FP across switches: two processes yield to each other with FP dirty or never touched.
#include "regcheck.hpp"

namespace regcheck {

// ---- FP switch loops: 2 processes, N yields each, FP clean (never touched) or dirty. What a
// switch costs with and without FP state is measured by user/bench/bench_fp.
int fp_loop_body(int tag, bool dirty, long rounds, int* bad_out) {
  RegSet in;
  fill(in, tag);
  int bad = 0;
  char why[400] = "";
  for (long i = 0; i < rounds; i++) {
    char round_why[400] = "";  // keep the first failure's reason only
    if (call_checked(in, SYS_yield, 0, nullptr, round_why, sizeof round_why, dirty) != 0) {
      if (!bad++) memcpy(why, round_why, sizeof why);
    }
  }
  if (bad) printf("  fp-%s tag %d: %d wrong rounds: %s\n", dirty ? "dirty" : "clean", tag, bad, why);
  *bad_out = bad;
  return bad;
}

int fp_loop_main(bool dirty, long rounds) {
  const char* mode = dirty ? "fp-dirty" : "fp-clean";
  KernelStats a = get_stats();
  long pid = fork();
  int bad = 0;
  if (pid == 0) {
    pin_to_hart0();
    fp_loop_body(dirty ? 6 : 8, dirty, rounds, &bad);
    exit(bad ? 1 : 0);
  }
  fp_loop_body(dirty ? 5 : 7, dirty, rounds, &bad);
  int st = -2;
  if (pid > 0) waitpid(pid, &st, 0);
  KernelStats b = get_stats();
  uint64_t sw = b.global.context_switches - a.global.context_switches;
  uint64_t saves = b.fp_saves - a.fp_saves;
  char why[200] = "";
  if (pid < 0) snprintf(why, sizeof why, "fork failed: %ld", pid);
  else if (bad || st != 0) snprintf(why, sizeof why, "wrong registers after a switch (parent %d bad rounds, child status %d)", bad, st);
  else if (sw < (uint64_t)rounds) snprintf(why, sizeof why, "only %lu switches in %ld rounds", sw, rounds);
  else if (dirty && saves < (uint64_t)rounds)
    snprintf(why, sizeof why, "%lu FP saves in %lu switches of FP-dirty processes, want >= %ld", saves, sw, rounds);
  else if (!dirty && saves != 0)
    snprintf(why, sizeof why, "%lu FP saves in %lu switches of processes that never used FP, want 0", saves, sw);
  report(mode, why[0] == 0, why);
  return why[0] == 0 ? 0 : 1;
}

// Run `regcheck MODE N` in a fresh image (exec clears FP, so fp-clean is truly clean).
void check_fp_loop(const char* mode, const char* rounds) {
  long pid = fork();
  if (pid == 0) {
    const char* args[] = {"regcheck", mode, rounds, nullptr};
    long r = exec("regcheck", args);
    printf("check %s: FAIL exec returned %ld\n", mode, r);
    exit(1);
  }
  collect(mode, pid);
}

}  // namespace regcheck
