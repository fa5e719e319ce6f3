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
// The register work is done by the assembly at the end of this file (rc_run and friends), so no
// compiler-generated code runs while a pattern is live.
//
// Modes (argv[1]):
//   all              every check below (the default); one line per check, then a summary;
//   fp-clean N       a yield ping-pong of 2 processes that never touch FP: N rounds each; prints
//                    an @regcheck line (switch cost, FP saves/restores); lazy FP means 0 saves;
//   fp-dirty N       the same with every process's FP registers written before each yield and
//                    checked after it; every switch then saves the outgoing FP state;
//   --exec-child     the exec target (checks its start state); for internal use.
// The @regcheck line's per-switch figures include the loop's own checking work (the same in
// both modes, so the difference is the FP cost); insns_per_switch means something only under
// -icount (without it rdinstret reads host ticks).
// Output: `check NAME: ok` or `check NAME: FAIL reason`, informational lines indented by two
// spaces, and finally `regcheck: N passed, M failed`. Exit status 0 only if all passed.
#include "user.hpp"

using namespace uapi;

// ---------------------------------------------------------------- the register file image
struct RegSet {
  uint64_t x[32];  // by register number; x0 and x2 (sp) unused
  uint64_t f[32];
  uint64_t fcsr;
};
static_assert(sizeof(RegSet) == 520);

// rc_run modes (the low bits) and flags.
constexpr long RC_ECALL = 0;   // a7 = nr, a0 = arg, ecall; a0 is the result
constexpr long RC_SPIN = 1;    // spin `arg` iterations with a7 as the counter (a7 not checked)
constexpr long RC_NONE = 2;    // load and store back: checks the checker
constexpr long RC_ECALL2 = 3;  // like RC_ECALL, and a1 = arg2 (exec)
constexpr long RC_NOFP = 8;    // flag: leave f0-f31 and fcsr alone (no FP instruction at all)

extern "C" {
// Loads the whole of `in` (FP unless RC_NOFP), runs the action, stores every register into `out`
// and returns out->x[10] (a0). Saves and restores what the calling convention requires.
long rc_run(const RegSet* in, RegSet* out, long mode, long arg, long nr, long arg2);
// Loads f0-f31, fcsr, gp and tp from `in` and returns with them in place (no restore).
void rc_persist(const RegSet* in);
// Stores f0-f31 and fcsr into out->f, out->fcsr.
void rc_snapshot_fp(RegSet* out);
// The integer registers as the first code of the program saw them: filled by an .init_array
// entry that start.S calls before main (then t0 = that entry, ra = its return address,
// s0 = 0, s1 = argc, s2 = argv, s3/s4 = the .init_array bounds, a0 = argc, a1 = argv).
extern RegSet rc_start;
}

namespace {

constexpr long MS = 1000 * 1000;
constexpr int MAX_TAG = 16;

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
const char* g_role = "";  // "parent" / "child" suffix for the process's check names

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

constexpr uint32_t bit(int r) { return 1u << r; }
constexpr uint32_t SKIP_A0 = bit(10);
constexpr uint32_t SKIP_A0_A7 = bit(10) | bit(17);
constexpr uint32_t SKIP_A7 = bit(17);

KernelStats get_stats() {
  KernelStats s;
  memset(&s, 0, sizeof s);
  stats(&s);
  return s;
}

// One system call with the pattern live; checks every register but a0 (returned in *ret).
// Returns the number of wrong registers; the reason accumulates in why.
int call_checked(const RegSet& in, long nr, long arg, long* ret, char* why, size_t n,
                 bool fp = true) {
  RegSet out;
  memset(&out, 0, sizeof out);
  long r = rc_run(&in, &out, RC_ECALL | (fp ? 0 : RC_NOFP), arg, nr, 0);
  if (ret) *ret = r;
  RegSet want = in;
  want.x[17] = (uint64_t)nr;  // the ecall's number register stays as it was
  return compare(want, out, SKIP_A0, fp, why, n);
}

// A child that runs fn(tag) and exits with 0 (all its checks passed) or 1.
long spawn(int (*fn)(int), int tag) {
  long pid = fork();
  if (pid == 0) {
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

// ---------------------------------------------------------------- the checks
void check_roundtrip() {
  RegSet in, out;
  fill(in, 1);
  memset(&out, 0, sizeof out);
  rc_run(&in, &out, RC_NONE, 0, 0, 0);
  char why[400] = "";
  compare(in, out, 0, true, why, sizeof why);
  report("roundtrip", why[0] == 0, why);
}

void check_getpid(const char* name, int tag) {
  RegSet in;
  fill(in, tag);
  char why[400] = "";
  long r = 0;
  int bad = 0;
  for (int i = 0; i < 20 && !bad; i++) bad = call_checked(in, SYS_getpid, 0, &r, why, sizeof why);
  if (!bad && r != getpid()) snprintf(why, sizeof why, "getpid returned %ld, want %ld", r, getpid());
  report(name, why[0] == 0, why);
}

void check_enosys(int tag) {
  RegSet in;
  fill(in, tag);
  char why[400] = "";
  long r = 0;
  int bad = call_checked(in, 9999, 0, &r, why, sizeof why);
  if (!bad && r != -ENOSYS) snprintf(why, sizeof why, "unknown call returned %ld, want %ld", r, -(long)ENOSYS);
  bad = bad || call_checked(in, -1, 0, &r, why, sizeof why);
  report("enosys", why[0] == 0, why);
}

// `rounds` system calls `nr(arg)` with the pattern live, each checked; the process must have
// been switched in at least once meanwhile (it ran beside another process).
int rounds_checked(const char* name, int tag, long nr, long arg, int rounds, long want_ret) {
  RegSet in;
  fill(in, tag);
  char why[400] = "";
  KernelStats a = get_stats();
  int bad = 0;
  long r = 0;
  int i = 0;
  for (; i < rounds && !bad; i++) {
    bad = call_checked(in, nr, arg, &r, why, sizeof why);
    if (!bad && r != want_ret) {
      snprintf(why, sizeof why, "round %d: returned %ld, want %ld", i, r, want_ret);
      bad = 1;
    }
  }
  KernelStats b = get_stats();
  if (bad) {
    char more[40];
    snprintf(more, sizeof more, " (round %d)", i - 1);
    if (strlen(why) + strlen(more) < sizeof why) memcpy(why + strlen(why), more, strlen(more) + 1);
  } else if (b.self.context_switches == a.self.context_switches) {
    snprintf(why, sizeof why, "never switched out in %d rounds: the check proves nothing", rounds);
  }
  report(name, why[0] == 0, why);
  return why[0] == 0 ? 0 : 1;
}

int yield_body(int tag) { return rounds_checked("yield", tag, SYS_yield, 0, 200, 0); }
int sleep_body(int tag) { return rounds_checked("sleep", tag, SYS_sleep, 2 * MS, 10, 0); }

// Two processes side by side, each checking its own pattern after every system call.
void check_pair(const char* name, int (*body)(int), int parent_tag, int child_tag) {
  long pid = spawn(body, child_tag);
  if (pid > 0) {
    g_role = "/parent";
    body(parent_tag);
    g_role = "";
  }
  collect(name, pid);
}

// ---- a ring of RING processes live at once (more address spaces than a small ASID space
// holds: with asid_bits=2 every pass through the ring needs new ASIDs), each yielding with its
// own pattern. The child lines are counted, not printed one by one (the parent prints one).
constexpr int RING = 6;

int ring_body(int tag) {
  RegSet in;
  fill(in, tag);
  char why[400] = "";
  int bad = 0;
  for (int i = 0; i < 100 && !bad; i++) bad = call_checked(in, SYS_yield, 0, nullptr, why, sizeof why);
  if (bad) printf("  ring tag %d: %s\n", tag, why);
  return bad;
}

void check_ring() {
  long pids[RING - 1];
  int forked = 0;
  for (int i = 0; i < RING - 1; i++) {
    long pid = fork();
    if (pid == 0) exit(ring_body(9 + i) ? 1 : 0);
    if (pid > 0) pids[forked++] = pid;
  }
  int bad = ring_body(8);
  char why[200] = "";
  if (bad) snprintf(why, sizeof why, "the parent's registers changed");
  for (int i = 0; i < forked; i++) {
    int st = -2;
    waitpid(pids[i], &st, 0);
    if (st != 0 && !why[0]) snprintf(why, sizeof why, "ring child %d: status %d", i, st);
  }
  if (forked != RING - 1 && !why[0]) snprintf(why, sizeof why, "only %d children forked", forked);
  report("ring", why[0] == 0, why);
}

// ---- preemption: spin with the pattern live until the timer has interrupted the spin (and
// switched to the other spinner) several times.
constexpr long SPIN_CHUNK = 4000000;  // iterations of a 2-instruction loop per chunk (ms)
constexpr int SPIN_MAX_CHUNKS = 1000;
constexpr int WANT_INTERRUPTED = 4;   // chunks during which a timer interrupt came
constexpr int WANT_SWITCHED = 2;      // ... and the process was switched out and back in

struct SpinResult {
  int chunks, interrupted, switched, bad;
};

// One chunk; true if its registers were right.
bool spin_chunk(const RegSet& in, SpinResult& res, char* why, size_t n) {
  RegSet out;
  memset(&out, 0, sizeof out);
  KernelStats a = get_stats();
  rc_run(&in, &out, RC_SPIN, SPIN_CHUNK, 0, 0);
  KernelStats b = get_stats();
  res.chunks++;
  // The counters between the two stats calls: the only user code there is the spin (and the
  // few instructions around it), so an interrupt counted there almost surely hit the spin.
  if (b.self.interrupts > a.self.interrupts) {
    res.interrupted++;
    if (b.self.context_switches > a.self.context_switches) res.switched++;
  }
  RegSet want = in;
  if (compare(want, out, SKIP_A7, true, why, n)) {
    res.bad++;
    return false;
  }
  return true;
}

void finish_spin(const SpinResult& res, char* why, size_t n, bool need_switch) {
  printf("  preempt%s: %d chunks, %d interrupted, %d of them switched away\n", g_role,
         res.chunks, res.interrupted, res.switched);
  if (why[0]) return;
  if (res.interrupted < WANT_INTERRUPTED || (need_switch && res.switched < WANT_SWITCHED))
    snprintf(why, n, "only %d interrupted chunks (%d switched) in %d: the check proves nothing",
             res.interrupted, res.switched, res.chunks);
}

int preempt_child(int tag) {
  RegSet in;
  fill(in, tag);
  SpinResult res{};
  char why[400] = "";
  while (res.chunks < SPIN_MAX_CHUNKS && !res.bad &&
         (res.interrupted < WANT_INTERRUPTED || res.switched < WANT_SWITCHED))
    spin_chunk(in, res, why, sizeof why);
  finish_spin(res, why, sizeof why, true);
  report("preempt", why[0] == 0, why);
  return why[0] == 0 ? 0 : 1;
}

// The parent spins as long as the child does (so the child always has a competitor), and
// at least until it was interrupted itself; it needs no switch of its own (once the child has
// exited there is nothing to switch to).
void check_preempt(int parent_tag, int child_tag) {
  long pid = spawn(preempt_child, child_tag);
  g_role = "/parent";
  RegSet in;
  fill(in, parent_tag);
  SpinResult res{};
  char why[400] = "";
  int st = 0;
  bool child_done = pid < 0;
  while (res.chunks < SPIN_MAX_CHUNKS && !res.bad &&
         (!child_done || res.interrupted < WANT_INTERRUPTED)) {
    spin_chunk(in, res, why, sizeof why);
    if (!child_done && waitpid(pid, &st, WNOHANG) == pid) child_done = true;
  }
  finish_spin(res, why, sizeof why, false);
  report("preempt", why[0] == 0, why);
  g_role = "";
  if (pid < 0) {
    collect("preempt", pid);
  } else if (child_done) {
    // already reaped: account for it as collect() would
    if (st == 0) g_passed++;
    else {
      g_failed++;
      if (st != 1) printf("check preempt/child-exit: FAIL child status %d (killed?)\n", st);
    }
  } else {
    collect("preempt", pid);
  }
}

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

// ---- FP switch loops: 2 processes, N yields each, FP clean (never touched) or dirty.
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
  uint64_t t0 = rdtime(), i0 = rdinstret();
  long pid = fork();
  int bad = 0;
  if (pid == 0) {
    fp_loop_body(dirty ? 6 : 8, dirty, rounds, &bad);
    exit(bad ? 1 : 0);
  }
  fp_loop_body(dirty ? 5 : 7, dirty, rounds, &bad);
  int st = -2;
  if (pid > 0) waitpid(pid, &st, 0);
  uint64_t t1 = rdtime(), i1 = rdinstret();
  KernelStats b = get_stats();
  uint64_t sw = b.global.context_switches - a.global.context_switches;
  uint64_t saves = b.fp_saves - a.fp_saves, restores = b.fp_restores - a.fp_restores;
  uint64_t hz = b.timebase_hz ? b.timebase_hz : 10000000;
  uint64_t ns_x1000 = sw ? (t1 - t0) * (1000000000000ul / hz) / sw : 0;  // ns per switch * 1000
  uint64_t insn_x1000 = sw ? (i1 - i0) * 1000 / sw : 0;
  printf("@regcheck {\"mode\":\"%s\",\"rounds\":%ld,\"switches\":%lu,\"ns_per_switch\":%lu.%03lu,"
         "\"insns_per_switch\":%lu.%03lu,\"fp_saves\":%lu,\"fp_restores\":%lu}\n",
         mode, rounds, sw, ns_x1000 / 1000, ns_x1000 % 1000, insn_x1000 / 1000, insn_x1000 % 1000,
         saves, restores);
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
  // And once more after all that: this process's registers are still its own.
  check_getpid("getpid-final", 1);
  KernelStats e = get_stats();
  printf("  fp_saves %lu, fp_restores %lu, asid_bits %lu, asid_generation %lu, asid_rollovers %lu\n",
         e.fp_saves, e.fp_restores, e.asid_bits, e.asid_generation, e.asid_rollovers);
  printf("regcheck: %d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  // Nothing before this may touch an FP register.
  RegSet fp_at_main;
  memset(&fp_at_main, 0, sizeof fp_at_main);
  bool exec_child = argc >= 2 && strcmp(argv[1], "--exec-child") == 0;
  bool fp_clean = argc >= 2 && strcmp(argv[1], "fp-clean") == 0;
  if (!fp_clean) rc_snapshot_fp(&fp_at_main);
  if (exec_child) return exec_child_main();
  if (argc < 2 || strcmp(argv[1], "all") == 0) return all_main(fp_at_main);
  if (fp_clean || strcmp(argv[1], "fp-dirty") == 0) {
    long n = argc >= 3 ? atol(argv[2]) : 1000;
    if (n < 1) n = 1;
    return fp_loop_main(!fp_clean, n);
  }
  printf("usage: regcheck [all | fp-clean N | fp-dirty N]\n");
  return 2;
}

// ---------------------------------------------------------------- the assembly
RegSet rc_start;

// RegSet offsets: x[i] at 8*i, f[i] at 256 + 8*i, fcsr at 512.
// rc_run frame (272 bytes): 0 ra, 8 gp, 16 tp, 24.. s0-s11, 120 out, 128 arg, 136 t0 scratch,
// 144.. fs0-fs11, 240 caller's fcsr, 248 arg2, 256 the RC_NOFP flag.
asm(R"(
        .text
        .macro LOADX base, regs:vararg
        .irp n, \regs
        ld      x\n, 8*\n(\base)
        .endr
        .endm
        .macro STOREX base, regs:vararg
        .irp n, \regs
        sd      x\n, 8*\n(\base)
        .endr
        .endm
        .macro LOADF base
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        fld     f\n, 256+8*\n(\base)
        .endr
        .endm
        .macro STOREF base
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        fsd     f\n, 256+8*\n(\base)
        .endr
        .endm

        .globl  rc_run
        .type   rc_run, @function
        .balign 4
rc_run:
        addi    sp, sp, -272
        sd      ra, 0(sp)
        sd      gp, 8(sp)
        sd      tp, 16(sp)
        sd      s0, 24(sp)
        sd      s1, 32(sp)
        sd      s2, 40(sp)
        sd      s3, 48(sp)
        sd      s4, 56(sp)
        sd      s5, 64(sp)
        sd      s6, 72(sp)
        sd      s7, 80(sp)
        sd      s8, 88(sp)
        sd      s9, 96(sp)
        sd      s10, 104(sp)
        sd      s11, 112(sp)
        sd      a1, 120(sp)
        sd      a3, 128(sp)
        sd      a5, 248(sp)
        andi    t1, a2, 8            # RC_NOFP: no FP instruction at all
        sd      t1, 256(sp)
        bnez    t1, 1f
        fsd     fs0, 144(sp)
        fsd     fs1, 152(sp)
        fsd     fs2, 160(sp)
        fsd     fs3, 168(sp)
        fsd     fs4, 176(sp)
        fsd     fs5, 184(sp)
        fsd     fs6, 192(sp)
        fsd     fs7, 200(sp)
        fsd     fs8, 208(sp)
        fsd     fs9, 216(sp)
        fsd     fs10, 224(sp)
        fsd     fs11, 232(sp)
        frcsr   t0
        sd      t0, 240(sp)
        LOADF   a0
        ld      t0, 512(a0)
        fscsr   t0
1:      andi    a2, a2, 7
        li      t0, 1
        beq     a2, t0, .Lrc_spin
        li      t0, 2
        beq     a2, t0, .Lrc_none
        li      t0, 3
        beq     a2, t0, .Lrc_ecall2
        # RC_ECALL: a7 = nr, a0 = arg, everything else from `in`.
        mv      a7, a4
        LOADX   a0, 1,3,4,5,6,7,8,9,11,12,13,14,15,16,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        ld      a0, 128(sp)
        ecall
        j       .Lrc_store
.Lrc_ecall2:
        # a7 = nr, a0 = arg, a1 = arg2 (exec's path and argv).
        mv      a7, a4
        LOADX   a0, 1,3,4,5,6,7,8,9,12,13,14,15,16,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        ld      a1, 248(sp)
        ld      a0, 128(sp)
        ecall
        j       .Lrc_store
.Lrc_spin:
        # a7 counts down; every other register holds the pattern while the loop runs.
        mv      a7, a3
        LOADX   a0, 1,3,4,5,6,7,8,9,11,12,13,14,15,16,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        ld      a0, 80(a0)
2:      addi    a7, a7, -1
        bnez    a7, 2b
        j       .Lrc_store
.Lrc_none:
        LOADX   a0, 1,3,4,5,6,7,8,9,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        ld      a0, 80(a0)
.Lrc_store:
        sd      t0, 136(sp)
        ld      t0, 120(sp)
        STOREX  t0, 1,3,4,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        ld      t1, 136(sp)
        sd      t1, 40(t0)
        ld      t1, 256(sp)
        bnez    t1, 3f
        STOREF  t0
        frcsr   t1
        sd      t1, 512(t0)
        ld      t1, 240(sp)
        fscsr   t1
        fld     fs0, 144(sp)
        fld     fs1, 152(sp)
        fld     fs2, 160(sp)
        fld     fs3, 168(sp)
        fld     fs4, 176(sp)
        fld     fs5, 184(sp)
        fld     fs6, 192(sp)
        fld     fs7, 200(sp)
        fld     fs8, 208(sp)
        fld     fs9, 216(sp)
        fld     fs10, 224(sp)
        fld     fs11, 232(sp)
3:      ld      ra, 0(sp)
        ld      gp, 8(sp)
        ld      tp, 16(sp)
        ld      s0, 24(sp)
        ld      s1, 32(sp)
        ld      s2, 40(sp)
        ld      s3, 48(sp)
        ld      s4, 56(sp)
        ld      s5, 64(sp)
        ld      s6, 72(sp)
        ld      s7, 80(sp)
        ld      s8, 88(sp)
        ld      s9, 96(sp)
        ld      s10, 104(sp)
        ld      s11, 112(sp)
        ld      a0, 80(t0)
        addi    sp, sp, 272
        ret
        .size   rc_run, .-rc_run

        # rc_persist(in): f0-f31, fcsr, gp, tp from `in`; they stay loaded.
        .globl  rc_persist
        .type   rc_persist, @function
rc_persist:
        LOADF   a0
        ld      t0, 512(a0)
        fscsr   t0
        ld      gp, 24(a0)
        ld      tp, 32(a0)
        ret
        .size   rc_persist, .-rc_persist

        # rc_snapshot_fp(out): f0-f31 and fcsr into `out`.
        .globl  rc_snapshot_fp
        .type   rc_snapshot_fp, @function
rc_snapshot_fp:
        STOREF  a0
        frcsr   t0
        sd      t0, 512(a0)
        ret
        .size   rc_snapshot_fp, .-rc_snapshot_fp

        # The .init_array entry: start.S calls it (jalr t0) before main and before any
        # compiled code; it records every integer register except t0 (its own address).
        .type   rc_start_snapshot, @function
rc_start_snapshot:
        la      t0, rc_start
        STOREX  t0, 1,2,3,4,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        ret
        .size   rc_start_snapshot, .-rc_start_snapshot

        .section .init_array, "aw"
        .balign 8
        .dword  rc_start_snapshot
        .text
)");
