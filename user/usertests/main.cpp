// usertests: the kernel's test suite, run as a user program (`init=usertests`, or from sh).
//
// Every test runs in a child process of its own, so that a test that breaks its process (a
// fault, a leaked mapping, a changed program break) cannot disturb the next one, and so that
// this process's own address space never changes: the leak check at the end compares the
// free-frame count before and after all tests, which is only meaningful if this process holds
// exactly the same memory at both points.
//
// `usertests` runs every test; `usertests NAME...` only those named (the leak check always);
// `usertests --icount [NAME...]` says QEMU runs with -icount (bounds in instructions are exact).
// Output: one line per test, `test NAME: ok` or `test NAME: FAIL <reason>` (a failing test
// process prints its own FAIL line), lines starting with two spaces are information, and at
// the end `usertests: N passed, M failed`. main returns 0 only if every test passed.
//
// usertests also runs itself through exec to check argument passing; argv[1] = `--child-...`
// selects one of those helper modes (helpers.cpp).
//
// This folder: framework.hpp/.cpp (checks, helpers, self-registering TEST), main.cpp (the
// runner), helpers.cpp (exec helper modes), and one file per subsystem holding its tests.
#include "framework.hpp"

namespace {

int passed = 0, failed = 0;

void report(const char* name, bool ok, const char* reason) {
  if (ok) {
    printf("test %s: ok\n", name);
    passed++;
  } else {
    printf("test %s: FAIL %s\n", name, reason);
    failed++;
  }
}

// Run one test in a child process. The child prints its own FAIL line (only it knows the
// reason) and exits 1; the parent prints the ok line or explains any other status.
void run_test(const Test& t) {
  long pid = fork();
  if (pid < 0) {
    char why[64];
    snprintf(why, sizeof why, "fork = %ld", pid);
    report(t.name, false, why);
    return;
  }
  if (pid == 0) {
    g_reason[0] = 0;
    if (t.fn()) exit(0);
    printf("test %s: FAIL %s\n", t.name, g_reason);
    exit(1);
  }
  // Poll rather than block, so that a hung test is reported instead of hanging the suite.
  long deadline = get_time_ns() + 300000 * MS;
  int st = 0;
  for (;;) {
    long r = waitpid(pid, &st, WNOHANG);
    if (r == pid) break;
    char why[96];
    if (r != 0) {
      snprintf(why, sizeof why, "waitpid = %ld", r);
      report(t.name, false, why);
      return;
    }
    if (get_time_ns() > deadline) {
      report(t.name, false, "timed out after 300 s (the test process is left running)");
      return;
    }
    sleep_ns(10 * MS);
  }
  if (st == 0) {
    report(t.name, true, nullptr);
  } else if (st == 1) {
    failed++;  // the child printed the reason
  } else {
    char why[96];
    snprintf(why, sizeof why, "the test process ended with status %d%s", st,
             st == -1 ? " (killed by the kernel)" : "");
    report(t.name, false, why);
  }
}

// Run as init: an orphan is reparented to us (pid 1) and getppid says so.
void test_orphan() {
  if (!g_is_init) {
    printf("test orphan: ok (skipped: usertests is not init, so orphans do not come back to it)\n");
    passed++;
    return;
  }
  long c = fork();
  if (c == 0) {
    long g = fork();
    if (g == 0) {
      long deadline = get_time_ns() + 5000 * MS;
      while (getppid() != 1 && get_time_ns() < deadline) sleep_ns(MS);
      exit(getppid() == 1 ? 0 : 2);
    }
    exit(g > 0 ? (int)g : -2);  // tell init the grandchild's pid, and orphan it
  }
  int st = 0;
  if (c < 0 || waitpid(c, &st, 0) != c || st <= 0) {
    report("orphan", false, "could not create the grandchild");
    return;
  }
  long g = st;
  long r = waitpid(g, &st, 0);
  if (r != g) {
    char why[96];
    snprintf(why, sizeof why, "waitpid(orphan %ld) = %ld: it was not reparented to init", g, r);
    report("orphan", false, why);
    return;
  }
  report("orphan", st == 0, "the orphan's getppid never became 1");
}

// Create the kernel objects that are made lazily (a fork, an exec) before the leak check
// takes its starting point.
void warm_up() {
  run_child([](long) { return 0; }, 0);
  const char* args[] = {"usertests", "--child-exit", "0", nullptr};
  exec_in_child("usertests", args);
}

}  // namespace


int main(int argc, char** argv) {
  if (argc >= 2 && strncmp(argv[1], "--child-", 8) == 0) return helper_main(argc, argv);
  // `--icount`: QEMU runs with -icount, so rdinstret counts instructions exactly and the
  // guest's clock follows them: tests then assert their instruction and tick bounds tightly.
  if (argc >= 2 && strcmp(argv[1], "--icount") == 0) {
    g_icount = true;
    argv[1] = argv[0];
    argc--, argv++;
  }

  g_initial_brk = sbrk(0);
  g_is_init = getpid() == 1;
  KernelStats s = get_stats();
  g_scheme = (long)s.scheme;
  g_counters = s.self.syscalls > 0;  // warm-up calls have happened: the stats call itself counts
  g_diag = diag(DIAG_SLOT_ENTROPY_MILLIBITS, 0) != -ENOSYS;
  g_demand = s.memory_demand;
  g_cow = s.fork_cow;
  printf("usertests: scheme %lu, ASIDs %s (%lu bits, generation %lu), pid %ld%s%s%s\n", s.scheme,
         s.asid_enabled ? "on" : "off", s.asid_bits, s.asid_generation, getpid(), g_is_init ? " (init)" : "",
         g_counters ? "" : ", counters compiled out", g_diag ? "" : ", diag compiled out");
  printf("usertests: memory %s, fork %s\n", g_demand ? "on demand" : "eager", g_cow ? "copy-on-write" : "copies");

  warm_up();
  KernelStats start = get_stats();

  if (g_is_init) report("init_ppid", getppid() == 0, "init's getppid is not 0");
  // `usertests NAME...` runs only the named tests (then the leak check); no names: all of them.
  bool all = argc < 2;
  for (int i = 1; i < argc; i++) {
    bool known = false;
    for (const Test* t = tests_begin(); t != tests_end(); t++) known |= strcmp(t->name, argv[i]) == 0;
    if (!known && strcmp(argv[i], "orphan") != 0) {
      printf("usertests: no test named %s\n", argv[i]);
      return 2;
    }
  }
  auto selected = [&](const char* name) {
    for (int i = 1; i < argc; i++)
      if (strcmp(argv[i], name) == 0) return true;
    return all;
  };
  for (const Test* t = tests_begin(); t != tests_end(); t++)
    if (selected(t->name)) run_test(*t);
  if (selected("orphan")) test_orphan();

  // As init we may have inherited processes (a test that failed can leave one behind): give
  // them a few seconds, then take the final count.
  if (g_is_init) {
    long deadline = get_time_ns() + 5000 * MS;
    while (waitpid(-1, nullptr, WNOHANG) != -ECHILD && get_time_ns() < deadline) sleep_ns(10 * MS);
  }
  // The kernel heap may keep a frame per size class (its one spare empty page): those are
  // accounted for, not lost.
  KernelStats end = get_stats();
  long heap_growth = (long)(end.heap_pages - start.heap_pages);
  long lost = (long)start.frames_free - (long)end.frames_free - heap_growth;
  printf("  frames free: %lu at the start, %lu at the end; kernel heap %lu -> %lu frames "
         "(%lu -> %lu bytes in use)\n", start.frames_free, end.frames_free, start.heap_pages,
         end.heap_pages, start.heap_bytes_used, end.heap_bytes_used);
  char why[128];
  snprintf(why, sizeof why, "%ld frames lost", lost);
  report("leak", lost == 0, why);

  printf("usertests: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
