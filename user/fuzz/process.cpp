// The process tree: fork within its bounds, exit, waitpid with hostile arguments, reaping and
// the report status a child exits with.
#include "fuzz.hpp"

namespace fuzz {

void Fuzzer::f_waitpid() {
  long pid;
  switch (rng.below(8)) {
    case 0: pid = -1; break;
    case 1: pid = 0; break;
    case 2: pid = -2 - rng.below(100); break;
    case 3: pid = nkids ? kids[rng.below(nkids)] : 1; break;
    case 4: pid = 1; break;
    case 5: pid = getpid(); break;
    case 6: pid = junk(); break;
    default: pid = 1 + rng.below(4096);
  }
  long st;
  switch (rng.below(4)) {
    case 0: st = (long)&status_word; break;
    case 1: st = 0; break;
    default: st = any_ptr();
  }
  long opt = rng.chance(3) ? WNOHANG : (rng.chance(4) ? junk() : rng.below(4));
  // Excluded: a blocking wait that may not end (no child of ours could satisfy it, or the
  // wait is for something other than our own child).
  bool mine = pid == -1 || (nkids && pid == kids[0]) || (nkids > 1 && pid == kids[1]) ||
              (nkids > 2 && pid == kids[2]);
  if (opt == 0 && !(mine && nkids > 0)) opt = WNOHANG;
  // A call that can reap one of our children gets somewhere to put the status, so that the
  // child's report (its call count, what it saw) is never lost.
  if (st == 0 && (pid == -1 || pid > 1)) st = (long)&status_word;
  status_word = 0x5a5a5a5a;
  long r = call(SYS_waitpid, pid, st, opt, junk(), junk(), junk());
  if (r > 0) {
    // Reaped early: its slot stays until the deterministic reap, whose waitpid then gets
    // -ECHILD (so the sequence of calls does not depend on when children exit).
    int v = 0;
    if (st >= 0x10000 && st < (long)USER_TOP) memcpy(&v, (const void*)st, sizeof v);
    else oddity("waitpid reaped with a bad status pointer", SYS_waitpid, pid, st, opt, r);
    account(r, v);
  }
}

void Fuzzer::drop_oldest() {
  for (int i = 1; i < nkids; i++) kids[i - 1] = kids[i];
  nkids--;
}

void Fuzzer::account(long pid, int st) {
  if (st == -1) {
    errors++;
    printf("fuzz: KILLED pid %ld (a child of pid %ld, depth %d, seed %lu): status -1\n", pid,
           getpid(), depth + 1, seed);
  } else if ((st & 0x30000000) == ST_REPORT) {
    desc_calls += st & 0xfffff;
    errors += (st >> 20) & 0xff;
  } else if ((st & 0x30000000) == ST_EXEC_FAILED || st == 0) {
    // an exec child whose exec failed, or an exec'd program (echo) that exited 0
  } else {
    errors++;
    printf("fuzz: odd status %#x of pid %ld (seed %lu)\n", st, pid, seed);
  }
}

void Fuzzer::reap(long pid) {
  int st = 0;
  long r = syscall6(SYS_waitpid, pid, (long)&st, 0, 0, 0, 0);
  calls++;
  if (r > 0) account(r, st);
  else if (r != -ECHILD) oddity("waitpid of own child", SYS_waitpid, pid, 0, 0, r);
}

void Fuzzer::reap_oldest() {
  reap(kids[0]);
  drop_oldest();
}

void Fuzzer::reap_all() {
  while (nkids) reap_oldest();
  for (;;) {  // children we lost track of (a fuzzed waitpid reaped them, or exec kept them)
    int st = 0;
    long r = syscall6(SYS_waitpid, -1, (long)&st, 0, 0, 0, 0);
    if (r <= 0) break;
    account(r, st);
  }
}

int Fuzzer::report_status() {
  long c = calls + desc_calls;
  if (c > 0xfffff) c = 0xfffff;
  long e = errors + odd;
  return ST_REPORT | ((e > 255 ? 255 : (int)e) << 20) | (int)c;
}

void Fuzzer::finish() {
  reap_all();
  exit(report_status());
}

void Fuzzer::f_fork() {
  if (depth >= MAX_DEPTH || nkids >= MAX_WIDTH) {
    if (nkids) reap_oldest();
    else call(SYS_getppid);
    return;
  }
  uint64_t child_seed = rng.next();
  long child_calls = 20 + rng.below(200);
  long r = call(SYS_fork, junk(), junk(), junk(), junk(), junk(), junk());
  if (r == 0) {
    init(child_seed, depth + 1, child_calls);
    run();
    finish();
  }
  if (r > 0) kids[nkids++] = r;
}

void Fuzzer::f_exit() {
  if (depth == 0) {  // excluded: the batch process must not end early
    call(SYS_getpid);
    return;
  }
  reap_all();
  calls++;
  syscall6(SYS_exit, report_status(), junk(), junk(), junk(), junk(), junk());
  oddity("exit returned", SYS_exit, 0, 0, 0, 0);
  exit(report_status());
}

}  // namespace fuzz
