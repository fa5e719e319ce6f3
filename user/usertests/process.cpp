// usertests: fork, exit, waitpid, kill, and preemption.
#include "framework.hpp"

namespace {

TEST(exit_status) {
  const int codes[] = {0, 1, 42, 255, 256, 65536, -5, 0x7fffffff, -100000};
  for (int c : codes) {
    long st = run_child([](long c) { return (int)c; }, c);
    CHECK(st == c, "child exit(%d) gave status %ld", c, st);
  }
  // Returning from main is exit(main's value): checked by every exec helper below.
  return true;
}

TEST(getpid_yield) {
  long me = getpid();
  CHECK(me > 0, "getpid = %ld", me);
  EXPECT(getpid(), me);
  CHECK(getppid() > 0, "a test process has a parent, getppid = %ld", getppid());
  for (int i = 0; i < 10; i++) EXPECT(yield(), 0);
  // The child's getpid is what fork returned; its getppid is us.
  long pid = fork();
  CHECK(pid >= 0, "fork = %ld", pid);
  if (pid == 0) exit((int)getpid());
  CHECK(pid != me, "child pid %ld equals parent pid", pid);
  int st = 0;
  EXPECT(waitpid(pid, &st, 0), pid);
  EXPECT(st, pid);
  pid = fork();
  CHECK(pid >= 0, "fork = %ld", pid);
  if (pid == 0) exit((int)getppid());
  EXPECT(waitpid(pid, &st, 0), pid);
  EXPECT(st, me);
  return true;
}

// ---------------------------------------------------------------- fork, exit, waitpid
TEST(fork_reap_any) {
  constexpr int N = 8;
  long pids[N];
  for (int i = 0; i < N; i++) {
    pids[i] = fork();
    CHECK(pids[i] >= 0, "fork %d = %ld", i, pids[i]);
    if (pids[i] == 0) {
      sleep_ns((N - i) * 2 * MS);  // exit in the reverse order of creation
      exit(10 + i);
    }
  }
  bool seen[N] = {};
  for (int k = 0; k < N; k++) {
    int st = 0;
    long r = waitpid(-1, &st, 0);
    int i = 0;
    while (i < N && pids[i] != r) i++;
    CHECK(i < N, "waitpid(-1) = %ld, not one of our children", r);
    CHECK(!seen[i], "child %ld reaped twice", r);
    seen[i] = true;
    CHECK(st == 10 + i, "child %d status %d, want %d", i, st, 10 + i);
  }
  int st;
  EXPECT(waitpid(-1, &st, 0), -ECHILD);
  return true;
}

TEST(fork_reap_order) {
  constexpr int N = 8;
  long pids[N];
  for (int i = 0; i < N; i++) {
    pids[i] = fork();
    CHECK(pids[i] >= 0, "fork %d = %ld", i, pids[i]);
    if (pids[i] == 0) {
      sleep_ns(i * 3 * MS);  // exit in the order of creation
      exit(20 + i);
    }
    for (int k = 0; k < i; k++) CHECK(pids[k] != pids[i], "fork returned pid %ld twice", pids[i]);
  }
  // Reap in an order unrelated to the exit order: some are zombies already, some not yet.
  const int order[N] = {7, 0, 6, 1, 5, 2, 4, 3};
  for (int i : order) {
    int st = 0;
    EXPECT(waitpid(pids[i], &st, 0), pids[i]);
    CHECK(st == 20 + i, "child %d status %d", i, st);
    EXPECT(waitpid(pids[i], &st, 0), -ECHILD);  // gone once reaped
  }
  return true;
}

// A process tree of 3 levels below the test process: every node forks two children and exits
// with 1 + the sum of its children's statuses, so the root sees the number of nodes.
int tree_node(long depth) {
  if (depth == 3) return 1;
  long kids[2];
  for (long& k : kids) {
    k = fork();
    if (k < 0) return -1000;
    if (k == 0) exit(tree_node(depth + 1));
  }
  int total = 1;
  for (long k : kids) {
    int st = 0;
    if (waitpid(k, &st, 0) != k || st < 0) return -1000;
    total += st;
  }
  return total;
}

TEST(fork_tree) {
  EXPECT(tree_node(0), 15);
  return true;
}

TEST(wait_errors) {
  int st;
  EXPECT(waitpid(-1, &st, 0), -ECHILD);
  EXPECT(waitpid(-1, &st, WNOHANG), -ECHILD);
  EXPECT(waitpid(-1, nullptr, 0), -ECHILD);
  EXPECT(waitpid(getpid(), &st, 0), -ECHILD);   // not our own child
  EXPECT(waitpid(getppid(), &st, 0), -ECHILD);  // nor our parent
  EXPECT(waitpid(1, &st, 0), -ECHILD);          // nor init
  EXPECT(waitpid(1000000, &st, 0), -ECHILD);    // nor a pid that does not exist
  // A sibling is not a child.
  long a = fork();
  CHECK(a >= 0, "fork = %ld", a);
  if (a == 0) {
    sleep_ns(30 * MS);
    exit(5);
  }
  long b = fork();
  CHECK(b >= 0, "fork = %ld", b);
  if (b == 0) exit(waitpid(a, nullptr, 0) == -ECHILD ? 0 : 1);
  EXPECT(waitpid(b, &st, 0), b);
  CHECK(st == 0, "a sibling could wait for its sibling");
  EXPECT(waitpid(a, &st, 0), a);
  EXPECT(st, 5);
  // Unknown option bits, with a child present.
  long c = fork();
  CHECK(c >= 0, "fork = %ld", c);
  if (c == 0) {
    sleep_ns(20 * MS);
    exit(6);
  }
  const int bad_options[] = {2, 4, 0x100, WNOHANG | 2, -1};
  for (int o : bad_options) {
    long r = waitpid(c, &st, o);
    CHECK(r == -EINVAL, "waitpid options %#x = %ld, want -EINVAL", o, r);
  }
  EXPECT(waitpid(0, &st, 0), -EINVAL);   // no process groups
  EXPECT(waitpid(-2, &st, 0), -EINVAL);
  EXPECT(waitpid(c, nullptr, 0), c);  // status may be null
  return true;
}

TEST(wait_nohang) {
  // The child blocks on a pipe until the parent has polled, so "still running" is a fact of
  // the test's order, not of how fast the host is.
  int fds[2];
  EXPECT(pipe(fds), 0);
  long pid = fork();
  CHECK(pid >= 0, "fork = %ld", pid);
  if (pid == 0) {
    close(fds[1]);
    char c;
    exit(read(fds[0], &c, 1) == 1 && c == 'x' ? 7 : 8);
  }
  close(fds[0]);
  int st = 0;
  for (int i = 0; i < 3; i++) {
    EXPECT(waitpid(pid, &st, WNOHANG), 0);
    EXPECT(waitpid(-1, &st, WNOHANG), 0);
    yield();
  }
  EXPECT(write(fds[1], "x", 1), 1);
  close(fds[1]);
  long deadline = get_time_ns() + 10000 * MS;
  for (;;) {
    long r = waitpid(pid, &st, WNOHANG);
    if (r == pid) break;
    CHECK(r == 0, "waitpid(WNOHANG) = %ld while the child runs", r);
    CHECK(get_time_ns() < deadline, "the child did not exit within 10 s of its byte");
    sleep_ns(MS);
  }
  EXPECT(st, 7);
  EXPECT(waitpid(-1, &st, WNOHANG), -ECHILD);
  return true;
}

// A bad status pointer: -EFAULT, and the child stays a zombie for the next waitpid.
TEST(wait_fault) {
  long e = edge_page();
  long pid = fork();
  CHECK(pid >= 0, "fork = %ld", pid);
  if (pid == 0) exit(9);
  struct {
    long addr;
    const char* what;
  } cases[] = {
      {1, "0x1"},
      {KADDR, "kernel address"},
      {UNMAPPED, "unmapped"},
      {USER_TOP, "above user space"},
      {text_addr(), "program text (read-only)"},
      {rodata_addr(), "read-only data"},
      {e + PAGE - 2, "range off the end of a mapping"},
  };
  for (auto& c : cases) {
    long r = waitpid(pid, (int*)c.addr, 0);
    CHECK(r == -EFAULT, "waitpid(pid, %s) = %ld, want -EFAULT", c.what, r);
  }
  EXPECT(waitpid(-1, (int*)KADDR, 0), -EFAULT);
  int st = 0;
  EXPECT(waitpid(pid, &st, 0), pid);
  EXPECT(st, 9);
  return true;
}

// The process table fills up: a chain of processes, each forking the next and waiting for
// it, until fork fails. The last one exits with (errno << 16 | depth); the others pass it up.
int fork_chain(long) {
  int depth = 0;
  for (;;) {
    long pid = fork();
    if (pid == 0) {
      depth++;
      continue;
    }
    if (pid < 0) return (int)((-pid) << 16 | depth);
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) return -2;
    return st;
  }
}

TEST(fork_eagain) {
  long st = run_child(fork_chain, 0);
  CHECK(st >= 0, "the fork chain ended with status %ld", st);
  long err = st >> 16, depth = st & 0xffff;
  printf("  fork chain: %ld processes below the test, then fork = -%ld\n", depth, err);
  // A full process table gives EAGAIN; with many slots (NPROC=256) memory may run out first,
  // which is ENOMEM. Either way the kernel says which and every slot and frame comes back.
  CHECK(err == EAGAIN || err == ENOMEM, "fork failed with -%ld, want -EAGAIN or -ENOMEM", err);
  CHECK(depth >= 4, "only %ld processes could be created", depth);
  // Every slot came back.
  EXPECT(run_child([](long) { return 3; }, 0), 3);
  return true;
}

// Out of memory during fork: with more than half of free memory mapped, the copy cannot fit.
TEST(fork_enomem) {
  KernelStats s = get_stats();
  long pages = (long)s.frames_free * 3 / 5;
  long a = mmap(nullptr, pages * PAGE, RW);
  CHECK(a > 0, "mmap of %ld pages (60%% of free memory) = %ld", pages, a);
  for (long p = 0; p < pages; p++) *(volatile long*)(a + p * PAGE) = p;  // demand paging: now present
  long before = mem_mark();
  long pid = fork();
  if (g_cow) {
    // Copy-on-write: the fork shares the pages and succeeds; the child's writes need copies
    // that do not fit, and the page fault that finds no frame kills the child, not the kernel.
    if (pid == 0) {
      for (long p = 0; p < pages; p++) *(volatile long*)(a + p * PAGE) = -p;
      exit(0);
    }
    CHECK(pid > 0, "copy-on-write fork with %ld pages mapped = %ld", pages, pid);
    int st = 0;
    EXPECT(waitpid(pid, &st, 0), pid);
    EXPECT(st, -1);  // killed: out of memory on a page fault
    for (long p = 0; p < pages; p++) CHECK(*(volatile long*)(a + p * PAGE) == p, "page %ld changed", p);
  } else {
    if (pid == 0) exit(0);
    if (pid > 0) waitpid(pid, nullptr, 0);
    CHECK(pid == -ENOMEM, "fork with %ld pages mapped and %lu frames free = %ld, want -ENOMEM",
          pages, get_stats().frames_free, pid);
  }
  EXPECT(mem_mark(), before);  // the failed fork (or the killed child) gave back everything
  EXPECT(munmap((void*)a, pages * PAGE), 0);
  EXPECT(run_child([](long) { return 4; }, 0), 4);  // fork works again
  return true;
}

// Fork with memory exhausted fails with ENOMEM (EAGAIN means a full process table), in every
// scheme: scheme 1 fails earliest, on the child's trap-frame page.
TEST(fork_enomem_exhausted) {
  // Static, not on the stack (USER_STACK_PAGES=1 is one page); touched before the count.
  constexpr int MAX = 128;
  static long addrs[MAX], sizes[MAX];
  memset(addrs, 0, sizeof addrs), memset(sizes, 0, sizeof sizes);
  long before = mem_mark();
  int n = exhaust_memory(addrs, sizes, MAX);
  long pid = fork();
  if (pid == 0) exit(0);
  if (pid > 0) waitpid(pid, nullptr, 0);
  long left = (long)get_stats().frames_free;
  if (!release_memory(addrs, sizes, n)) return false;
  CHECK(pid == -ENOMEM, "fork with memory exhausted (%ld frames free) = %ld, want -ENOMEM", left, pid);
  EXPECT(mem_mark(), before);
  EXPECT(run_child([](long) { return 5; }, 0), 5);
  return true;
}

// ---------------------------------------------------------------- preemption
// A child spins with no system calls for SPIN_MS of timebase time; the parent must get the
// CPU meanwhile. The spin is timed, not counted, so that it spans several ticks at any
// CONFIG_TIMER_HZ (10 Hz and up: at least 5 ticks) on a host of any speed.
constexpr long SPIN_MS = 500;

int spinner(long) {
  KernelStats a = get_stats();
  uint64_t end = rdtime() + a.timebase_hz / 1000 * SPIN_MS;
  while (rdtime() < end) {
  }
  KernelStats b = get_stats();
  long irqs = (long)(b.self.interrupts - a.self.interrupts);
  return irqs > 100000 ? 100000 : (int)irqs;
}

TEST(preempt) {
  if (!g_counters) return counters_read_zero("preempt");  // the child reports its interrupt count
  long pid = fork();
  CHECK(pid >= 0, "fork = %ld", pid);
  if (pid == 0) exit(spinner(0));
  long t0 = get_time_ns();
  long passes = 0;  // times the parent came back from yield while the child still spun
  bool yielded = false;
  int st = 0;
  for (;;) {
    long r = waitpid(pid, &st, WNOHANG);
    if (r == pid) break;
    CHECK(r == 0, "waitpid(WNOHANG) = %ld", r);
    if (yielded) passes++;
    yield();
    yielded = true;
    if (get_time_ns() - t0 > 120000 * MS) {
      waitpid(pid, &st, 0);
      FAIL("the spinning child did not finish within 120 s");
    }
  }
  long ms = (get_time_ns() - t0) / MS;
  printf("  preempt: the parent ran %ld times in %ld ms while the child spun; "
         "the child took %d timer interrupts\n", passes, ms, st);
  // Preemption is the property: the child, spinning through several ticks, was interrupted,
  // and the parent ran again before the child finished.
  CHECK(st >= 1, "the child saw no timer interrupt while spinning %ld ms (status %d)",
        SPIN_MS, st);
  CHECK(passes >= 1, "the parent never ran while the child spun for %ld ms", ms);
  return true;
}

// ---------------------------------------------------------------- kill
int spin_forever(long) {
  for (;;) spin(1000);
}

int sleep_forever(long) {
  for (;;) sleep_ns(1000 * MS);
}

int read_pipe_forever(long fd) {
  char c;
  return (int)read((int)fd, &c, 1);  // the write end stays open in the parent: blocks
}

// Fork a child running fn(arg); returns its pid (the caller kills and reaps it).
long start_child(int (*fn)(long), long arg) {
  long pid = fork();
  if (pid == 0) exit(fn(arg));
  return pid;
}

// kill(pid) ends a descendant wherever it is (running, runnable, sleeping, blocked on a pipe,
// never run yet); its wait status is KILLED_STATUS. Anyone else: EPERM; no such pid: ESRCH.
TEST(kill) {
  int fds[2];
  EXPECT(pipe(fds), 0);
  int (*fns[])(long) = {spin_forever, sleep_forever, read_pipe_forever};
  for (auto fn : fns) {
    long pid = start_child(fn, fds[0]);
    CHECK(pid > 0, "fork = %ld", pid);
    sleep_ns(20 * MS);  // let it get going (the spinner takes ticks, the others block)
    EXPECT(kill(pid), 0);
    int st = 0;
    EXPECT(waitpid(pid, &st, 0), pid);
    EXPECT(st, KILLED_STATUS);
  }
  // Killed before it ever ran: no yield between fork and kill.
  long fresh = start_child(spin_forever, 0);
  EXPECT(kill(fresh), 0);
  int st = 0;
  EXPECT(waitpid(fresh, &st, 0), fresh);
  EXPECT(st, KILLED_STATUS);
  // A zombie: already ended; kill succeeds and changes nothing.
  long done = start_child([](long) { return 9; }, 0);
  sleep_ns(20 * MS);
  EXPECT(kill(done), 0);
  EXPECT(waitpid(done, &st, 0), done);
  EXPECT(st, 9);
  // Not descendants: ourselves, our parent, init; a sibling; a reaped pid; no such pid.
  EXPECT(kill(getpid()), -EPERM);
  EXPECT(kill(getppid()), -EPERM);
  if (getppid() != 1) EXPECT(kill(1), -EPERM);
  long victim = start_child(spin_forever, 0);
  long sibling = fork();
  if (sibling == 0) exit(kill(victim) == -EPERM ? 0 : 1);
  EXPECT(waitpid(sibling, &st, 0), sibling);
  EXPECT(st, 0);
  EXPECT(kill(victim), 0);
  EXPECT(waitpid(victim, &st, 0), victim);
  EXPECT(kill(victim), -ESRCH);
  EXPECT(kill(0x7fffffff), -ESRCH);
  EXPECT(kill(-1), -ESRCH);
  close(fds[0]), close(fds[1]);
  if (g_diag) EXPECT(diag(DIAG_RUNQ_CHECK, 0), 0);
  return true;
}

// A grandchild is a descendant too: killed, it is reaped by its parent as usual.
TEST(kill_grandchild) {
  int fds[2];
  EXPECT(pipe(fds), 0);
  long child = fork();
  if (child == 0) {
    long g = start_child(spin_forever, 0);
    write(fds[1], &g, sizeof g);
    int st = 0;
    exit(waitpid(g, &st, 0) == g && st == KILLED_STATUS ? 0 : 1);
  }
  long g = 0;
  EXPECT(read(fds[0], &g, sizeof g), sizeof g);
  EXPECT(kill(g), 0);
  int st = 0;
  EXPECT(waitpid(child, &st, 0), child);
  EXPECT(st, 0);
  close(fds[0]), close(fds[1]);
  return true;
}

// proc/sched.cpp: the run queue holds exactly the Runnable processes, each once (checked by
// DIAG_RUNQ_CHECK) while processes spin, yield, sleep, block on pipes and are killed.
TEST(run_queue) {
  if (!g_diag) {
    EXPECT(diag(DIAG_RUNQ_CHECK, 0), -ENOSYS);
    printf("  run_queue: diag compiled out (CONFIG_DIAG=n)\n");
    return true;
  }
  int fds[2];
  EXPECT(pipe(fds), 0);
  long pids[6];
  pids[0] = start_child(spin_forever, 0);
  pids[1] = start_child(spin_forever, 0);
  pids[2] = start_child(sleep_forever, 0);
  pids[3] = start_child(read_pipe_forever, fds[0]);
  pids[4] = start_child([](long) -> int { for (;;) yield(); }, 0);
  pids[5] = start_child([](long) -> int { for (;;) sleep_ns(MS); }, 0);
  for (long pid : pids) CHECK(pid > 0, "fork = %ld", pid);
  for (int i = 0; i < 200; i++) {
    EXPECT(diag(DIAG_RUNQ_CHECK, 0), 0);
    if (i % 3 == 0) yield();
    else if (i % 3 == 1) sleep_ns(MS);
  }
  for (long pid : pids) {
    EXPECT(kill(pid), 0);
    EXPECT(diag(DIAG_RUNQ_CHECK, 0), 0);
  }
  for (long pid : pids) EXPECT(waitpid(pid, nullptr, 0), pid);
  EXPECT(diag(DIAG_RUNQ_CHECK, 0), 0);
  close(fds[0]), close(fds[1]);
  return true;
}

}  // namespace
