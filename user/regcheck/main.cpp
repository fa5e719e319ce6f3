// regcheck: every register a process can observe is its own (issue 8, "Isolation that holds").
//
// Processes fill every integer register they may set (ra, gp, tp, t0-t6, s0-s11, a0-a7 except
// what the ecall uses for its number and result; sp is kept) and f0-f31 and fcsr with a pattern
// of their own (`tag`), then trap into the kernel with the pattern live: a system call (getpid,
// an unknown number, yield, sleep), a timer interrupt during a pure user spin while another
// process spins with its own pattern, fork (parent and child both check), and exec (the new
// image must start with f0-f31 and fcsr zero, gp and tp zero, and no register holding a value of
// the old image). Afterwards each process compares every register with its own pattern; a
// mismatch names the register and, when the value is another process's pattern, whose it is.
//
// The register work is done by the assembly in regs.S (rc_run and friends), so no
// compiler-generated code runs while a pattern is live.
//
// Modes (argv[1]):
//   all              every check below (the default); one line per check, then a summary;
//   fp-clean N       a yield ping-pong of 2 processes that never touch FP: N rounds each, every
//                    register checked after each yield; lazy FP means 0 saves;
//   fp-dirty N       the same with every process's FP registers written before each yield and
//                    checked after it; every switch then saves the outgoing FP state;
//   threads          threads of this process, one per online hart (at least two), pinned and
//                    then unpinned, each with its own pattern (threads.cpp);
//   --exec-child     the exec target (checks its start state); for internal use.
// The cost of a switch with and without FP state is a benchmark of its own (user/bench/bench_fp).
// Output: `check NAME: ok` or `check NAME: FAIL reason`, informational lines indented by two
// spaces, and finally `regcheck: N passed, M failed`. Exit status 0 only if all passed.
#include "regcheck.hpp"

// The start-state snapshot (regs.S) stores here.
extern "C" {
RegSet rc_start;
}

namespace regcheck {
namespace {

int all_main(const RegSet& fp_at_main) {
  KernelStats s = get_stats();
  printf("regcheck: scheme %lu, ASIDs %s (%lu bits, generation %lu), pid %ld\n", s.scheme,
         s.asid_enabled ? "on" : "off", s.asid_bits, s.asid_generation, getpid());
  check_start(fp_at_main);
  check_roundtrip();
  check_getpid("getpid", 1);
  check_enosys(1);
  check_pair("yield", yield_body, 1, 2);
  check_pair("sleep", sleep_body, 1, 2);
  check_preempt(1, 2);
  check_ring();
  check_fork(1, 3);
  check_exec(1, 4);
  check_fp_loop("fp-clean", "200");
  check_fp_loop("fp-dirty", "200");
  check_threads();
  // And once more after all that: this process's registers are still its own.
  check_getpid("getpid-final", 1);
  KernelStats e = get_stats();
  printf("  fp_saves %lu, fp_restores %lu, asid_bits %lu, asid_generation %lu, asid_rollovers %lu\n",
         e.fp_saves, e.fp_restores, e.asid_bits, e.asid_generation, e.asid_rollovers);
  printf("regcheck: %d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace regcheck

using namespace regcheck;

int main(int argc, char** argv) {
  // Nothing before this may touch an FP register.
  RegSet fp_at_main;
  memset(&fp_at_main, 0, sizeof fp_at_main);
  bool exec_child = argc >= 2 && strcmp(argv[1], "--exec-child") == 0;
  bool fp_clean = argc >= 2 && strcmp(argv[1], "fp-clean") == 0;
  if (!fp_clean) rc_snapshot_fp(&fp_at_main);
  // The process checks need switches: with several harts online, processes on different harts
  // would run side by side and never switch. So every process of a check runs on hart 0 (the
  // forked ones pin themselves too: pin_to_hart0); `threads` unpins its threads itself.
  pin_to_hart0();
  if (exec_child) return exec_child_main();
  if (argc < 2 || strcmp(argv[1], "all") == 0) return all_main(fp_at_main);
  if (strcmp(argv[1], "threads") == 0) {
    check_threads();
    printf("regcheck: %d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
  }
  if (fp_clean || strcmp(argv[1], "fp-dirty") == 0) {
    long n = argc >= 3 ? atol(argv[2]) : 1000;
    if (n < 1) n = 1;
    return fp_loop_main(!fp_clean, n);
  }
  printf("usage: regcheck [all | fp-clean N | fp-dirty N | threads]\n");
  return 2;
}
