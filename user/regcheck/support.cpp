// Patterns, results, the checked system call and children.
#include "regcheck.hpp"

namespace regcheck {

const char* const XNAMES[32] = {"zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2",
                                "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
                                "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7",
                                "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};

uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ul;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ul;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebul;
  return z ^ (z >> 31);
}

// Register r (0..31 integer, 32..63 FP) of process pattern `tag`: distinct for every (tag, r),
// never 0, and with the tag readable in the top byte (0xT0 .. ).
uint64_t pat(int tag, int r) {
  uint64_t v = mix64((uint64_t)tag * 1000 + (uint64_t)r);
  return (v & 0x00ffffffffffff00ul) | ((uint64_t)(0xa0 + tag) << 56) | (uint64_t)(r + 1);
}
// fcsr: frm 0..4 (valid rounding modes) and fflags; distinct for tags 1..8 and never 0.
uint64_t pat_fcsr(int tag) { return (uint64_t)((tag % 5) << 5) | (uint64_t)((tag * 11 + 3) & 0x1f); }

void fill(RegSet& s, int tag) {
  for (int r = 0; r < 32; r++) s.x[r] = pat(tag, r);
  s.x[0] = 0;
  s.x[2] = 0;
  for (int r = 0; r < 32; r++) s.f[r] = pat(tag, 32 + r);
  s.fcsr = pat_fcsr(tag);
}

// Whose pattern is v? Returns "tag T's REG" into buf, or "" when it is nobody's.
const char* whose(uint64_t v, char* buf, size_t n) {
  buf[0] = 0;
  if (v == 0) return buf;
  for (int t = 1; t <= MAX_TAG; t++)
    for (int r = 0; r < 64; r++)
      if (pat(t, r) == v) {
        if (r < 32) snprintf(buf, n, " = tag %d's %s", t, XNAMES[r]);
        else snprintf(buf, n, " = tag %d's f%d", t, r - 32);
        return buf;
      }
  return buf;
}

// ---------------------------------------------------------------- results
int g_passed, g_failed;
const char* g_role = "";

void report(const char* name, bool ok, const char* why) {
  if (ok) printf("check %s%s: ok\n", name, g_role);
  else printf("check %s%s: FAIL %s\n", name, g_role, why);
  if (ok) g_passed++;
  else g_failed++;
}

// Compare `got` with `want` on every register that is checked (not in skip_x, a bit per
// integer register; FP when fp). Appends up to three mismatches to why; returns their count.
int compare(const RegSet& want, const RegSet& got, uint32_t skip_x, bool fp, char* why,
            size_t n) {
  int bad = 0;
  size_t len = strlen(why);
  char who[48];
  auto note = [&](const char* reg, int idx, uint64_t g, uint64_t w) {
    if (bad++ >= 3 || len + 80 >= n) return;
    whose(g, who, sizeof who);
    if (idx >= 0) snprintf(why + len, n - len, "%s%s%d=%#lx%s (want %#lx)", len ? "; " : "", reg, idx, g, who, w);
    else snprintf(why + len, n - len, "%s%s=%#lx%s (want %#lx)", len ? "; " : "", reg, g, who, w);
    len = strlen(why);
  };
  for (int r = 1; r < 32; r++) {
    if (r == 2 || (skip_x >> r) & 1) continue;
    if (got.x[r] != want.x[r]) note(XNAMES[r], -1, got.x[r], want.x[r]);
  }
  if (fp) {
    for (int r = 0; r < 32; r++)
      if (got.f[r] != want.f[r]) note("f", r, got.f[r], want.f[r]);
    if (got.fcsr != want.fcsr) note("fcsr", -1, got.fcsr, want.fcsr);
  }
  if (bad > 3 && len + 24 < n) snprintf(why + len, n - len, "; %d registers wrong", bad);
  return bad;
}

KernelStats get_stats() {
  KernelStats s;
  memset(&s, 0, sizeof s);
  stats(&s);
  return s;
}

// One system call with the pattern live; checks every register but a0 (returned in *ret).
// Returns the number of wrong registers; the reason accumulates in why.
int call_checked(const RegSet& in, long nr, long arg, long* ret, char* why, size_t n,
                 bool fp) {
  RegSet out;
  memset(&out, 0, sizeof out);
  long r = rc_run(&in, &out, RC_ECALL | (fp ? 0 : RC_NOFP), arg, nr, 0);
  if (ret) *ret = r;
  RegSet want = in;
  want.x[17] = (uint64_t)nr;  // the ecall's number register stays as it was
  return compare(want, out, SKIP_A0, fp, why, n);
}

void pin_to_hart0() { sched_pin(0); }

// A child that runs fn(tag) and exits with 0 (all its checks passed) or 1.
long spawn(int (*fn)(int), int tag) {
  long pid = fork();
  if (pid == 0) {
    pin_to_hart0();
    g_role = "/child";
    g_passed = g_failed = 0;
    int r = fn(tag);
    exit(r == 0 && g_failed == 0 ? 0 : 1);
  }
  return pid;
}

// The parent's accounting of a child that printed its own check line: status 0 counts as a
// pass, 1 as a failure, anything else (killed: -1) as a failure with a line of its own.
void collect(const char* name, long pid) {
  if (pid < 0) {
    char why[64];
    snprintf(why, sizeof why, "fork failed: %ld", pid);
    report(name, false, why);
    return;
  }
  int st = 0;
  long r = waitpid(pid, &st, 0);
  if (r != pid) {
    printf("check %s/child-exit: FAIL waitpid(%ld) = %ld\n", name, pid, r);
    g_failed++;
  } else if (st == 0) {
    g_passed++;
  } else if (st == 1) {
    g_failed++;
  } else {
    printf("check %s/child-exit: FAIL child status %d (killed?)\n", name, st);
    g_failed++;
  }
}

}  // namespace regcheck
