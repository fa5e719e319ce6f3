// usertests: threads and harts (issue 17). Every test adapts to the harts online: with one hart
// the "remote" thread shares hart 0 and the test still checks the semantics; the harness runs
// the suite at -smp 1, 2 and 4 so that each test also runs across harts.
#include "framework.hpp"

namespace {

constexpr long STACK_PAGES = 4;
constexpr long STACK_BYTES = STACK_PAGES * PAGE;

long harts_online() { return (long)get_stats().harts_online; }
// The hart a test's second party runs on: the last one (hart 0 when there is only one).
long other_hart() { return harts_online() - 1; }

// A thread's stack from mmap; returns its top (16-byte aligned), or 0 if mmap failed.
void* new_stack() {
  long a = mmap(nullptr, STACK_BYTES, RW);
  return a < 0 ? nullptr : (void*)(a + STACK_BYTES);
}
void free_stack(void* top) { munmap((void*)((long)top - STACK_BYTES), STACK_BYTES); }

long load(const volatile long* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
void store(volatile long* p, long v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
long add(volatile long* p, long v) { return __atomic_add_fetch(p, v, __ATOMIC_ACQ_REL); }

// Wait (yielding, so it also works on one hart) until *p >= want or `ms` have passed.
// Every frame a test took comes back. Not checked per test with fork copy-on-write: a write to a
// page this process still shares with a child of an earlier test copies it, and the mark moves
// by that copy, which is no leak (the final `leak` check still counts every frame of the run).
#define EXPECT_MEM_BACK(before) \
  if (!g_cow) EXPECT(mem_mark(), before)

// How long a wait may take before a test calls it a hang. Generous: these are wall-clock waits,
// and under QEMU a loaded host stretches them (each hart is a host thread).
constexpr long HANG_MS = 60000;

bool await_at_least(const volatile long* p, long want, long ms) {
  long deadline = get_time_ns() + ms * MS;
  while (load(p) < want) {
    if (get_time_ns() > deadline) return false;
    yield();
  }
  return true;
}

// ---------------------------------------------------------------- create, join, exit

struct Shared {
  volatile long counter;
  volatile long go;
  volatile long tid_seen;
  volatile long pid_seen;
};

long returns_arg_plus_one(void* arg) { return (long)arg + 1; }

long calls_thread_exit(void* arg) {
  auto* s = (Shared*)arg;
  add(&s->counter, 1);
  thread_exit(1234);
}

long records_pid(void* arg) {
  auto* s = (Shared*)arg;
  store(&s->pid_seen, getpid());
  return 0;
}

TEST(thread_create_join) {
  long before = mem_mark();
  void* st = new_stack();
  CHECK(st, "mmap of a stack failed");
  // A returning fn ends its thread with its value (the library's trampoline).
  long tid = thread_create(returns_arg_plus_one, (void*)41, st);
  CHECK(tid > 0, "thread_create = %ld", tid);
  CHECK(tid != getpid(), "the new thread got the pid %ld as its tid", tid);
  EXPECT(thread_join(tid), 42);
  EXPECT(thread_join(tid), -ESRCH);  // joined once only
  // thread_exit's status, and memory written by the thread is the caller's memory.
  static Shared s;
  s = Shared{};
  tid = thread_create(calls_thread_exit, &s, st);
  CHECK(tid > 0, "thread_create = %ld", tid);
  EXPECT(thread_join(tid), 1234);
  EXPECT(load(&s.counter), 1);
  // A thread is in the same process: the same pid.
  tid = thread_create(records_pid, &s, st);
  CHECK(tid > 0, "thread_create = %ld", tid);
  EXPECT(thread_join(tid), 0);
  EXPECT(load(&s.pid_seen), getpid());
  // Tids are unique: a few threads alive at once have distinct ids.
  long tids[4];
  void* stacks[4];
  for (int i = 0; i < 4; i++) {
    stacks[i] = new_stack();
    CHECK(stacks[i], "mmap of a stack failed");
    tids[i] = thread_create(returns_arg_plus_one, (void*)(long)i, stacks[i]);
    CHECK(tids[i] > 0, "thread_create = %ld", tids[i]);
    for (int j = 0; j < i; j++) CHECK(tids[i] != tids[j], "tid %ld given twice", tids[i]);
  }
  for (int i = 3; i >= 0; i--) EXPECT(thread_join(tids[i]), i + 1);  // any order
  for (int i = 0; i < 4; i++) free_stack(stacks[i]);
  free_stack(st);
  EXPECT_MEM_BACK(before);  // every thread's kernel stack and trap frame came back
  return true;
}

TEST(thread_errors) {
  void* st = new_stack();
  CHECK(st, "mmap of a stack failed");
  long fn = (long)returns_arg_plus_one;
  // The raw call: the library's wrapper would store below a bad stack_top itself.
  EXPECT(syscall6(SYS_thread_create, fn, 0, (long)st - 8, 0, 0, 0), -EINVAL);
  EXPECT(syscall6(SYS_thread_create, fn, 0, (long)st - 1, 0, 0, 0), -EINVAL);
  EXPECT(syscall6(SYS_thread_create, fn, 0, UNMAPPED, 0, 0, 0), -EFAULT);
  EXPECT(syscall6(SYS_thread_create, fn, 0, KADDR, 0, 0, 0), -EFAULT);
  EXPECT(syscall6(SYS_thread_create, fn, 0, 0, 0, 0, 0), -EFAULT);
  EXPECT(syscall6(SYS_thread_create, fn, 0, TRAMPOLINE, 0, 0, 0), -EFAULT);
  // The wrapper passes a misaligned stack to the kernel rather than storing below it.
  EXPECT(thread_create(returns_arg_plus_one, nullptr, (void*)((long)st - 4)), -EINVAL);
  EXPECT(thread_join(getpid()), -EINVAL);  // the first thread's tid is the pid: itself
  const long bad_tids[] = {0, -1, 1l << 40, getpid() + 100000, -getpid()};
  for (long t : bad_tids) EXPECT(thread_join(t), -ESRCH);
  // A thread of another process (our parent's first thread) is no thread of ours.
  if (getppid() > 0) EXPECT(thread_join(getppid()), -ESRCH);
  free_stack(st);
  return true;
}

// Threads that stay alive, blocked (not spinning: a hundred threads yielding on four harts
// would only contend for the kernel), until the test closes the pipe's write end.
int limit_pipe[2];
long waits_for_eof(void*) {
  char c;
  return read(limit_pipe[0], &c, 1) == 0 ? 7 : 8;
}

// The thread table has a limit: creating threads ends in -EAGAIN (or -ENOMEM), never a panic,
// and every thread and frame comes back.
TEST(thread_limit) {
  long before = mem_mark();
  constexpr int MAX = 512;
  static long tids[MAX];
  static void* stacks[MAX];
  EXPECT(pipe(limit_pipe), 0);
  int n = 0;
  long r = 0;
  for (; n < MAX; n++) {
    stacks[n] = new_stack();
    if (!stacks[n]) break;
    r = thread_create(waits_for_eof, nullptr, stacks[n]);
    if (r < 0) {
      free_stack(stacks[n]);
      break;
    }
    tids[n] = r;
  }
  EXPECT(close(limit_pipe[1]), 0);  // EOF: every thread returns
  for (int i = 0; i < n; i++) EXPECT(thread_join(tids[i]), 7);
  EXPECT(close(limit_pipe[0]), 0);
  for (int i = 0; i < n; i++) free_stack(stacks[i]);
  CHECK(n < MAX, "%d threads created without reaching a limit", MAX);
  CHECK(r == -EAGAIN || r == -ENOMEM, "thread %d: thread_create = %ld, want -EAGAIN", n, r);
  CHECK(n >= 2, "only %d threads", n);
  EXPECT_MEM_BACK(before);
  return true;
}

// ---------------------------------------------------------------- the process ends

// Ends after the first thread has (joining it: its status is 5), with status 42.
long exits_last(void* first_tid) {
  if (thread_join((long)first_tid) != 5) thread_exit(6);
  thread_exit(42);
}

// The last thread's exit ends the process with its status.
int last_thread_ends_process(long) {
  void* st = new_stack();
  if (!st || thread_create(exits_last, (void*)getpid(), st) <= 0) return 2;
  thread_exit(5);  // the first thread leaves first
}

long spins_forever(void* arg) {
  auto* s = (Shared*)arg;
  if (sched_pin(add(&s->counter, 1) % harts_online()) != 0) return 3;
  add(&s->go, 1);
  for (;;) spin(1000);
}

// exit() from one thread ends every thread, wherever they run.
int exit_ends_all(long) {
  static Shared s;
  for (int i = 0; i < 4; i++) {
    void* st = new_stack();
    if (!st || thread_create(spins_forever, &s, st) <= 0) return 2;
  }
  if (!await_at_least(&s.go, 4, HANG_MS)) return 4;
  exit(9);
}

long faults(void*) {
  *(volatile long*)8 = 1;  // unmapped: the process is killed
  return 0;
}

// A thread's fault ends the process while its first thread waits in thread_join for it: the
// joiner must end too (it was blocked, waiting for the very thread that waits for it).
TEST(thread_fault_while_joined) {
  for (int round = 0; round < 4; round++) {
    long pid = fork();
    CHECK(pid >= 0, "fork = %ld", pid);
    if (pid == 0) {
      void* st = new_stack();
      long tid = st ? thread_create(faults, nullptr, st) : -1;
      if (tid > 0) thread_join(tid);
      exit(3);  // not reached: the fault ends the process
    }
    int st = 0;
    CHECK(wait_for(pid, &st, HANG_MS), "round %d: the process hung after its thread's fault", round);
    EXPECT(st, KILLED_STATUS);
  }
  return true;
}

TEST(thread_process_end) {
  long before = mem_mark();
  EXPECT(run_child(last_thread_ends_process, 0), 42);
  long pid = fork();
  CHECK(pid >= 0, "fork = %ld", pid);
  if (pid == 0) exit(exit_ends_all(0));
  int st = 0;
  CHECK(wait_for(pid, &st, HANG_MS), "exit() left a process with spinning threads running");
  EXPECT(st, 9);
  EXPECT_MEM_BACK(before);
  return true;
}

// ---------------------------------------------------------------- fork and exec

long forks(void* arg) {
  (void)arg;
  long tid_before = getpid();
  long pid = fork();
  if (pid < 0) return 100;
  if (pid == 0) {
    // The child has one thread: the forked one. The parent's first thread is not here.
    if (thread_join(tid_before) != -ESRCH) exit(11);
    exit(getpid() != tid_before ? 3 : 12);
  }
  int st = 0;
  if (waitpid(pid, &st, 0) != pid) return 101;
  return st;
}

TEST(thread_fork) {
  long before = mem_mark();
  void* st = new_stack();
  CHECK(st, "mmap of a stack failed");
  long tid = thread_create(forks, nullptr, st);
  CHECK(tid > 0, "thread_create = %ld", tid);
  EXPECT(thread_join(tid), 3);
  free_stack(st);
  EXPECT_MEM_BACK(before);
  return true;
}

// exec from a process with spinning threads on other harts: the others end, the new program
// runs alone and exits with its own status.
int execs_with_threads(long) {
  static Shared s;
  for (int i = 0; i < 3; i++) {
    void* st = new_stack();
    if (!st || thread_create(spins_forever, &s, st) <= 0) return 2;
  }
  if (!await_at_least(&s.go, 3, HANG_MS)) return 4;
  const char* args[] = {"usertests", "--child-exit", "23", nullptr};
  long r = exec("usertests", args);
  return EXEC_FAILED - (int)r;
}

TEST(thread_exec) {
  long before = mem_mark();
  long pid = fork();
  CHECK(pid >= 0, "fork = %ld", pid);
  if (pid == 0) exit(execs_with_threads(0));
  int st = 0;
  CHECK(wait_for(pid, &st, HANG_MS), "exec from a multi-threaded process did not finish");
  EXPECT(st, 23);
  EXPECT_MEM_BACK(before);
  return true;
}

// ---------------------------------------------------------------- harts

TEST(sched_pin_harts) {
  long n = harts_online();
  CHECK(n >= 1 && n <= 8, "harts_online = %ld", n);
  EXPECT(sched_pin(n), -EINVAL);
  EXPECT(sched_pin(8), -EINVAL);
  EXPECT(sched_pin(-2), -EINVAL);
  EXPECT(sched_pin(1l << 40), -EINVAL);
  EXPECT(sched_pin(-(1l << 40)), -EINVAL);
  for (int round = 0; round < 3; round++) {
    for (long h = n - 1; h >= 0; h--) {
      EXPECT(sched_pin(h), 0);
      EXPECT(current_hart(), h);
      yield();
      spin(10000);
      EXPECT(current_hart(), h);  // a pinned thread stays
    }
  }
  EXPECT(sched_pin(-1), 0);
  long h = current_hart();
  CHECK(h >= 0 && h < n, "current_hart = %ld", h);
  return true;
}

// Each thread pins itself to a hart and reports where it runs.
long pinned_report(void* arg) {
  long hart = (long)arg;
  if (sched_pin(hart) != 0) return -1;
  return current_hart() * 100 + hart;
}

TEST(sched_pin_threads) {
  long n = harts_online();
  void* stacks[8];
  long tids[8];
  for (long h = 0; h < n; h++) {
    stacks[h] = new_stack();
    CHECK(stacks[h], "mmap of a stack failed");
    tids[h] = thread_create(pinned_report, (void*)h, stacks[h]);
    CHECK(tids[h] > 0, "thread_create = %ld", tids[h]);
  }
  for (long h = 0; h < n; h++) EXPECT(thread_join(tids[h]), h * 100 + h);
  for (long h = 0; h < n; h++) free_stack(stacks[h]);
  return true;
}

// ---------------------------------------------------------------- pipes across harts

constexpr long ROUND_TRIPS = 10000;

struct PingPong {
  int to_echo[2];
  int from_echo[2];
  long hart;
};

// Echo each byte back, pinned to the other hart, until EOF.
long echoes(void* arg) {
  auto* p = (PingPong*)arg;
  if (sched_pin(p->hart) != 0) return -1;
  long n = 0;
  char c;
  for (;;) {
    long r = read(p->to_echo[0], &c, 1);
    if (r == 0) return n;
    if (r != 1 || write(p->from_echo[1], &c, 1) != 1) return -2;
    n++;
  }
}

// 10^4 round trips between hart 0 and the last hart: no lost wake-up (a hang) and no byte lost,
// duplicated or reordered.
TEST(thread_pipe_pingpong) {
  long before = mem_mark();
  static PingPong p;
  EXPECT(pipe(p.to_echo), 0);
  EXPECT(pipe(p.from_echo), 0);
  p.hart = other_hart();
  EXPECT(sched_pin(0), 0);
  void* st = new_stack();
  CHECK(st, "mmap of a stack failed");
  long tid = thread_create(echoes, &p, st);
  CHECK(tid > 0, "thread_create = %ld", tid);
  for (long i = 0; i < ROUND_TRIPS; i++) {
    char c = (char)(i * 7), back = 0;
    EXPECT(write(p.to_echo[1], &c, 1), 1);
    EXPECT(read(p.from_echo[0], &back, 1), 1);
    CHECK(back == c, "round trip %ld: sent %d, got %d", i, c, back);
  }
  EXPECT(close(p.to_echo[1]), 0);  // EOF ends the echo thread
  EXPECT(thread_join(tid), ROUND_TRIPS);
  EXPECT(close(p.to_echo[0]) | close(p.from_echo[0]) | close(p.from_echo[1]), 0);
  EXPECT(sched_pin(-1), 0);
  free_stack(st);
  EXPECT_MEM_BACK(before);
  return true;
}

// ---------------------------------------------------------------- shootdown

// A reader thread pinned to the other hart reads a page in a loop (no system call between the
// reads, so its TLB keeps the translation) while the first thread, on hart 0, unmaps the page
// and fills the freed frames with a different pattern. The reader must fault (the process is
// killed: status -1); it must never see the new pattern, which would mean it read the old frame
// through a stale translation after the frame was reused. It reports that through a pipe
// to the test, which outlives the killed process.
constexpr long PATTERN = 0x5a5a5a5a5a5a5a5al;
constexpr long REUSED = 0x0badf00d0badf00dl;
constexpr int REFILL_PAGES = 256;
constexpr int STALE = 1, NO_FAULT = 2, SETUP = 3, AFTER_UNMAP = 4;

struct Shootdown {
  volatile long* page;
  volatile long reads;
  volatile long unmapped;  // set once munmap has returned
  int report_fd;
  long hart;
};

long reads_page(void* arg) {
  auto* s = (Shootdown*)arg;
  if (sched_pin(s->hart) != 0) return -1;
  for (;;) {
    // munmap had returned before this read (acquire: the read cannot move above the flag's),
    // so the read must fault; a value read now came through a stale translation
    long gone = load(&s->unmapped);
    long v = s->page[0];
    if (v != PATTERN || gone) {
      char c = v == REUSED ? STALE : gone ? AFTER_UNMAP : SETUP;
      write(s->report_fd, &c, 1);
      for (;;) spin(1000);
    }
    add(&s->reads, 1);
  }
}

int shootdown_child(long report_fd) {
  static Shootdown s;
  s.unmapped = 0;
  s.report_fd = (int)report_fd;
  s.hart = other_hart() > 0 ? 1 : 0;
  if (sched_pin(0) != 0) return 50;
  long page = mmap(nullptr, PAGE, RW);
  if (page < 0) return 51;
  s.page = (volatile long*)page;
  s.page[0] = PATTERN;
  void* st = new_stack();
  if (!st || thread_create(reads_page, &s, st) <= 0) return 52;
  if (!await_at_least(&s.reads, 1000, HANG_MS)) return 53;
  if (munmap((void*)page, PAGE) != 0) return 54;
  store(&s.unmapped, 1);
  // Reuse the freed frames (the unmapped one is most likely the first handed out again), at
  // VAs away from the page: mmap(nullptr) would hand the page's own VA out again, and a read
  // through that new, legitimate mapping is no stale translation.
  long refill = -1;
  for (long away = 1024; refill < 0 && away <= 64 * 1024; away *= 2)
    refill = mmap((void*)(page + away * PAGE), REFILL_PAGES * PAGE, RW);
  if (refill < 0) return 55;
  for (long off = 0; off < REFILL_PAGES * PAGE; off += 8) *(volatile long*)(refill + off) = REUSED;
  // The reader's next read faults, which ends this process too: wait for that (a wall-clock
  // bound, not a count of our own loops: on a loaded host the reader's hart may not have run
  // at all while this one spun).
  long deadline = get_time_ns() + HANG_MS / 2 * MS;
  while (get_time_ns() < deadline) {
    yield();
    spin(10000);
  }
  char c = NO_FAULT;
  write((int)report_fd, &c, 1);
  return SURVIVED;
}

TEST(thread_shootdown) {
  long before = mem_mark();
  for (int round = 0; round < 8; round++) {
    int fds[2];
    EXPECT(pipe(fds), 0);
    long pid = fork();
    CHECK(pid >= 0, "fork = %ld", pid);
    if (pid == 0) {
      close(fds[0]);
      exit(shootdown_child(fds[1]));
    }
    EXPECT(close(fds[1]), 0);
    int st = 0;
    CHECK(wait_for(pid, &st, HANG_MS), "round %d: the shootdown child hung", round);
    char c = 0;
    long r = read(fds[0], &c, 1);
    EXPECT(close(fds[0]), 0);
    CHECK(!(r == 1 && c == STALE), "round %d: the reader read the reused frame after munmap", round);
    CHECK(!(r == 1 && c == AFTER_UNMAP), "round %d: the reader read the page after munmap returned", round);
    CHECK(!(r == 1 && c == SETUP), "round %d: the reader saw neither pattern", round);
    CHECK(st != SURVIVED, "round %d: the reader did not fault after munmap", round);
    EXPECT(st, KILLED_STATUS);  // killed for the reader's page fault
  }
  EXPECT_MEM_BACK(before);
  return true;
}

// munmap while threads on every hart hold the address space: the stats count the shootdowns
// (with more than one hart a remote fence is needed; with one hart none is).
long spins_until_go(void* arg) {
  auto* s = (Shared*)arg;
  long hart = add(&s->counter, 1) % harts_online();
  if (sched_pin(hart) != 0) return -1;
  add(&s->tid_seen, 1);
  while (load(&s->go) == 0) spin(100);
  return 0;
}

TEST(thread_shootdown_counted) {
  if (!g_counters) return counters_read_zero("thread_shootdown_counted");
  long n = harts_online();
  static Shared s;
  s = Shared{};
  void* stacks[8];
  long tids[8];
  for (long i = 0; i < n - 1; i++) {
    stacks[i] = new_stack();
    CHECK(stacks[i], "mmap of a stack failed");
    tids[i] = thread_create(spins_until_go, &s, stacks[i]);
    CHECK(tids[i] > 0, "thread_create = %ld", tids[i]);
  }
  EXPECT(sched_pin(0), 0);
  CHECK(await_at_least(&s.tid_seen, n - 1, HANG_MS), "the threads did not start");
  // With ASIDs the space's harts are sticky (every hart it ran on), so the first munmap must
  // fence the spinners' harts. Without ASIDs only harts that have the table loaded at that
  // instant are fenced, and a spinner may be between a tick and its next turn (another process
  // of the system runnable on its hart): then 0 is right, so try again, a bounded number of times.
  bool sticky = get_stats().asid_bits > 0;
  long tries = sticky || n == 1 ? 1 : 200;
  long shootdowns = 0, fences = 0;
  for (long t = 0; t < tries && shootdowns == 0; t++) {
    long page = mmap(nullptr, PAGE, RW);
    CHECK(page > 0, "mmap = %ld", page);
    *(volatile long*)page = 1;
    KernelStats a = get_stats();
    EXPECT(munmap((void*)page, PAGE), 0);
    KernelStats b = get_stats();
    shootdowns = (long)(b.tlb_shootdowns - a.tlb_shootdowns);
    fences = (long)(b.remote_fences_sent - a.remote_fences_sent);
    // One page, so at most one fence per other hart.
    CHECK(fences <= n - 1, "munmap of one page sent %ld remote fences with %ld harts", fences, n);
  }
  store(&s.go, 1);
  for (long i = 0; i < n - 1; i++) EXPECT(thread_join(tids[i]), 0);
  for (long i = 0; i < n - 1; i++) free_stack(stacks[i]);
  EXPECT(sched_pin(-1), 0);
  if (n == 1) {
    EXPECT(shootdowns, 0);
    EXPECT(fences, 0);
  } else {
    CHECK(shootdowns >= 1, "munmap with threads on %ld harts counted %ld shootdowns (%ld tries)", n,
          shootdowns, tries);
    CHECK(fences >= 1, "munmap with threads on %ld harts sent %ld remote fences", n, fences);
  }
  return true;
}

}  // namespace
