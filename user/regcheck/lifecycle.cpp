// Registers across fork and exec, and the start state of a new image.
#include "regcheck.hpp"

namespace regcheck {

// ---- fork: both sides see the registers of the fork call; then each goes on with its own.
void check_fork(int parent_tag, int child_tag) {
  RegSet in, out;
  fill(in, parent_tag);
  memset(&out, 0, sizeof out);
  long pid = rc_run(&in, &out, RC_ECALL, 0, SYS_fork, 0);
  RegSet want = in;
  want.x[17] = SYS_fork;
  char why[400] = "";
  compare(want, out, SKIP_A0, true, why, sizeof why);
  if (pid == 0) {
    g_role = "/child";
    g_passed = g_failed = 0;
    report("fork", why[0] == 0, why);  // the child inherited the parent's registers
    rounds_checked("fork-after", child_tag, SYS_yield, 0, 50, 0);
    exit(g_failed == 0 ? 0 : 1);
  }
  g_role = "/parent";
  if (pid < 0 && !why[0]) snprintf(why, sizeof why, "fork failed: %ld", pid);
  report("fork", why[0] == 0, why);
  if (pid > 0) rounds_checked("fork-after", parent_tag, SYS_yield, 0, 50, 0);
  g_role = "";
  if (pid > 0) {
    // the child's two lines: fork/child and fork-after/child
    int st = 0;
    long r = waitpid(pid, &st, 0);
    if (r == pid && st == 0) g_passed += 2;
    else {
      g_failed += 2;
      if (r != pid || st != 1) printf("check fork/child-exit: FAIL waitpid %ld, status %d\n", r, st);
    }
  }
}

// ---- exec: a child fills everything with its own pattern and execs with it live; the new
// image (exec_child_main) checks its start state. The parent meanwhile keeps its own FP
// registers live (rc_run left the caller-saved ones holding its pattern) and checks them after.
constexpr int EXEC_CHECKS = 3;  // lines exec_child_main prints

int exec_body(int tag) {
  RegSet in, out;
  fill(in, tag);
  memset(&out, 0, sizeof out);
  static const char* const args[] = {"regcheck", "--exec-child", nullptr};
  long r = rc_run(&in, &out, RC_ECALL2, (long)"regcheck", SYS_exec, (long)args);
  char why[64];
  snprintf(why, sizeof why, "exec returned %ld", r);
  report("exec", false, why);
  return 1;
}

uint64_t read_gp() {
  uint64_t v;
  asm volatile("mv %0, gp" : "=r"(v));
  return v;
}
uint64_t read_tp() {
  uint64_t v;
  asm volatile("mv %0, tp" : "=r"(v));
  return v;
}
void write_gp_tp(uint64_t gp, uint64_t tp) { asm volatile("mv gp, %0\n\tmv tp, %1" ::"r"(gp), "r"(tp)); }

void check_exec(int parent_tag, int child_tag) {
  // The parent keeps its pattern in f0-f31, fcsr, gp and tp (no compiled code touches them)
  // while the child execs with its own pattern live; afterwards they must still be the parent's.
  uint64_t gp0 = read_gp(), tp0 = read_tp();
  RegSet in;
  fill(in, parent_tag);
  rc_persist(&in);
  long pid = fork();
  if (pid == 0) {
    g_role = "/child";
    exit(exec_body(child_tag));
  }
  int st = 0;
  long r = pid > 0 ? waitpid(pid, &st, 0) : pid;
  RegSet now;
  memset(&now, 0, sizeof now);
  rc_snapshot_fp(&now);
  now.x[3] = read_gp();
  now.x[4] = read_tp();
  write_gp_tp(gp0, tp0);
  RegSet want = now;  // compare f0-f31, fcsr, gp and tp only
  memcpy(want.f, in.f, sizeof want.f);
  want.fcsr = in.fcsr;
  want.x[3] = in.x[3];
  want.x[4] = in.x[4];
  char why[400] = "";
  compare(want, now, 0, true, why, sizeof why);
  report("exec-parent-kept", why[0] == 0, why);
  if (r != pid) {
    printf("check exec/child-exit: FAIL waitpid = %ld\n", r);
    g_failed++;
  } else if (st >= 0 && st <= EXEC_CHECKS) {
    g_passed += EXEC_CHECKS - st;
    g_failed += st;
  } else {
    printf("check exec/child-exit: FAIL child status %d\n", st);
    g_failed++;
  }
}

// The exec target: the start state. Integer registers from the .init_array snapshot (taken
// before any compiled code ran), FP registers from the first thing main does.
int exec_child_main() {
  RegSet fp;
  memset(&fp, 0, sizeof fp);
  rc_snapshot_fp(&fp);  // before any other code could touch an FP register
  g_role = "";
  int fails = 0;
  char why[400] = "";
  char who[48];
  auto add = [&](const char* reg, int idx, uint64_t v) {
    size_t len = strlen(why);
    if (len + 90 >= sizeof why) return;
    whose(v, who, sizeof who);
    if (idx >= 0) snprintf(why + len, sizeof why - len, "%s%s%d=%#lx%s", len ? "; " : "", reg, idx, v, who);
    else snprintf(why + len, sizeof why - len, "%s%s=%#lx%s", len ? "; " : "", reg, v, who);
  };
  // 1. gp and tp: zero, as at the start of any program.
  if (rc_start.x[3]) add("gp", -1, rc_start.x[3]);
  if (rc_start.x[4]) add("tp", -1, rc_start.x[4]);
  report("exec-gp-tp", why[0] == 0, why);
  fails += why[0] != 0;
  // 2. FP: f0-f31 and fcsr zero.
  why[0] = 0;
  int nz = 0;
  for (int i = 0; i < 32; i++)
    if (fp.f[i] && nz++ < 3) add("f", i, fp.f[i]);
  if (fp.fcsr) add("fcsr", -1, fp.fcsr);
  if (nz > 3) {
    size_t len = strlen(why);
    snprintf(why + len, sizeof why - len, "; %d FP registers not zero", nz);
  }
  report("exec-fp-zero", why[0] == 0, why);
  fails += why[0] != 0;
  // 3. No integer register the old image set survives (those start.S did not set before the
  //    snapshot: t1, t2, a2-a7, s5-s11, t3-t6).
  why[0] = 0;
  static const int regs[] = {6, 7, 12, 13, 14, 15, 16, 17, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
  for (int r : regs) {
    uint64_t v = rc_start.x[r];
    if (!v) continue;
    whose(v, who, sizeof who);
    if (who[0]) add(XNAMES[r], -1, v);
  }
  report("exec-gpr-fresh", why[0] == 0, why);
  fails += why[0] != 0;
  return fails;
}

// The first process's own start state (init or not): gp/tp and FP zero.
void check_start(const RegSet& fp_at_main) {
  char why[200] = "";
  int nz = 0;
  for (int i = 0; i < 32; i++) nz += fp_at_main.f[i] != 0;
  if (rc_start.x[3] || rc_start.x[4] || nz || fp_at_main.fcsr)
    snprintf(why, sizeof why, "gp=%#lx tp=%#lx, %d FP registers not zero, fcsr=%#lx",
             rc_start.x[3], rc_start.x[4], nz, fp_at_main.fcsr);
  report("start", why[0] == 0, why);
}

}  // namespace regcheck
