// Registers across system calls, switches (yield, sleep, a ring of processes beyond a small
// ASID space) and timer preemption.
#include "regcheck.hpp"

namespace regcheck {

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
    if (pid == 0) {
      pin_to_hart0();
      exit(ring_body(9 + i) ? 1 : 0);
    }
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

}  // namespace regcheck
