// usertests: the kernel's test suite, run as a user program (`init=usertests`, or from sh).
//
// Every test runs in a child process of its own, so that a test that breaks its process (a
// fault, a leaked mapping, a changed program break) cannot disturb the next one, and so that
// this process's own address space never changes: the leak check at the end compares the
// free-frame count before and after all tests, which is only meaningful if this process holds
// exactly the same memory at both points.
//
// `usertests` runs every test; `usertests NAME...` only those named (the leak check always).
// Output: one line per test, `test NAME: ok` or `test NAME: FAIL <reason>` (a failing test
// process prints its own FAIL line), lines starting with two spaces are information, and at
// the end `usertests: N passed, M failed`. main returns 0 only if every test passed.
//
// usertests also runs itself through exec to check argument passing; argv[1] = `--child-...`
// selects one of those helper modes (see helper_main).
#include "user.hpp"

using namespace uapi;

namespace {

// ---------------------------------------------------------------- layout facts
constexpr long PAGE = 4096;
constexpr long MS = 1000 * 1000;  // nanoseconds
constexpr long USER_TOP = 0x4000000000;     // user space is [0, USER_TOP)
constexpr long STACK_TOP = 0x3fffff0000;    // the user stack ends here
constexpr long KERNEL_HALF = (long)0xffffffc000000000ul;
constexpr long KADDR = (long)0xffffffc000200000ul;       // where the kernel image sits in scheme 1/2
constexpr long KADDR_HIGH = (long)0xffffffff00000000ul;  // high in the kernel half
constexpr long TRAMPOLINE = (long)0xfffffffffffff000ul;  // a fixed kernel page (no U bit)
// Fixed user addresses for the tests. mmap(0, ...) allocates from 0x2000000000 upwards, the
// image sits at 0x10000 and the heap right after it, so these stay free unless a test maps them.
constexpr long FIXED = 0x1000000000;     // fixed-address mmap tests
constexpr long EDGE = 0x1400000000;      // a page whose successor is never mapped
constexpr long UNMAPPED = 0x1800000000;  // never mapped
constexpr long MEGA = 2l << 20;

constexpr int RW = PROT_READ | PROT_WRITE;

// A child that returns from a function that should have killed it exits with this.
constexpr int SURVIVED = 77;
// A forked child whose exec failed exits with EXEC_FAILED + errno.
constexpr int EXEC_FAILED = 1000;
// Returned by run_child when fork or waitpid itself failed (never a real status).
constexpr long NO_CHILD = -1000000;

// ---------------------------------------------------------------- state shared with children
// Recorded by main before any test runs; forked test processes inherit the values.
long g_initial_brk;  // the program break as exec left it
bool g_is_init;      // are we pid 1 (then orphans come to us)?
long g_scheme;       // 1, 2 or 3
bool g_counters;     // CONFIG_STATS: the kernel counts events (else every counter reads 0)
bool g_diag;         // CONFIG_DIAG: the diag call answers (else it fails with -ENOSYS)
bool g_demand;       // CONFIG_MEMORY_DEMAND: anonymous pages appear at the first touch
bool g_cow;          // CONFIG_FORK_COW: fork shares pages copy-on-write
char g_reason[512];  // why the current test failed

// ---------------------------------------------------------------- checking
#define FAIL(...)                                     \
  do {                                                \
    snprintf(g_reason, sizeof g_reason, __VA_ARGS__); \
    return false;                                     \
  } while (0)

#define CHECK(cond, ...)            \
  do {                              \
    if (!(cond)) FAIL(__VA_ARGS__); \
  } while (0)

// EXPECT(expr, want): both are converted to long and compared.
#define EXPECT(expr, want)                                                                  \
  do {                                                                                      \
    long got_ = (long)(expr);                                                               \
    long want_ = (long)(want);                                                              \
    if (got_ != want_) FAIL("line %d: %s = %ld, want %ld", __LINE__, #expr, got_, want_); \
  } while (0)

// ---------------------------------------------------------------- helpers
long round_up(long x, long a) { return (x + a - 1) / a * a; }
long round_down(long x, long a) { return x / a * a; }

KernelStats get_stats() {
  KernelStats s;
  memset(&s, 0, sizeof s);
  stats(&s);
  return s;
}

// Free frames plus the page-table pages this process holds plus the kernel heap's frames.
// The kernel keeps empty page-table pages of a process until it exits, and heap frames
// forever, so frames_free alone can drop without a leak; the sum stays constant unless
// memory leaked.
long mem_mark() {
  KernelStats s = get_stats();
  return (long)(s.frames_free + s.self.pt_pages + s.heap_pages);
}

// CONFIG_STATS=n: the kernel counts nothing, so a test of counter values checks that they all
// read zero, which is what docs/syscalls.md promises for that build.
bool counters_read_zero(const char* test) {
  KernelStats s = get_stats();
  const Counters* both[] = {&s.self, &s.global};
  for (const Counters* c : both)
    CHECK(c->traps == 0 && c->syscalls == 0 && c->interrupts == 0 && c->faults == 0 &&
              c->satp_writes == 0 && c->sfence_all == 0 && c->sfence_asid == 0 && c->sfence_addr == 0 &&
              c->context_switches == 0,
          "%s: CONFIG_STATS=n but a counter is not zero", test);
  printf("  %s: counters are compiled out (CONFIG_STATS=n): all read 0\n", test);
  return true;
}

// Fork; the child runs fn(arg) and exits with its return value. Returns the child's status.
long run_child(int (*fn)(long), long arg) {
  long pid = fork();
  if (pid < 0) return NO_CHILD;
  if (pid == 0) exit(fn(arg));
  int st = 0;
  if (waitpid(pid, &st, 0) != pid) return NO_CHILD;
  return st;
}

// Run fn(arg) in a child that must be killed by the kernel (wait status -1).
bool expect_killed(const char* what, void (*fn)(long), long arg) {
  long pid = fork();
  if (pid < 0) FAIL("%s: fork failed (%ld)", what, pid);
  if (pid == 0) {
    fn(arg);
    exit(SURVIVED);
  }
  int st = 0;
  long r = waitpid(pid, &st, 0);
  if (r != pid) FAIL("%s: waitpid = %ld", what, r);
  if (st != -1) FAIL("%s: child status %d, want -1 (killed by the kernel)", what, st);
  return true;
}

// EXPECT_KILLED(what, fn, arg); variadic because a lambda argument may contain commas.
#define EXPECT_KILLED(what, ...)                         \
  do {                                                   \
    if (!expect_killed(what, __VA_ARGS__)) return false; \
  } while (0)

// Fork a child that runs exec(path, argv). Returns the child's status: the exec'd program's
// exit status, or EXEC_FAILED + errno when exec failed.
long exec_in_child(const char* path, const char* const* argv) {
  long pid = fork();
  if (pid < 0) return NO_CHILD;
  if (pid == 0) {
    long r = exec(path, argv);
    exit(EXEC_FAILED + (int)-r);
  }
  int st = 0;
  if (waitpid(pid, &st, 0) != pid) return NO_CHILD;
  return st;
}

// Wait up to `ms` milliseconds for pid to exit. Returns true (and the status) if it did.
bool wait_for(long pid, int* status, long ms) {
  long deadline = get_time_ns() + ms * MS;
  for (;;) {
    long r = waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r != 0 || get_time_ns() > deadline) return false;
    sleep_ns(MS);
  }
}

// A mapped read-write page at EDGE; the page after it is never mapped, so a range that starts
// near the end of this page runs off the end of a mapping.
long edge_page() {
  long a = mmap((void*)EDGE, PAGE, RW);
  return a == -EINVAL ? EDGE : a;  // already mapped by an earlier call in this process
}

// Pointers that are bad for every system call: null, a tiny address, kernel addresses, the
// first address above user space, and an unmapped user address.
struct BadPtr {
  long addr;
  const char* what;
};
const BadPtr BAD_PTRS[] = {
    {0, "null"},
    {1, "0x1"},
    {KADDR, "kernel 0xffffffc000200000"},
    {KADDR_HIGH, "kernel 0xffffffff00000000"},
    {USER_TOP, "0x4000000000 (above user space)"},
    {UNMAPPED, "unmapped 0x1800000000"},
};

// Addresses of read-only memory: program text and read-only data.
const long RODATA_WORDS[4] = {1, 2, 3, 4};
long text_addr();
long rodata_addr() { return (long)RODATA_WORDS; }

// The argv checksum that `usertests --child-echo ...` returns: the parent computes it over
// the argv it passed, the child over the argv it received.
int argv_hash(int argc, const char* const* argv) {
  uint32_t h = 2166136261u;  // FNV-1a over every byte and every terminating NUL
  for (int i = 0; i < argc; i++) {
    for (const char* p = argv[i];; p++) {
      h = (h ^ (uint8_t)*p) * 16777619u;
      if (*p == 0) break;
    }
  }
  return (int)((h & 0xfffff) | ((uint32_t)argc << 20));
}

// A tight user loop with no system calls; `asm volatile` keeps the compiler from removing it.
void spin(long iterations) {
  for (long i = 0; i < iterations; i++) asm volatile("");
}

// ================================================================= the tests
// Each returns true on success or sets g_reason and returns false.

// ---------------------------------------------------------------- the user library
bool t_printf() {
  char buf[128];
  snprintf(buf, sizeof buf, "%d|%5d|%-5d|%05d|%x|%X|%lx|%c|%%|%s|%.3s|%3s", -42, 42, 42, -42, 255,
           255, 0xdeadbeefcaful, 'c', "str", "abcdef", "x");
  const char* want = "-42|   42|42   |-0042|ff|FF|deadbeefcaf|c|%|str|abc|  x";
  CHECK(strcmp(buf, want) == 0, "got '%s', want '%s'", buf, want);
  snprintf(buf, sizeof buf, "%ld %lu %zu %u %p", (long)(1ul << 63), ~0ul, (size_t)7, ~0u,
           (void*)0x1234);
  want = "-9223372036854775808 18446744073709551615 7 4294967295 0x1234";
  CHECK(strcmp(buf, want) == 0, "got '%s', want '%s'", buf, want);
  snprintf(buf, sizeof buf, "%#x|%#08x|%#x|%8p|%-6x|", 255, 255, 0, (void*)0xab, 0xab);
  want = "0xff|0x0000ff|0|    0xab|ab    |";
  CHECK(strcmp(buf, want) == 0, "got '%s', want '%s'", buf, want);
  const char* volatile nothing = nullptr;
  snprintf(buf, sizeof buf, "%s", nothing);
  CHECK(strcmp(buf, "(null)") == 0, "null string printed as '%s'", buf);
  EXPECT(snprintf(buf, 4, "hello"), 5);
  CHECK(strcmp(buf, "hel") == 0, "truncated to '%s'", buf);
  EXPECT(snprintf(nullptr, 0, "%d", 12345), 5);
  return true;
}

bool t_string() {
  char buf[32];
  strcpy(buf, "0123456789");
  memmove(buf + 2, buf, 5);  // overlapping, forwards
  CHECK(memcmp(buf, "0101234789", 10) == 0, "memmove forwards gave '%s'", buf);
  strcpy(buf, "0123456789");
  memmove(buf, buf + 3, 5);  // overlapping, backwards
  CHECK(memcmp(buf, "3456756789", 10) == 0, "memmove backwards gave '%s'", buf);
  CHECK(memcmp("abc", "abd", 3) < 0 && memcmp("abd", "abc", 3) > 0, "memcmp order");
  CHECK(strcmp("abc", "abc") == 0 && strcmp("ab", "abc") < 0 && strcmp("b", "abc") > 0, "strcmp");
  CHECK(strncmp("abcx", "abcy", 3) == 0 && strncmp("abcx", "abcy", 4) < 0, "strncmp");
  EXPECT(strlen(""), 0);
  EXPECT(strlen("hello"), 5);
  EXPECT(atol("12345"), 12345);
  EXPECT(atol("-77"), -77);
  EXPECT(atol("abc"), 0);
  EXPECT(atol("12x"), 0);
  static char big[1000];
  memset(big + 3, 0x5a, 900);
  for (int i = 0; i < 1000; i++) CHECK(big[i] == ((i >= 3 && i < 903) ? 0x5a : 0), "memset at %d", i);
  return true;
}

bool t_malloc() {
  char* blocks[40];
  for (int i = 0; i < 40; i++) {
    size_t n = (size_t)(i * 97 + 1);
    blocks[i] = (char*)malloc(n);
    CHECK(blocks[i] != nullptr, "malloc(%zu) failed", n);
    CHECK(((uintptr_t)blocks[i] & 15) == 0, "malloc result %p not 16-byte aligned", blocks[i]);
    memset(blocks[i], i, n);
  }
  for (int i = 1; i < 40; i += 2) free(blocks[i]);
  for (int i = 1; i < 40; i += 2) {
    blocks[i] = (char*)malloc((size_t)(i * 97 + 1));
    CHECK(blocks[i] != nullptr, "malloc after free failed");
    memset(blocks[i], i, (size_t)(i * 97 + 1));
  }
  for (int i = 0; i < 40; i++)
    for (int k = 0; k < i * 97 + 1; k++) CHECK(blocks[i][k] == (char)i, "block %d overwritten", i);
  for (int i = 0; i < 40; i++) free(blocks[i]);
  char* big = (char*)malloc(1 << 20);
  CHECK(big != nullptr, "malloc(1 MiB) failed");
  big[0] = 1, big[(1 << 20) - 1] = 2;
  free(big);
  CHECK(malloc(1ul << 45) == nullptr, "an impossible malloc succeeded");
  return true;
}

// ---------------------------------------------------------------- system-call basics
bool t_unknown_syscall() {
  // Just past the last call, the old Linux-style numbers, and numbers that only an unsigned
  // or a full-width comparison rejects.
  const long numbers[] = {0, SYS_COUNT, SYS_COUNT + 1, 63, 64, 93, 172, 500, 4096, -1, -2,
                          1l << 32, 1l << 40, (long)(1ul << 63)};
  for (long nr : numbers) {
    long r = syscall6(nr, 1, 2, 3, 4, 5, 6);
    CHECK(r == -ENOSYS, "syscall %ld returned %ld, want -ENOSYS (%ld)", nr, r, -ENOSYS);
  }
  // Extra argument registers are ignored.
  EXPECT(syscall6(SYS_getpid, -1, -1, -1, -1, -1, -1), getpid());
  return true;
}

bool t_write() {
  static const char msg[] = "  (write to fd 1)\n";
  static const char msg2[] = "  (write to fd 2)\n";
  EXPECT(write(1, msg, sizeof msg - 1), sizeof msg - 1);
  EXPECT(write(2, msg2, sizeof msg2 - 1), sizeof msg2 - 1);
  EXPECT(write(1, msg, 0), 0);
  const int bad_fds[] = {0, 3, 4, -1, 1000, 1 << 20};
  for (int fd : bad_fds) {
    long r = write(fd, msg, 1);
    CHECK(r == -EBADF, "write(fd %d) = %ld, want -EBADF", fd, r);
  }
  for (const BadPtr& b : BAD_PTRS) {
    long r = write(1, (const void*)b.addr, 8);
    CHECK(r == -EFAULT, "write(1, %s, 8) = %ld, want -EFAULT", b.what, r);
  }
  long e = edge_page();
  CHECK(e == EDGE, "mmap of the edge page = %ld", e);
  memset((void*)(e + PAGE - 8), 'x', 8);
  EXPECT(write(1, (void*)(e + PAGE - 4), 8), -EFAULT);  // runs off the end of the mapping
  EXPECT(write(1, msg, ~0ul), -EFAULT);                 // wraps around
  EXPECT(write(1, msg, 1ul << 40), -EFAULT);            // far beyond any mapping
  return true;
}

bool t_read() {
  char buf[8];
  const int bad_fds[] = {1, 2, 3, -1, 1000};
  for (int fd : bad_fds) {
    long r = read(fd, buf, 1);
    CHECK(r == -EBADF, "read(fd %d) = %ld, want -EBADF", fd, r);
  }
  EXPECT(read(0, buf, 0), 0);
  return true;
}

// read with a bad buffer must fail at once, not wait for console input first. Each attempt
// runs in a child; one that blocks is left behind (there is no kill) and the test fails.
bool t_read_fault() {
  long e = edge_page();
  struct {
    long addr;
    const char* what;
  } cases[8];
  int n = 0;
  for (const BadPtr& b : BAD_PTRS) cases[n++] = {b.addr, b.what};
  cases[n++] = {e + PAGE - 4, "range off the end of a mapping"};
  cases[n++] = {rodata_addr(), "read-only data"};
  for (int i = 0; i < n; i++) {
    long pid = fork();
    CHECK(pid >= 0, "fork = %ld", pid);
    if (pid == 0) exit(read(0, (void*)cases[i].addr, 8) == -EFAULT ? 0 : 1);
    int st = 0;
    if (!wait_for(pid, &st, 10000))
      FAIL("read(0, %s, 8) blocked instead of returning -EFAULT (the child stays blocked)",
           cases[i].what);
    CHECK(st == 0, "read(0, %s, 8) did not return -EFAULT (status %d)", cases[i].what, st);
  }
  return true;
}

bool t_exit_status() {
  const int codes[] = {0, 1, 42, 255, 256, 65536, -5, 0x7fffffff, -100000};
  for (int c : codes) {
    long st = run_child([](long c) { return (int)c; }, c);
    CHECK(st == c, "child exit(%d) gave status %ld", c, st);
  }
  // Returning from main is exit(main's value): checked by every exec helper below.
  return true;
}

bool t_getpid_yield() {
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
bool t_fork_reap_any() {
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

bool t_fork_reap_order() {
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

bool t_fork_tree() {
  EXPECT(tree_node(0), 15);
  return true;
}

bool t_wait_errors() {
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

bool t_wait_nohang() {
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
bool t_wait_fault() {
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

bool t_fork_eagain() {
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
bool t_fork_enomem() {
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
bool t_fork_enomem_exhausted() {
  long before = mem_mark();
  constexpr int MAX = 128;
  long addrs[MAX], sizes[MAX];
  int n = 0;
  bool exhausted = false;
  for (long chunk = 1024; chunk >= 1 && n < MAX && !exhausted;) {
    long a = mmap(nullptr, chunk * PAGE, RW);
    if (a <= 0) {
      chunk /= 2;
      continue;
    }
    addrs[n] = a, sizes[n++] = chunk;
    // Demand paging: make the pages present through the kernel, which reports running out
    // as ENOMEM (a touch from user mode would be killed instead).
    for (long p = 0; g_demand && p < chunk && !exhausted; p++) {
      long one = 1;
      exhausted = bench_echo(&one, (void*)(a + p * PAGE), sizeof one) == -ENOMEM;
    }
  }
  long pid = fork();
  if (pid == 0) exit(0);
  if (pid > 0) waitpid(pid, nullptr, 0);
  long left = (long)get_stats().frames_free;
  for (int i = 0; i < n; i++) EXPECT(munmap((void*)addrs[i], sizes[i] * PAGE), 0);
  CHECK(pid == -ENOMEM, "fork with memory exhausted (%ld frames free) = %ld, want -ENOMEM", left, pid);
  EXPECT(mem_mark(), before);
  EXPECT(run_child([](long) { return 5; }, 0), 5);
  return true;
}

// A new mapping of the running process is fenced (the hart may have cached the invalid
// entries it replaces), with one sfence.vma per page up to 32 pages, one per ASID above; in
// scheme 1 without ASIDs the process table is not loaded in the kernel and the trap return's
// flush covers it. An unmapped page is fenced before its frame is freed.
bool t_mmap_fences() {
  if (!g_counters) return counters_read_zero("mmap_fences");
  KernelStats s = get_stats();
  bool fenced = g_scheme != 1 || s.asid_enabled;
  // Scheme 1 without ASIDs flushes everything twice per trap in its trampoline: leave those out.
  auto fences = [fenced](const KernelStats& k) {
    return (long)(k.self.sfence_addr + k.self.sfence_asid + (fenced ? k.self.sfence_all : 0));
  };
  // A timer interrupt or a switch inside the window adds the switch's own flush (without
  // ASIDs): the counts are taken over a window that had neither, retried until one has.
  auto quiet = [](const KernelStats& a, const KernelStats& b) {
    return a.self.interrupts == b.self.interrupts &&
           a.self.context_switches == b.self.context_switches;
  };
  long want_map = fenced ? 4 : 0;
  bool measured = false;
  for (int attempt = 0; attempt < 50 && !measured; attempt++) {
    KernelStats k0 = get_stats();
    long a = mmap(nullptr, 4 * PAGE, RW);
    CHECK(a > 0, "mmap = %ld", a);
    KernelStats k1 = get_stats();
    KernelStats touched = k1;
    if (g_demand) {
      // Nothing is mapped until the first touch; each touch is a page fault whose new entry
      // is fenced.
      for (int p = 0; p < 4; p++) *(volatile long*)(a + p * PAGE) = p;
      touched = get_stats();
    }
    EXPECT(munmap((void*)a, 4 * PAGE), 0);
    KernelStats k2 = get_stats();
    long big = mmap(nullptr, 64 * PAGE, RW);
    CHECK(big > 0, "mmap = %ld", big);
    KernelStats k3 = get_stats();
    EXPECT(munmap((void*)big, 64 * PAGE), 0);
    if (!quiet(k0, k3)) continue;
    measured = true;
    if (g_demand)
      CHECK(fences(k1) - fences(k0) == 0, "mmap of 4 pages on demand: %ld fences, want 0",
            fences(k1) - fences(k0));
    CHECK(fences(touched) - fences(k0) == want_map, "mmap of 4 pages: %ld fences, want %ld",
          fences(touched) - fences(k0), want_map);
    CHECK(fences(k2) - fences(touched) == want_map, "munmap of 4 pages: %ld fences, want %ld",
          fences(k2) - fences(touched), want_map);
    long want_big = fenced && !g_demand ? 1 : 0;
    CHECK(fences(k3) - fences(k2) == want_big, "mmap of 64 pages: %ld fences, want %ld",
          fences(k3) - fences(k2), want_big);
  }
  CHECK(measured, "50 attempts, each with a timer interrupt or a switch inside the window");
  return true;
}

// ---------------------------------------------------------------- ASIDs
// One link of a fork chain: map a page, fill it with a pattern of our own, fork the next link
// (which does the same), and when it is done check that our page still holds our pattern and
// that no ASID is held twice. Under asid_bits=2..4 (pytest boots usertests so) the chain is
// longer than the ASID space, so the generation rolls over while the links are alive.
int asid_chain_link(long depth) {
  // Iterative, not recursive: each link is a new process that continues this loop, so the
  // chain needs no more stack than one link (CONFIG_USER_STACK_PAGES may be 1).
  for (;;) {
    long a = mmap(nullptr, PAGE, RW);
    if (a < 0) return 90;
    long* page = (long*)a;
    long mark = getpid() * 1000003;
    for (int i = 0; i < 512; i++) page[i] = mark + i;
    if (depth > 0) {
      long pid = fork();
      if (pid == 0) {
        depth--;
        continue;  // the child is the next link
      }
      if (pid > 0) {
        int st = 0;
        if (waitpid(pid, &st, 0) != pid) return 91;
        if (st != 0) return st;
      } else if (pid != -EAGAIN && pid != -ENOMEM) {  // a full table (small NPROC) ends the chain
        return 92;
      }
    }
    // Short-lived processes die and free their ASIDs while we are alive.
    for (int k = 0; k < 3; k++) {
      long pid = fork();
      if (pid == 0) {
        for (int i = 0; i < 512; i++) page[i] = -1;  // our copy only
        exit(0);
      }
      if (pid > 0) waitpid(pid, nullptr, 0);
      yield();
    }
    for (int i = 0; i < 512; i++)
      if (page[i] != mark + i) return 93;
    if (g_diag && diag(DIAG_ASID_CHECK, 0) != 0) return 94;
    return 0;
  }
}

bool t_asid_chain() {
  constexpr int LINKS = 40;
  KernelStats s0 = get_stats();
  long st = run_child(asid_chain_link, LINKS);
  CHECK(st == 0, "fork chain of %d links ended with status %ld (90s: see asid_chain_link)", LINKS, st);
  // The same through exec: each exec builds a new address space and destroys the old one.
  const char* args[] = {"usertests", "--child-asid-chain", "20", nullptr};
  EXPECT(exec_in_child("usertests", args), 0);
  KernelStats s1 = get_stats();
  printf("  asid_chain: %lu usable ASID bits, generation %lu -> %lu, %lu rollovers in all\n", s1.asid_bits,
         s0.asid_generation, s1.asid_generation, s1.asid_rollovers);
  // 3 ASIDs (2 bits) to 15 (4 bits) cannot serve 40 live links and 120 short-lived processes
  // without rolling over; with none in use there are no generations.
  if (s1.asid_bits > 0 && s1.asid_bits <= 4)
    CHECK(s1.asid_rollovers > s0.asid_rollovers, "no rollover with %lu ASID bits", s1.asid_bits);
  if (s1.asid_bits == 0) EXPECT(s1.asid_rollovers, 0);
  CHECK(s1.asid_generation == s1.asid_rollovers + 1, "generation %lu after %lu rollovers", s1.asid_generation,
        s1.asid_rollovers);
  if (g_diag) EXPECT(diag(DIAG_ASID_CHECK, 0), 0);
  return true;
}

// ---------------------------------------------------------------- exec
bool t_exec_errors() {
  static const char* const args[] = {"usertests", "--child-exit", "0", nullptr};
  // The caller survives a failed exec.
  long me = getpid();
  EXPECT(exec("no_such_program", args), -ENOENT);
  EXPECT(exec("no_such_program", nullptr), -ENOENT);
  EXPECT(getpid(), me);

  // The remaining attempts run in children, in case one wrongly succeeds.
  EXPECT(exec_in_child("", args), EXEC_FAILED + ENOENT);
  EXPECT(exec_in_child("/usertests", args), EXEC_FAILED + ENOENT);
  EXPECT(exec_in_child("./usertests", args), EXEC_FAILED + ENOENT);
  EXPECT(exec_in_child("usertests/", args), EXEC_FAILED + ENOENT);
  EXPECT(exec_in_child("Usertests", args), EXEC_FAILED + ENOENT);
  char name[1001];
  memset(name, 'x', sizeof name - 1);
  name[63] = 0;  // 63 characters: allowed, but no such program
  EXPECT(exec_in_child(name, args), EXEC_FAILED + ENOENT);
  name[63] = 'x', name[64] = 0;  // 64 characters: too long
  EXPECT(exec_in_child(name, args), EXEC_FAILED + ENAMETOOLONG);
  name[64] = 'x', name[1000] = 0;
  EXPECT(exec_in_child(name, args), EXEC_FAILED + ENAMETOOLONG);
  memcpy(name, "usertests", 9);  // a real name, padded to 64 characters
  name[64] = 0;
  EXPECT(exec_in_child(name, args), EXEC_FAILED + ENAMETOOLONG);

  // Bad path pointers.
  for (const BadPtr& b : BAD_PTRS) {
    long st = exec_in_child((const char*)b.addr, args);
    CHECK(st == EXEC_FAILED + EFAULT, "exec(path %s): status %ld, want -EFAULT", b.what, st);
  }
  long e = edge_page();
  memset((void*)(e + PAGE - 9), 'u', 9);  // "uuuuuuuuu" and then the mapping ends: no NUL
  EXPECT(exec_in_child((const char*)(e + PAGE - 9), args), EXEC_FAILED + EFAULT);

  // Bad argv arrays and bad argument strings.
  for (const BadPtr& b : BAD_PTRS) {
    if (b.addr == 0) continue;  // argv == nullptr is allowed
    long st = exec_in_child("usertests", (const char* const*)b.addr);
    CHECK(st == EXEC_FAILED + EFAULT, "exec(argv %s): status %ld, want -EFAULT", b.what, st);
    const char* with_bad[] = {"usertests", "--child-exit", "0", (const char*)b.addr, nullptr};
    st = exec_in_child("usertests", with_bad);
    CHECK(st == EXEC_FAILED + EFAULT, "exec(argv[3] %s): status %ld, want -EFAULT", b.what, st);
  }
  // The pointer array runs off the end of the mapping without a terminating nullptr.
  const char** tail = (const char**)(e + PAGE - 2 * sizeof(char*));
  tail[0] = "usertests";
  tail[1] = "--child-exit";
  EXPECT(exec_in_child("usertests", tail), EXEC_FAILED + EFAULT);
  // An argument string runs off the end of the mapping.
  memset((void*)(e + PAGE - 9), 'u', 9);
  const char* off_end[] = {"usertests", (const char*)(e + PAGE - 9), nullptr};
  EXPECT(exec_in_child("usertests", off_end), EXEC_FAILED + EFAULT);

  // Too many arguments: 33 (32 are allowed, see t_exec_args).
  const char* many[40];
  many[0] = "usertests", many[1] = "--child-exit", many[2] = "0";
  for (int i = 3; i < 33; i++) many[i] = "x";
  many[33] = nullptr;
  EXPECT(exec_in_child("usertests", many), EXEC_FAILED + E2BIG);
  // Too many bytes of strings: 5 x 1000.
  static char chunk[1001];
  memset(chunk, 'y', 1000);
  const char* heavy[] = {"usertests", "--child-exit", "0", chunk, chunk, chunk, chunk, chunk, nullptr};
  EXPECT(exec_in_child("usertests", heavy), EXEC_FAILED + E2BIG);
  // Arguments within the call's limit that do not fit a one-page user stack: E2BIG there (the
  // loader checks before it writes), success with a larger stack. Whether the stack is one page
  // shows in whether the page below its top page is free for mmap.
  static char big[1901];
  memset(big, 'z', 1900);
  long probe = mmap((void*)(STACK_TOP - 2 * PAGE), PAGE, RW);
  bool one_page_stack = probe == STACK_TOP - 2 * PAGE;
  if (one_page_stack) EXPECT(munmap((void*)probe, PAGE), 0);
  const char* tall[] = {"usertests", "--child-exit", "0", big, big, nullptr};
  EXPECT(exec_in_child("usertests", tall), one_page_stack ? EXEC_FAILED + E2BIG : 0);
  return true;
}

bool t_exec_args() {
  const char* args[] = {"usertests", "--child-echo", "a", "bb", "ccc", "", "with space", nullptr};
  EXPECT(exec_in_child("usertests", args), argv_hash(7, args));
  // Exactly 32 arguments.
  static char words[30][8];
  const char* many[33];
  many[0] = "usertests", many[1] = "--child-echo";
  for (int i = 0; i < 30; i++) {
    snprintf(words[i], sizeof words[i], "arg%d", i);
    many[2 + i] = words[i];
  }
  many[32] = nullptr;
  EXPECT(exec_in_child("usertests", many), argv_hash(32, many));
  // Long strings, 3000 bytes in all.
  static char longs[3][1001];
  for (int i = 0; i < 3; i++) {
    for (int k = 0; k < 1000; k++) longs[i][k] = (char)('a' + (i * 7 + k) % 26);
  }
  const char* heavy[] = {"usertests", "--child-echo", longs[0], longs[1], longs[2], nullptr};
  EXPECT(exec_in_child("usertests", heavy), argv_hash(5, heavy));
  // argv == nullptr: the program starts with no arguments (or only its name).
  EXPECT(exec_in_child("echo", nullptr), 0);
  // A program's exit status is main's return value.
  const char* status_args[] = {"usertests", "--child-exit", "123", nullptr};
  EXPECT(exec_in_child("usertests", status_args), 123);
  return true;
}

// exec keeps the pid and the parent.
bool t_exec_pid() {
  long pid = fork();
  CHECK(pid >= 0, "fork = %ld", pid);
  if (pid == 0) {
    char a[24], b[24];
    snprintf(a, sizeof a, "%ld", getpid());
    snprintf(b, sizeof b, "%ld", getppid());
    const char* args[] = {"usertests", "--child-pid", a, b, nullptr};
    exec("usertests", args);
    exit(1);
  }
  int st = -2;
  EXPECT(waitpid(pid, &st, 0), pid);
  EXPECT(st, 0);
  return true;
}

// exec replaces the whole address space: the new image has the initial break and none of the
// old mappings (the helper maps FIXED again, which fails if the old mapping survived).
bool t_exec_fresh() {
  long pid = fork();
  CHECK(pid >= 0, "fork = %ld", pid);
  if (pid == 0) {
    if (mmap((void*)FIXED, 64 * PAGE, RW) != FIXED) exit(2);
    if (sbrk(16 * PAGE) < 0) exit(3);
    char brk[24];
    snprintf(brk, sizeof brk, "%ld", g_initial_brk);
    const char* args[] = {"usertests", "--child-fresh", brk, nullptr};
    exec("usertests", args);
    exit(4);
  }
  int st = -2;
  EXPECT(waitpid(pid, &st, 0), pid);
  EXPECT(st, 0);
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

bool t_preempt() {
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

// ---------------------------------------------------------------- mmap and munmap
bool all_zero(long addr, long len) {
  for (long i = 0; i < len; i += 8)
    if (*(volatile long*)(addr + i) != 0) return false;
  return true;
}

bool t_mmap_basic() {
  long before = mem_mark();
  long a = mmap(nullptr, PAGE, RW);
  CHECK(a > 0 && a % PAGE == 0 && a < USER_TOP, "mmap(0, 1 page) = %#lx", a);
  CHECK(all_zero(a, PAGE), "fresh mapping not zero-filled");
  memset((void*)a, 0x5a, PAGE);
  CHECK(*(volatile char*)(a + PAGE - 1) == 0x5a, "write did not stick");
  long b = mmap(nullptr, 3 * PAGE, RW);
  CHECK(b > 0 && b % PAGE == 0, "mmap(0, 3 pages) = %#lx", b);
  CHECK(b + 3 * PAGE <= a || b >= a + PAGE, "mappings overlap: %#lx and %#lx", a, b);
  long c = mmap(nullptr, 100, RW);  // rounded up to a page
  CHECK(c > 0, "mmap(0, 100) = %ld", c);
  *(volatile char*)(c + PAGE - 1) = 1;
  long x = mmap(nullptr, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
  CHECK(x > 0, "mmap RWX = %ld", x);
  long r = mmap(nullptr, PAGE, PROT_READ);
  CHECK(r > 0 && all_zero(r, PAGE), "mmap R = %ld", r);
  long rx = mmap(nullptr, PAGE, PROT_READ | PROT_EXEC);
  CHECK(rx > 0, "mmap RX = %ld", rx);
  long xo = mmap(nullptr, PAGE, PROT_EXEC);  // execute-only is a valid subset
  CHECK(xo > 0, "mmap X = %ld", xo);
  EXPECT(munmap((void*)a, PAGE), 0);
  EXPECT(munmap((void*)b, 3 * PAGE), 0);
  EXPECT(munmap((void*)c, 100), 0);
  EXPECT(munmap((void*)x, PAGE), 0);
  EXPECT(munmap((void*)r, PAGE), 0);
  EXPECT(munmap((void*)rx, PAGE), 0);
  EXPECT(munmap((void*)xo, PAGE), 0);
  EXPECT(mem_mark(), before);
  return true;
}

bool t_mmap_zero_fill() {
  // Dirty some frames, give them back, and map again: the new pages must be zero.
  for (int round = 0; round < 3; round++) {
    long a = mmap((void*)FIXED, 16 * PAGE, RW);
    EXPECT(a, FIXED);
    CHECK(all_zero(a, 16 * PAGE), "round %d: mapping not zero-filled", round);
    memset((void*)a, 0xa5, 16 * PAGE);
    EXPECT(munmap((void*)a, 16 * PAGE), 0);
  }
  long a = mmap(nullptr, 32 * PAGE, RW);
  CHECK(a > 0 && all_zero(a, 32 * PAGE), "kernel-placed mapping not zero-filled");
  return true;
}

bool t_mmap_fixed_overlap() {
  EXPECT(mmap((void*)FIXED, 2 * PAGE, RW), FIXED);
  EXPECT(mmap((void*)FIXED, PAGE, RW), -EINVAL);                // the same place
  EXPECT(mmap((void*)(FIXED + PAGE), PAGE, RW), -EINVAL);       // its second page
  EXPECT(mmap((void*)(FIXED - PAGE), 2 * PAGE, RW), -EINVAL);   // straddles its start
  EXPECT(mmap((void*)(FIXED + PAGE), 4 * PAGE, RW), -EINVAL);   // straddles its end
  EXPECT(mmap((void*)(FIXED - 4 * PAGE), 16 * PAGE, RW), -EINVAL);  // covers it
  EXPECT(mmap((void*)(FIXED - PAGE), PAGE, RW), FIXED - PAGE);   // adjacent below is fine
  EXPECT(mmap((void*)(FIXED + 2 * PAGE), PAGE, RW), FIXED + 2 * PAGE);  // and above
  for (long p = FIXED - PAGE; p < FIXED + 3 * PAGE; p += PAGE) *(volatile long*)p = p;
  for (long p = FIXED - PAGE; p < FIXED + 3 * PAGE; p += PAGE)
    CHECK(*(volatile long*)p == p, "page %#lx lost its contents", p);
  // The program image, the data, the heap and the stack are mappings too.
  long data_page = round_down((long)&g_reason, PAGE);
  long stack_page = round_down((long)&data_page, PAGE);
  long brk = sbrk(2 * PAGE);
  CHECK(brk > 0, "sbrk = %ld", brk);
  long heap_page = round_up(brk, PAGE);
  struct {
    long addr;
    const char* what;
  } taken[] = {
      {0x10000, "program text"},
      {round_down(rodata_addr(), PAGE), "read-only data"},
      {data_page, "data"},
      {heap_page, "heap"},
      {stack_page, "stack"},
      {STACK_TOP - PAGE, "stack top"},
  };
  for (auto& t : taken) {
    long r = mmap((void*)t.addr, PAGE, RW);
    CHECK(r == -EINVAL, "mmap over the %s (%#lx) = %ld, want -EINVAL", t.what, t.addr, r);
    r = munmap((void*)t.addr, PAGE);
    CHECK(r == -EINVAL, "munmap of the %s (%#lx) = %ld, want -EINVAL", t.what, t.addr, r);
  }
  // munmap of a range that covers an mmap area and then runs into the stack changes nothing.
  EXPECT(munmap((void*)(STACK_TOP - (1l << 30)), 1l << 30), -EINVAL);
  EXPECT(sbrk(-2 * PAGE), brk + 2 * PAGE);
  EXPECT(munmap((void*)(FIXED - PAGE), 4 * PAGE), 0);
  return true;
}

bool t_mmap_einval() {
  const long unaligned[] = {FIXED + 1, FIXED + 0x800, FIXED + PAGE - 1, 1};
  for (long a : unaligned) {
    long r = mmap((void*)a, PAGE, RW);
    CHECK(r == -EINVAL, "mmap(%#lx) = %ld, want -EINVAL", a, r);
  }
  EXPECT(mmap(nullptr, 0, RW), -EINVAL);
  EXPECT(mmap((void*)FIXED, 0, RW), -EINVAL);
  const int bad_prot[] = {0, PROT_WRITE, PROT_WRITE | PROT_EXEC, 8, 9, 15, 16, -1};
  for (int p : bad_prot) {
    long r = mmap(nullptr, PAGE, p);
    CHECK(r == -EINVAL, "mmap prot %d = %ld, want -EINVAL", p, r);
  }
  // Ranges that leave user space.
  struct {
    long addr, len;
  } outside[] = {
      {USER_TOP - PAGE, 2 * PAGE}, {USER_TOP, PAGE},       {0x3ffffff000, 2 * PAGE},
      {KADDR, PAGE},               {KERNEL_HALF, PAGE},     {TRAMPOLINE, PAGE},
      {TRAMPOLINE, 2 * PAGE},      {-2 * PAGE, 4 * PAGE},
  };
  for (auto& o : outside) {
    long r = mmap((void*)o.addr, (size_t)o.len, RW);
    CHECK(r == -EINVAL, "mmap(%#lx, %#lx) = %ld, want -EINVAL", o.addr, o.len, r);
  }
  EXPECT(munmap((void*)(FIXED + 1), PAGE), -EINVAL);
  EXPECT(munmap((void*)(FIXED + 0x800), PAGE), -EINVAL);
  EXPECT(munmap((void*)FIXED, 0), -EINVAL);
  // Ranges that wrap past 2^64 or start above user space are invalid, not a silent no-op.
  EXPECT(munmap((void*)0xfffffffffffff000ul, 2 * PAGE), -EINVAL);
  EXPECT(munmap((void*)(USER_TOP - PAGE), ~0ul - PAGE), -EINVAL);
  EXPECT(munmap((void*)USER_TOP, PAGE), -EINVAL);
  EXPECT(munmap((void*)(USER_TOP - PAGE), PAGE), 0);  // the last user page: valid, nothing mapped
  return true;
}

bool t_mmap_enomem() {
  long before = mem_mark();
  KernelStats s = get_stats();
  long r = mmap(nullptr, 1ul << 40, RW);
  CHECK(r == -ENOMEM || r == -EINVAL, "mmap(0, 1 TiB) = %ld, want -ENOMEM or -EINVAL", r);
  r = mmap((void*)FIXED, 1ul << 40, RW);
  CHECK(r == -ENOMEM || r == -EINVAL, "mmap(FIXED, 1 TiB) = %ld, want -ENOMEM or -EINVAL", r);
  r = mmap(nullptr, ~0ul - PAGE + 2, RW);  // rounding up would wrap around
  CHECK(r == -ENOMEM || r == -EINVAL, "mmap(0, ~0) = %ld, want -ENOMEM or -EINVAL", r);
  // More pages than there are free frames: fails, and nothing stays mapped.
  // With demand paging such a mapping is allowed (pages come at the first touch).
  long pages = (long)s.frames_free + 256;
  r = mmap(nullptr, pages * PAGE, RW);
  if (g_demand) {
    CHECK(r > 0, "mmap on demand of %ld pages with %lu free = %ld", pages, s.frames_free, r);
    EXPECT(munmap((void*)r, pages * PAGE), 0);
  } else {
    CHECK(r == -ENOMEM, "mmap of %ld pages with %lu free = %ld, want -ENOMEM", pages, s.frames_free, r);
    r = mmap((void*)FIXED, pages * PAGE, RW);
    CHECK(r == -ENOMEM, "mmap(FIXED) of %ld pages = %ld, want -ENOMEM", pages, r);
  }
  EXPECT(mem_mark(), before);
  // Just under the free frames: the pages may fit, but with their page tables they should
  // not. Either way the outcome must be clean: all of it mapped, or nothing.
  s = get_stats();
  pages = (long)s.frames_free - 2;
  r = mmap((void*)FIXED, pages * PAGE, RW);
  CHECK(r == -ENOMEM || r == FIXED, "mmap of all but 2 free frames = %ld", r);
  if (r == FIXED) EXPECT(munmap((void*)FIXED, pages * PAGE), 0);
  EXPECT(mem_mark(), before);
  EXPECT(mmap((void*)FIXED, PAGE, RW), FIXED);  // and the range is still free
  return true;
}

void touch(long addr) { (void)*(volatile char*)addr; }
void poke(long addr) { *(volatile char*)addr = 1; }

bool t_munmap_partial() {
  long before = mem_mark();
  EXPECT(mmap((void*)FIXED, 3 * PAGE, RW), FIXED);
  for (int i = 0; i < 3; i++) *(volatile long*)(FIXED + i * PAGE) = 100 + i;
  EXPECT(munmap((void*)(FIXED + PAGE), PAGE), 0);  // the middle
  // Both ends still work.
  EXPECT(*(volatile long*)FIXED, 100);
  EXPECT(*(volatile long*)(FIXED + 2 * PAGE), 102);
  *(volatile long*)FIXED = 200;
  *(volatile long*)(FIXED + 2 * PAGE + PAGE - 8) = 202;
  EXPECT_KILLED("touching the unmapped middle page", touch, FIXED + PAGE);
  EXPECT(munmap((void*)(FIXED + PAGE), PAGE), 0);  // again: nothing there, still 0
  // The hole can be mapped again and is zero.
  EXPECT(mmap((void*)(FIXED + PAGE), PAGE, RW), FIXED + PAGE);
  CHECK(all_zero(FIXED + PAGE, PAGE), "remapped hole not zero");
  EXPECT(munmap((void*)FIXED, 3 * PAGE), 0);
  EXPECT(munmap((void*)FIXED, 3 * PAGE), 0);  // double munmap
  EXPECT_KILLED("touching an unmapped range", touch, FIXED);
  // len is rounded up: munmap(addr, 1) removes the whole page.
  EXPECT(mmap((void*)FIXED, 2 * PAGE, RW), FIXED);
  EXPECT(munmap((void*)FIXED, 1), 0);
  EXPECT_KILLED("touching a page unmapped with len 1", touch, FIXED);
  *(volatile long*)(FIXED + PAGE) = 5;  // the second page stays
  // One munmap across several mappings and the gaps between them.
  EXPECT(mmap((void*)(FIXED + 4 * PAGE), PAGE, RW), FIXED + 4 * PAGE);
  EXPECT(mmap((void*)(FIXED + 8 * PAGE), 2 * PAGE, RW), FIXED + 8 * PAGE);
  EXPECT(munmap((void*)FIXED, 1l << 30), 0);
  EXPECT_KILLED("touching a page removed by a large munmap", touch, FIXED + 8 * PAGE);
  EXPECT(munmap((void*)UNMAPPED, 16 * PAGE), 0);  // never mapped: ignored
  EXPECT(mem_mark(), before);
  return true;
}

// Copy a `ret` instruction into a page and call it.
constexpr uint32_t RET_INSN = 0x00008067;  // jalr x0, 0(ra)
void call_page(long addr) {
  asm volatile("fence.i" ::: "memory");
  ((void (*)())addr)();
}

bool t_mmap_prot() {
  long ro = mmap(nullptr, PAGE, PROT_READ);
  CHECK(ro > 0, "mmap R = %ld", ro);
  EXPECT(*(volatile long*)ro, 0);  // readable
  EXPECT_KILLED("writing to a PROT_READ mapping", poke, ro);
  // The kernel must not write to it either.
  KernelStats s;
  EXPECT(stats((KernelStats*)ro), -EFAULT);
  EXPECT(bench_echo(&s, (void*)ro, 8), -EFAULT);
  int st;
  long pid = fork();
  if (pid == 0) exit(1);
  EXPECT(waitpid(pid, (int*)ro, 0), -EFAULT);
  EXPECT(waitpid(pid, &st, 0), pid);

  long rwx = mmap(nullptr, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
  CHECK(rwx > 0, "mmap RWX = %ld", rwx);
  *(volatile uint32_t*)rwx = RET_INSN;
  call_page(rwx);  // executes and returns

  long rw = mmap(nullptr, PAGE, RW);
  CHECK(rw > 0, "mmap RW = %ld", rw);
  *(volatile uint32_t*)rw = RET_INSN;
  EXPECT_KILLED("executing a mapping without PROT_EXEC", call_page, rw);
  EXPECT_KILLED("executing a PROT_READ mapping", call_page, ro);
  return true;
}

// Mappings are copied by fork: same contents, then independent.
bool t_mmap_fork() {
  EXPECT(mmap((void*)FIXED, 4 * PAGE, RW), FIXED);
  for (int i = 0; i < 4; i++) *(volatile long*)(FIXED + i * PAGE) = 1000 + i;
  long pid = fork();
  CHECK(pid >= 0, "fork = %ld", pid);
  if (pid == 0) {
    for (int i = 0; i < 4; i++)
      if (*(volatile long*)(FIXED + i * PAGE) != 1000 + i) exit(1);
    for (int i = 0; i < 4; i++) *(volatile long*)(FIXED + i * PAGE) = 2000 + i;
    if (munmap((void*)FIXED, PAGE) != 0) exit(2);
    exit(0);
  }
  int st = -2;
  EXPECT(waitpid(pid, &st, 0), pid);
  CHECK(st == 0, "child saw wrong contents or could not munmap (status %d)", st);
  for (int i = 0; i < 4; i++) EXPECT(*(volatile long*)(FIXED + i * PAGE), 1000 + i);
  return true;
}

bool t_mmap_many() {
  constexpr int N = 64;
  long before = mem_mark();
  long addrs[N];
  for (int i = 0; i < N; i++) {
    addrs[i] = mmap(nullptr, PAGE, RW);
    CHECK(addrs[i] > 0, "mmap %d = %ld", i, addrs[i]);
    for (int k = 0; k < i; k++) CHECK(addrs[k] != addrs[i], "mmap returned %#lx twice", addrs[i]);
    *(volatile long*)addrs[i] = i;
  }
  for (int i = 0; i < N; i++) EXPECT(*(volatile long*)addrs[i], i);
  for (int i = 0; i < N; i += 2) EXPECT(munmap((void*)addrs[i], PAGE), 0);
  for (int i = 1; i < N; i += 2) EXPECT(*(volatile long*)addrs[i], i);
  for (int i = 1; i < N; i += 2) EXPECT(munmap((void*)addrs[i], PAGE), 0);
  EXPECT(mem_mark(), before);
  return true;
}

// The number of areas is bounded by memory, not by a fixed table: 600 separate mappings (the
// kernel once stopped at 170), then a munmap that splits one of them, then all unmapped.
bool t_mmap_many_areas() {
  constexpr int N = 600;
  long before = mem_mark();
  int made = 0;
  for (; made < N; made++) {
    long a = mmap((void*)(FIXED + 2l * made * PAGE), PAGE, RW);  // a gap after each: no neighbours
    CHECK(a == FIXED + 2l * made * PAGE, "mmap number %d = %ld", made, a);
    *(volatile long*)a = made;
  }
  long big = mmap((void*)(FIXED + 2l * N * PAGE), 3 * PAGE, RW);
  CHECK(big > 0, "mmap of the area to split = %ld", big);
  EXPECT(munmap((void*)(big + PAGE), PAGE), 0);  // split: areas N + 2
  EXPECT(*(volatile long*)(FIXED + 2l * (N - 1) * PAGE), N - 1);
  EXPECT(munmap((void*)big, 3 * PAGE), 0);
  EXPECT(munmap((void*)FIXED, 2l * N * PAGE), 0);  // one call over all of them and the gaps
  EXPECT(mem_mark(), before);
  return true;
}

// ---------------------------------------------------------------- demand paging, copy-on-write
long self_counter(uint64_t Counters::*field) {
  KernelStats s = get_stats();
  return (long)(s.self.*field);
}

// After fork, parent and child each see only their own writes, whether fork copied the pages
// or shares them copy-on-write; with copy-on-write the first write to each shared page is one
// resolved fault in the writer, and only the pages written get copies.
bool t_cow_isolation() {
  long before = mem_mark();
  constexpr long PAGES = 16;
  long a = mmap(nullptr, PAGES * PAGE, RW);
  CHECK(a > 0, "mmap = %ld", a);
  for (long p = 0; p < PAGES; p++) *(volatile long*)(a + p * PAGE) = 100 + p;
  int up[2], down[2];
  EXPECT(pipe(up) | pipe(down), 0);
  long pid = fork();
  if (pid == 0) {
    char go;
    long c0 = self_counter(&Counters::cow_faults);
    for (long p = 0; p < PAGES; p += 2) *(volatile long*)(a + p * PAGE) = 200 + p;  // 8 pages
    long c1 = self_counter(&Counters::cow_faults);
    if (write(up[1], "w", 1) != 1 || read(down[0], &go, 1) != 1) exit(2);
    for (long p = 0; p < PAGES; p++) {  // the parent has written the odd pages meanwhile
      long want = p % 2 ? 100 + p : 200 + p;
      if (*(volatile long*)(a + p * PAGE) != want) exit(3);
    }
    if (g_counters && g_cow && c1 - c0 != PAGES / 2) exit(4);
    if (g_counters && !g_cow && c1 != c0) exit(5);
    exit(0);
  }
  CHECK(pid > 0, "fork = %ld", pid);
  char c;
  EXPECT(read(up[0], &c, 1), 1);
  long p0 = self_counter(&Counters::cow_faults);
  for (long p = 1; p < PAGES; p += 2) *(volatile long*)(a + p * PAGE) = 300 + p;
  long p1 = self_counter(&Counters::cow_faults);
  if (g_counters) EXPECT(p1 - p0, g_cow ? PAGES / 2 : 0);  // one copy per page written, no more
  for (long p = 0; p < PAGES; p++) {
    long want = p % 2 ? 300 + p : 100 + p;
    CHECK(*(volatile long*)(a + p * PAGE) == want, "parent page %ld = %ld, want %ld", p,
          *(volatile long*)(a + p * PAGE), want);
  }
  EXPECT(write(down[1], "g", 1), 1);
  int st = -1;
  EXPECT(waitpid(pid, &st, 0), pid);
  EXPECT(st, 0);
  EXPECT(close(up[0]) | close(up[1]) | close(down[0]) | close(down[1]), 0);
  EXPECT(munmap((void*)a, PAGES * PAGE), 0);
  EXPECT(mem_mark(), before);
  return true;
}

// Demand paging: mmap costs no frames, the first touch of each page is one resolved fault, a
// second touch none; with eager population the frames are taken at mmap.
bool t_demand_paging() {
  constexpr long PAGES = 32;
  long free0 = (long)get_stats().frames_free;
  long f0 = self_counter(&Counters::page_faults);
  long a = mmap(nullptr, PAGES * PAGE, RW);
  CHECK(a > 0, "mmap = %ld", a);
  long free1 = (long)get_stats().frames_free;
  if (g_demand) CHECK(free0 - free1 <= 1, "mmap on demand took %ld frames", free0 - free1);
  else CHECK(free0 - free1 >= PAGES, "eager mmap took only %ld frames", free0 - free1);
  for (long p = 0; p < PAGES; p++) CHECK(*(volatile long*)(a + p * PAGE) == 0, "page %ld not zero", p);
  for (long p = 0; p < PAGES; p++) *(volatile long*)(a + p * PAGE + 8) = p;
  long f1 = self_counter(&Counters::page_faults);
  if (g_counters) EXPECT(f1 - f0, g_demand ? PAGES : 0);
  // The kernel's own accesses page in too: write() from a never-touched page.
  long b = mmap(nullptr, 2 * PAGE, RW);
  CHECK(b > 0, "mmap = %ld", b);
  int fds[2];
  EXPECT(pipe(fds), 0);
  EXPECT(write(fds[1], (void*)(b + PAGE - 4), 8), 8);  // straddles two untouched pages
  char got[8];
  EXPECT(read(fds[0], got, 8), 8);
  for (char ch : got) CHECK(ch == 0, "untouched memory read through write() is not zero");
  EXPECT(read(fds[0], (void*)(b + 4), 0), 0);
  EXPECT(write(fds[1], "abcdefgh", 8), 8);
  EXPECT(read(fds[0], (void*)(b + PAGE - 4), 8), 8);  // the kernel writes to untouched pages
  CHECK(memcmp((void*)(b + PAGE - 4), "abcdefgh", 8) == 0, "read() into untouched pages");
  EXPECT(close(fds[0]) | close(fds[1]), 0);
  EXPECT(munmap((void*)a, PAGES * PAGE) | munmap((void*)b, 2 * PAGE), 0);
  return true;
}

// Demand paging: touching more than there is kills the toucher with a message, and every
// frame comes back.
bool t_demand_oom() {
  if (!g_demand) {
    printf("  demand_oom: eager population refuses such a mapping at mmap (see mmap_enomem)\n");
    return true;
  }
  long before = mem_mark();
  long st = run_child([](long) {
    long pages = (long)get_stats().frames_free + 64;
    long a = mmap(nullptr, pages * PAGE, RW);
    if (a < 0) return 2;
    for (long p = 0; p < pages; p++) *(volatile long*)(a + p * PAGE) = p;
    return 0;  // not reached: the kernel ran out of frames first
  }, 0);
  EXPECT(st, -1);
  EXPECT(mem_mark(), before);
  return true;
}

// ---------------------------------------------------------------- pipes
// Read from fd until EOF (or `max` bytes); returns the byte count, or a negative error.
long read_all(int fd, char* buf, long max) {
  long got = 0;
  for (;;) {
    long r = read(fd, buf + got, max - got);
    if (r <= 0) return r < 0 ? r : got;
    got += r;
    if (got == max) return got;
  }
}

bool t_pipe_basic() {
  long before = mem_mark();
  int fds[2] = {-1, -1};
  EXPECT(pipe(fds), 0);
  CHECK(fds[0] == 3 && fds[1] == 4, "pipe gave fds %d, %d; want the lowest free, 3 and 4", fds[0], fds[1]);
  EXPECT(write(fds[1], "hello", 5), 5);
  char buf[16];
  EXPECT(read(fds[0], buf, sizeof buf), 5);  // what is there, not what was asked for
  CHECK(memcmp(buf, "hello", 5) == 0, "read back %.5s", buf);
  EXPECT(read(fds[1], buf, 1), -EBADF);  // the wrong ends
  EXPECT(write(fds[0], "x", 1), -EBADF);
  EXPECT(read(fds[0], buf, 0), 0);
  EXPECT(read(fds[0], (void*)KADDR, 1), -EFAULT);
  EXPECT(write(fds[1], (void*)KADDR, 1), -EFAULT);
  EXPECT(close(fds[1]), 0);
  EXPECT(read(fds[0], buf, sizeof buf), 0);  // no writer left: EOF
  EXPECT(close(fds[0]), 0);
  EXPECT(close(fds[0]), -EBADF);
  // No reader left: EPIPE, and the writer lives on.
  EXPECT(pipe(fds), 0);
  EXPECT(close(fds[0]), 0);
  EXPECT(write(fds[1], "x", 1), -EPIPE);
  EXPECT(close(fds[1]), 0);
  // Bad arguments.
  EXPECT(pipe((int*)KADDR), -EFAULT);
  EXPECT(pipe(nullptr), -EFAULT);
  EXPECT(pipe((int*)text_addr()), -EFAULT);
  const long bad_fds[] = {-1, FD_MAX, 1000, 1l << 40, 5};
  for (long fd : bad_fds) {
    EXPECT(syscall6(SYS_close, fd, 0, 0, 0, 0, 0), -EBADF);
    EXPECT(syscall6(SYS_read, fd, (long)buf, 1, 0, 0, 0), -EBADF);
    EXPECT(syscall6(SYS_write, fd, (long)buf, 1, 0, 0, 0), -EBADF);
    EXPECT(syscall6(SYS_dup2, fd, 6, 0, 0, 0, 0), -EBADF);
  }
  EXPECT(dup2(1, FD_MAX), -EBADF);
  EXPECT(dup2(1, -1), -EBADF);
  EXPECT(mem_mark(), before);  // every pipe's frame came back
  return true;
}

// A process has FD_MAX descriptors: 0-2 plus (FD_MAX - 3) / 2 pipes, then EMFILE.
bool t_pipe_limits() {
  long before = mem_mark();
  int fds[FD_MAX][2];
  int n = 0;
  long r;
  while ((r = pipe(fds[n])) == 0) n++;
  EXPECT(r, -EMFILE);
  EXPECT(n, (FD_MAX - 3) / 2);
  for (int i = 0; i < n; i++) EXPECT(close(fds[i][0]) | close(fds[i][1]), 0);
  EXPECT(mem_mark(), before);
  return true;
}

// 64 KiB through a 4 KiB pipe to a child: the writer blocks when the pipe is full, the reader
// when it is empty, and the child sees exactly the bytes in order, then EOF.
int pipe_sum_child(long rfd) {
  static char buf[4000];
  long total = 0, sum = 0;
  for (;;) {
    long r = read((int)rfd, buf, sizeof buf);
    if (r < 0) return 2;
    if (r == 0) break;
    for (long i = 0; i < r; i++) sum += (unsigned char)buf[i] ^ ((total + i) & 0xff);
    total += r;
  }
  return total == 65536 && sum == 0 ? 0 : 1;
}

bool t_pipe_fork() {
  long before = mem_mark();
  int fds[2];
  EXPECT(pipe(fds), 0);
  long pid = fork();
  if (pid == 0) {
    close(fds[1]);
    exit(pipe_sum_child(fds[0]));
  }
  CHECK(pid > 0, "fork = %ld", pid);
  EXPECT(close(fds[0]), 0);
  static char chunk[1000];
  long sent = 0;
  while (sent < 65536) {
    long n = 65536 - sent < 1000 ? 65536 - sent : 1000;
    for (long i = 0; i < n; i++) chunk[i] = (char)((sent + i) & 0xff);
    EXPECT(write(fds[1], chunk, n), n);  // blocking: all of it
    sent += n;
  }
  EXPECT(close(fds[1]), 0);
  int st = -1;
  EXPECT(waitpid(pid, &st, 0), pid);
  EXPECT(st, 0);
  EXPECT(mem_mark(), before);
  return true;
}

// The last reader goes away while a writer is blocked on a full pipe: the writer gets the
// count it managed (a partial write), the next write EPIPE.
bool t_pipe_partial() {
  int fds[2];
  EXPECT(pipe(fds), 0);
  long pid = fork();
  if (pid == 0) {  // holds the read end for a while, reads nothing, exits
    close(fds[1]);
    sleep_ns(20 * MS);
    exit(0);
  }
  EXPECT(close(fds[0]), 0);
  static char big[2 * PIPE_BUF];
  EXPECT(write(fds[1], big, sizeof big), PIPE_BUF);
  EXPECT(write(fds[1], big, 1), -EPIPE);
  EXPECT(close(fds[1]), 0);
  EXPECT(waitpid(pid, nullptr, 0), pid);
  return true;
}

// Descriptors survive fork and exec: a child with its stdout on a pipe runs echo.
bool t_pipe_exec() {
  int fds[2];
  EXPECT(pipe(fds), 0);
  long pid = fork();
  if (pid == 0) {
    if (dup2(fds[1], 1) != 1) exit(3);
    close(fds[0]);
    close(fds[1]);
    const char* args[] = {"echo", "through", "a", "pipe", nullptr};
    exec("echo", args);
    exit(4);
  }
  EXPECT(close(fds[1]), 0);
  char buf[64] = {};
  long n = read_all(fds[0], buf, sizeof buf - 1);
  EXPECT(n, 15);
  CHECK(strcmp(buf, "through a pipe\n") == 0, "read '%s' from echo", buf);
  EXPECT(close(fds[0]), 0);
  int st = -1;
  EXPECT(waitpid(pid, &st, 0), pid);
  EXPECT(st, 0);
  // dup2 onto the same descriptor, and onto the other end of the same pipe.
  EXPECT(pipe(fds), 0);
  EXPECT(dup2(fds[0], fds[0]), fds[0]);
  EXPECT(dup2(fds[0], fds[1]), fds[1]);  // the write end's last descriptor is gone: EOF
  EXPECT(read(fds[0], buf, 1), 0);
  EXPECT(close(fds[0]) | close(fds[1]), 0);
  return true;
}

// ---------------------------------------------------------------- faults kill the process
void load_from(long addr) { (void)*(volatile long*)addr; }
void store_to(long addr) { *(volatile long*)addr = 1; }
void jump_to(long addr) { ((void (*)())addr)(); }

bool t_kernel_access() {
  EXPECT_KILLED("load from 0xffffffc000200000", load_from, KADDR);
  EXPECT_KILLED("load from 0xffffffff00000000", load_from, KADDR_HIGH);
  EXPECT_KILLED("store to 0xffffffc000200000", store_to, KADDR);
  EXPECT_KILLED("jump to 0xffffffc000200000", jump_to, KADDR);
  EXPECT_KILLED("load from the trampoline page", load_from, TRAMPOLINE);
  EXPECT_KILLED("jump to the trampoline page", jump_to, TRAMPOLINE);
  // The kernel's own address of one of its objects, as this process's table maps it.
  long ka = diag(DIAG_KERNEL_ADDR, 0);
  EXPECT_KILLED("load from diag(DIAG_KERNEL_ADDR)", load_from, ka);
  EXPECT_KILLED("store to diag(DIAG_KERNEL_ADDR)", store_to, ka);
  EXPECT_KILLED("load from diag(DIAG_KERNEL_SLOT)", load_from, diag(DIAG_KERNEL_SLOT, 0));
  return true;
}

bool t_user_faults() {
  EXPECT_KILLED("load from null", load_from, 0);
  EXPECT_KILLED("store to null", store_to, 0);
  EXPECT_KILLED("load from an unmapped address", load_from, UNMAPPED);
  EXPECT_KILLED("load from 0x4000000000 (above user space)", load_from, USER_TOP);
  EXPECT_KILLED("store to program text", store_to, text_addr());
  EXPECT_KILLED("store to read-only data", store_to, rodata_addr());
  static uint32_t data_ret[2] = {RET_INSN, RET_INSN};
  EXPECT_KILLED("executing data", jump_to, (long)data_ret);
  EXPECT_KILLED("executing the stack", [](long) {
    uint32_t code[2] = {RET_INSN, RET_INSN};
    asm volatile("fence.i" ::: "memory");
    ((void (*)())(long)code)();
  }, 0);
  return true;
}

// Unbounded recursion runs into the guard page below the stack.
__attribute__((noinline)) long recurse(long n) {
  volatile long pad[64];  // 512 bytes per frame
  pad[0] = n;
  pad[63] = n;
  if (n < 0) return pad[0];  // only for a negative start: keeps the recursion from looking infinite
  return recurse(n + 1) + pad[n & 63];
}

bool t_stack_overflow() {
  EXPECT_KILLED("unbounded recursion", [](long) { recurse(0); }, 0);
  // We (the parent) are fine and our stack works.
  EXPECT(recurse(-1), -1);
  return true;
}

bool t_illegal_instruction() {
  EXPECT_KILLED(".word 0", [](long) { asm volatile(".word 0"); }, 0);
  EXPECT_KILLED("unimp", [](long) { asm volatile("unimp"); }, 0);
  EXPECT_KILLED("csrr sstatus", [](long) {
    long v;
    asm volatile("csrr %0, sstatus" : "=r"(v));
  }, 0);
  EXPECT_KILLED("csrw satp", [](long) { asm volatile("csrw satp, zero"); }, 0);
  EXPECT_KILLED("sret", [](long) { asm volatile("sret"); }, 0);
  EXPECT_KILLED("ebreak", [](long) { asm volatile("ebreak"); }, 0);
  return true;
}

// rdtime and rdinstret are readable from user mode (the benchmarks rely on it).
bool t_user_counters() {
  long st = run_child([](long) {
    uint64_t t0 = rdtime(), i0 = rdinstret();
    spin(1000);
    uint64_t t1 = rdtime(), i1 = rdinstret();
    return (t1 >= t0 && i1 > i0 + 1000) ? 0 : 1;
  }, 0);
  CHECK(st == 0, "reading time/instret from user mode: status %ld (-1: killed)", st);
  return true;
}

// ---------------------------------------------------------------- sbrk
bool t_sbrk() {
  long b0 = sbrk(0);
  // The page holding the break may be shared with our parent (copy-on-write): make it ours
  // before counting, since the test writes to it.
  *(volatile char*)(b0 - 1) = *(volatile char*)(b0 - 1);
  long before = mem_mark();
  CHECK(b0 == g_initial_brk, "sbrk(0) = %#lx, want the initial break %#lx", b0, g_initial_brk);
  // Grow by one page, then ten, and use every byte.
  EXPECT(sbrk(PAGE), b0);
  EXPECT(sbrk(0), b0 + PAGE);
  memset((void*)b0, 1, PAGE);
  EXPECT(sbrk(10 * PAGE), b0 + PAGE);
  EXPECT(sbrk(0), b0 + 11 * PAGE);
  long fresh = round_up(b0 + PAGE, PAGE);  // whole pages that did not exist before
  CHECK(all_zero(fresh, b0 + 11 * PAGE - fresh), "grown heap not zero-filled");
  memset((void*)(b0 + PAGE), 2, 10 * PAGE);
  EXPECT(*(volatile char*)(b0 + 11 * PAGE - 1), 2);
  // Shrink back to where we started.
  EXPECT(sbrk(-11 * PAGE), b0 + 11 * PAGE);
  EXPECT(sbrk(0), b0);
  EXPECT_KILLED("touching the heap after shrinking", touch, round_up(b0, PAGE) + PAGE);
  // Odd sizes move the break byte by byte.
  EXPECT(sbrk(5), b0);
  EXPECT(sbrk(0), b0 + 5);
  *(volatile char*)(b0 + 4) = 9;
  EXPECT(sbrk(-5), b0 + 5);
  EXPECT(sbrk(0), b0);
  // Regrown pages are zero again.
  EXPECT(sbrk(4 * PAGE), b0);
  fresh = round_up(b0, PAGE);
  CHECK(all_zero(fresh, b0 + 4 * PAGE - fresh), "regrown heap not zero-filled");
  EXPECT(sbrk(-4 * PAGE), b0 + 4 * PAGE);
  // Not below the initial break.
  EXPECT(sbrk(-1), -EINVAL);
  EXPECT(sbrk(-PAGE), -EINVAL);
  EXPECT(sbrk((long)(1ul << 63)), -EINVAL);
  EXPECT(sbrk(0), b0);
  // Not more than there is.
  EXPECT(sbrk(1l << 40), -ENOMEM);
  KernelStats s = get_stats();
  long huge = (long)(s.frames_free + 256) * PAGE;
  if (g_demand) {  // allowed on demand: the pages come at the first touch
    EXPECT(sbrk(huge), b0);
    EXPECT(sbrk(-huge), b0 + huge);
  } else {
    EXPECT(sbrk(huge), -ENOMEM);
  }
  EXPECT(sbrk(0), b0);
  EXPECT(mem_mark(), before);
  return true;
}

// ---------------------------------------------------------------- time
bool t_time() {
  long t0 = get_time_ns();
  CHECK(t0 > 0, "get_time = %ld", t0);
  long prev = t0;
  for (int i = 0; i < 1000; i++) {
    long t = get_time_ns();
    CHECK(t >= prev, "time went backwards: %ld then %ld", prev, t);
    prev = t;
  }
  long a = get_time_ns();
  EXPECT(sleep_ns(10 * MS), 0);
  long b = get_time_ns();
  CHECK(b - a >= 10 * MS, "sleep(10 ms) returned after %ld ns", b - a);
  a = get_time_ns();
  EXPECT(sleep_ns(50 * MS), 0);
  b = get_time_ns();
  CHECK(b - a >= 50 * MS, "sleep(50 ms) returned after %ld ns", b - a);
  EXPECT(sleep_ns(0), 0);
  EXPECT(sleep_ns(1), 0);
  EXPECT(sleep_ns(-1), -EINVAL);
  EXPECT(sleep_ns((long)(1ul << 63)), -EINVAL);
  // get_time is the timebase in nanoseconds: it advances like rdtime scaled by timebase_hz.
  KernelStats s = get_stats();
  CHECK(s.timebase_hz > 0, "timebase_hz = %lu", s.timebase_hz);
  // Each get_time is bracketed by two rdtime reads, so the check is an ordering, not a
  // tolerance: a host that stalls the guest between two reads cannot make it fail.
  uint64_t hz = s.timebase_hz;
  auto to_ns = [hz](uint64_t ticks) {  // no 128-bit division: libgcc's is hard-float
    return (long)(ticks / hz * 1000000000u + ticks % hz * 1000000000u / hz);
  };
  uint64_t r0 = rdtime();
  long g0 = get_time_ns();
  uint64_t r1 = rdtime();
  sleep_ns(30 * MS);
  uint64_t r2 = rdtime();
  long g1 = get_time_ns();
  uint64_t r3 = rdtime();
  // g1 - g0 lies between the shortest and the longest rdtime span around it (1 ns of slack
  // each way for the integer conversion).
  long lo = to_ns(r2 - r1), hi = to_ns(r3 - r0);
  CHECK(g1 - g0 >= lo - 1 && g1 - g0 <= hi + 1,
        "30 ms by get_time = %ld ns, by rdtime between %ld and %ld ns", g1 - g0, lo, hi);
  CHECK(lo >= 30 * MS, "sleep(30 ms) lasted %ld ns by rdtime", lo);
  return true;
}

// ---------------------------------------------------------------- stats, programs, bench_echo, diag
bool t_stats() {
  KernelStats s;
  memset(&s, 0xff, sizeof s);
  EXPECT(stats(&s), 0);
  CHECK(s.scheme >= 1 && s.scheme <= 3, "scheme = %lu", s.scheme);
  CHECK(s.asid_enabled <= 1, "asid_enabled = %lu", s.asid_enabled);
  CHECK(s.timebase_hz > 0, "timebase_hz = %lu", s.timebase_hz);
  CHECK(s.frames_total > 0 && s.frames_free <= s.frames_total, "frames %lu free of %lu",
        s.frames_free, s.frames_total);
  if (!g_counters) return counters_read_zero("stats");
  CHECK(s.self.syscalls >= 1 && s.self.traps >= s.self.syscalls, "self: %lu traps, %lu syscalls",
        s.self.traps, s.self.syscalls);
  CHECK(s.global.syscalls >= s.self.syscalls && s.global.traps >= s.self.traps,
        "global counters smaller than our own");
  EXPECT(s.self.faults, 0);
  CHECK(s.self.pt_pages >= 1 && s.self.pt_pages_kernel <= s.self.pt_pages,
        "pt_pages %lu, of which kernel %lu", s.self.pt_pages, s.self.pt_pages_kernel);
  CHECK(s.self.context_switches >= 1, "we run, so we were switched in at least once");
  for (const BadPtr& b : BAD_PTRS) {
    long r = stats((KernelStats*)b.addr);
    CHECK(r == -EFAULT, "stats(%s) = %ld, want -EFAULT", b.what, r);
  }
  EXPECT(stats((KernelStats*)text_addr()), -EFAULT);
  EXPECT(stats((KernelStats*)rodata_addr()), -EFAULT);
  long e = edge_page();
  EXPECT(stats((KernelStats*)(e + PAGE - 8)), -EFAULT);
  return true;
}

bool has_name(const char* list, long n, const char* name) {
  for (long i = 0; i < n; i += (long)strlen(list + i) + 1)
    if (strcmp(list + i, name) == 0) return true;
  return false;
}

bool t_programs() {
  static char buf[4096];
  memset(buf, 0, sizeof buf);
  long n = programs(buf, sizeof buf - 1);
  CHECK(n > 0 && n < (long)sizeof buf, "programs = %ld", n);
  const char* names[] = {"sh", "usertests", "echo", "kaslr_probe", "bench_null", "bench_copy",
                         "bench_ctx", "bench_tlb", "bench_fork", "bench_exec", "bench_mmap",
                         "bench_timer"};
  for (const char* name : names) CHECK(has_name(buf, n, name), "'%s' missing from the list", name);
  EXPECT(programs(buf, 0), n);  // nothing copied, the total still reported
  char small[8];
  memset(small, 0x55, sizeof small);
  EXPECT(programs(small, 3), n);
  CHECK(memcmp(small, buf, 3) == 0 && small[3] == 0x55, "programs(buf, 3) copied the wrong bytes");
  for (const BadPtr& b : BAD_PTRS) {
    long r = programs((char*)b.addr, 16);
    CHECK(r == -EFAULT, "programs(%s, 16) = %ld, want -EFAULT", b.what, r);
  }
  EXPECT(programs((char*)text_addr(), 16), -EFAULT);
  long e = edge_page();
  EXPECT(programs((char*)(e + PAGE - 4), 16), -EFAULT);
  return true;
}

bool t_bench_echo() {
  constexpr long MAX = 65536;
  long in = mmap(nullptr, MAX + PAGE, RW);
  long out = mmap(nullptr, MAX + PAGE, RW);
  CHECK(in > 0 && out > 0, "mmap = %ld, %ld", in, out);
  for (long i = 0; i < MAX + PAGE; i++) ((char*)in)[i] = (char)(i * 7 + 3);
  const long sizes[] = {0, 1, 7, 8, 4095, 4096, 4097, 12345, MAX};
  for (long n : sizes) {
    memset((void*)out, 0, MAX + PAGE);
    long r = bench_echo((void*)in, (void*)out, (size_t)n);
    CHECK(r == n, "bench_echo(%ld) = %ld", n, r);
    CHECK(memcmp((void*)in, (void*)out, (size_t)n) == 0, "bench_echo(%ld) copied wrong bytes", n);
    CHECK(((char*)out)[n] == 0, "bench_echo(%ld) wrote past the end", n);
  }
  // Unaligned buffers.
  memset((void*)out, 0, MAX);
  EXPECT(bench_echo((char*)in + 3, (char*)out + 5, 1000), 1000);
  CHECK(memcmp((char*)in + 3, (char*)out + 5, 1000) == 0, "unaligned bench_echo copied wrong bytes");
  // Bad lengths.
  EXPECT(bench_echo((void*)in, (void*)out, MAX + 1), -EINVAL);
  EXPECT(bench_echo((void*)in, (void*)out, ~0ul), -EINVAL);
  EXPECT(bench_echo((void*)in, (void*)out, 1ul << 40), -EINVAL);
  // Bad pointers on either side.
  for (const BadPtr& b : BAD_PTRS) {
    long r = bench_echo((void*)b.addr, (void*)out, 16);
    CHECK(r == -EFAULT, "bench_echo(in %s) = %ld, want -EFAULT", b.what, r);
    r = bench_echo((void*)in, (void*)b.addr, 16);
    CHECK(r == -EFAULT, "bench_echo(out %s) = %ld, want -EFAULT", b.what, r);
  }
  EXPECT(bench_echo((void*)in, (void*)text_addr(), 16), -EFAULT);
  long e = edge_page();
  EXPECT(bench_echo((void*)(e + PAGE - 8), (void*)out, 16), -EFAULT);
  EXPECT(bench_echo((void*)in, (void*)(e + PAGE - 8), 16), -EFAULT);
  return true;
}

bool t_diag() {
  if (!g_diag) {
    // The hardened build: every operation, valid or not, fails the same way.
    for (long op = -1; op <= DIAG_ASID_CHECK + 1; op++) EXPECT(diag(op, 0), -ENOSYS);
    printf("  diag: compiled out (CONFIG_DIAG=n): every operation fails with ENOSYS\n");
    return true;
  }
  const long bad_ops[] = {0, DIAG_ASID_CHECK + 1, 8, -1, 1000, 1l << 40};
  for (long op : bad_ops) {
    long r = diag(op, 0);
    CHECK(r == -EINVAL, "diag(%ld) = %ld, want -EINVAL", op, r);
  }
  KernelStats s = get_stats();
  EXPECT(diag(DIAG_PT_PAGES, 0), s.self.pt_pages);
  long slot = diag(DIAG_KERNEL_SLOT, 0);
  long ka = diag(DIAG_KERNEL_ADDR, 0);
  long bits = diag(DIAG_SLOT_ENTROPY_MILLIBITS, 0);
  printf("  diag: scheme %ld, kernel slot %#lx, kernel address %#lx, slot entropy %ld.%03ld bits\n",
         g_scheme, slot, ka, bits / 1000, bits % 1000);
  CHECK(bits >= 0, "slot entropy = %ld", bits);
  // User pages and unmapped addresses are not kernel mappings, nor is any non-canonical
  // address (bits 63..39 differ from bit 38), even one whose low bits name a kernel mapping.
  EXPECT(diag(DIAG_IS_KERNEL_MAPPED, (long)&s), 0);
  EXPECT(diag(DIAG_IS_KERNEL_MAPPED, ka), g_scheme == 1 ? 0 : 1);  // scheme 1 maps no kernel data
  EXPECT(diag(DIAG_IS_KERNEL_MAPPED, ka & 0x7fffffffffffffffl), 0);
  EXPECT(diag(DIAG_IS_KERNEL_MAPPED, ka ^ (1l << 40)), 0);
  EXPECT(diag(DIAG_IS_KERNEL_MAPPED, 0x0000008000000000l), 0);
  EXPECT(diag(DIAG_ASID_CHECK, 0), 0);
  EXPECT(diag(DIAG_IS_KERNEL_MAPPED, 0x10000), 0);
  EXPECT(diag(DIAG_IS_KERNEL_MAPPED, UNMAPPED), 0);
  EXPECT(diag(DIAG_IS_KERNEL_MAPPED, 0), 0);
  if (g_scheme == 1) {
    // The process's table holds no kernel window.
    EXPECT(diag(DIAG_IS_KERNEL_MAPPED, ka), 0);
    EXPECT(bits, 0);
  } else {
    CHECK(slot < 0 && slot >= KERNEL_HALF && slot % MEGA == 0, "slot %#lx not a 2 MiB-aligned kernel VA", slot);
    CHECK(ka >= slot && ka - slot < (2l << 30), "kernel address %#lx outside the window at %#lx", ka, slot);
    EXPECT(diag(DIAG_IS_KERNEL_MAPPED, ka), 1);
    EXPECT(diag(DIAG_IS_KERNEL_MAPPED, slot), 1);
    if (g_scheme == 2) EXPECT(bits, 0);
    if (g_scheme == 3) CHECK(bits >= 10000, "scheme 3 slot entropy only %ld millibits", bits);
  }
  return true;
}

// ---------------------------------------------------------------- per-process kernel slots
int slot_index(long slot) { return (int)(((unsigned long)slot >> 21) & 0x3ffff); }

bool t_kernel_slots() {
  if (!g_diag) {
    EXPECT(diag(DIAG_KERNEL_SLOT, 0), -ENOSYS);
    printf("  kernel_slots: not observable from user mode without CONFIG_DIAG\n");
    return true;
  }
  constexpr int N = 64;
  long mine = diag(DIAG_KERNEL_SLOT, 0);
  int n = g_scheme == 3 ? N : 4;  // schemes 1 and 2: a few children suffice to see it is fixed
  printf("slot %#lx (the test process)\n", mine);
  int idx[N];
  for (int i = 0; i < n; i++) {
    long pid = fork();
    CHECK(pid >= 0, "fork = %ld", pid);
    if (pid == 0) {
      long s = diag(DIAG_KERNEL_SLOT, 0);
      printf("slot %#lx\n", s);
      exit(slot_index(s));
    }
    int st = -1;
    EXPECT(waitpid(pid, &st, 0), pid);
    idx[i] = st;
  }
  int same_as_parent = 0, distinct = 0;
  for (int i = 0; i < n; i++) {
    if (idx[i] == slot_index(mine)) same_as_parent++;
    bool first = true;
    for (int k = 0; k < i; k++) first = first && idx[k] != idx[i];
    distinct += first;
  }
  if (g_scheme == 3) {
    // 64 draws from ~2^17 slots: a repeat is possible but rare.
    CHECK(same_as_parent <= 1, "%d of %d children got the parent's slot", same_as_parent, n);
    CHECK(distinct >= n - 2, "only %d distinct slots among %d children", distinct, n);
  } else {
    CHECK(same_as_parent == n, "scheme %ld: the slot differs between processes", g_scheme);
  }
  return true;
}

// Scheme 3: a kernel address learnt in one process is not a kernel mapping in another.
bool t_kernel_isolation() {
  if (!g_diag) {
    EXPECT(diag(DIAG_KERNEL_ADDR, 0), -ENOSYS);
    printf("  kernel_isolation: not observable from user mode without CONFIG_DIAG\n");
    return true;
  }
  long ka = diag(DIAG_KERNEL_ADDR, 0);
  int want_in_child = g_scheme == 2 ? 1 : 0;
  int tries = 0;
  long st = -2;
  for (; tries < 3; tries++) {
    st = run_child([](long a) { return (int)diag(DIAG_IS_KERNEL_MAPPED, a); }, ka);
    if (st == want_in_child) break;
    if (g_scheme != 3) break;  // only scheme 3 has chance collisions
  }
  CHECK(st == want_in_child, "scheme %ld: the parent's kernel address %#lx is %s in a child",
        g_scheme, ka, st == 1 ? "mapped" : "not mapped");
  if (g_scheme != 3) return true;
  // exec picks a new slot too.
  for (tries = 0; tries < 3; tries++) {
    long pid = fork();
    CHECK(pid >= 0, "fork = %ld", pid);
    if (pid == 0) {
      char slot[24];
      snprintf(slot, sizeof slot, "%ld", diag(DIAG_KERNEL_SLOT, 0));
      const char* args[] = {"usertests", "--child-slot", slot, nullptr};
      exec("usertests", args);
      exit(2);
    }
    int s = -2;
    EXPECT(waitpid(pid, &s, 0), pid);
    if (s == 0) break;
    CHECK(s == 1, "exec slot helper status %d", s);
  }
  CHECK(tries < 3, "exec kept the same kernel slot 3 times");
  return true;
}

// ---------------------------------------------------------------- counters
bool t_counters() {
  if (!g_counters) return counters_read_zero("counters");
  constexpr long N = 1000;
  long pid = getpid();
  KernelStats a = get_stats();
  long sum = 0;
  for (long i = 0; i < N; i++) sum += getpid();
  KernelStats b = get_stats();
  CHECK(sum == N * pid, "sum of getpid = %ld", sum);
  long syscalls = (long)(b.self.syscalls - a.self.syscalls);
  long traps = (long)(b.self.traps - a.self.traps);
  long irqs = (long)(b.self.interrupts - a.self.interrupts);
  long satp = (long)(b.self.satp_writes - a.self.satp_writes);
  long switches = (long)(b.self.context_switches - a.self.context_switches);
  long sfence = (long)(b.self.sfence_all + b.self.sfence_asid + b.self.sfence_addr -
                       a.self.sfence_all - a.self.sfence_asid - a.self.sfence_addr);
  printf("  counters over %ld getpid: syscalls %ld traps %ld interrupts %ld satp %ld switches %ld "
         "sfence %ld\n", N, syscalls, traps, irqs, satp, switches, sfence);
  EXPECT(syscalls, N + 1);  // the getpids and the second stats
  EXPECT(traps, syscalls + irqs);
  CHECK(b.global.syscalls - a.global.syscalls >= (uint64_t)syscalls, "global syscalls grew less");
  if (g_scheme == 1) {
    CHECK(satp == 2 * traps, "scheme 1: %ld satp writes for %ld traps, want 2 per trap", satp, traps);
  } else {
    CHECK(satp == switches, "scheme %ld: %ld satp writes for %ld switches, want equal", g_scheme,
          satp, switches);
  }
  return true;
}

// Two processes pass the CPU back and forth with yield.
struct Deltas {
  long switches, satp, traps;
};
Deltas yield_loop(int n) {
  KernelStats a = get_stats();
  for (int i = 0; i < n; i++) yield();
  KernelStats b = get_stats();
  return {(long)(b.self.context_switches - a.self.context_switches),
          (long)(b.self.satp_writes - a.self.satp_writes), (long)(b.self.traps - a.self.traps)};
}

// 0 if the deltas are right for this scheme, else a bit mask of what is wrong.
int check_deltas(const Deltas& d) {
  int bad = 0;
  if (d.switches < 900) bad |= 1;
  if (g_scheme != 1 && d.satp != d.switches) bad |= 2;
  if (g_scheme == 1 && d.satp != 2 * d.traps) bad |= 4;
  return bad;
}

bool t_pingpong() {
  if (!g_counters) return counters_read_zero("pingpong");
  constexpr int N = 1000;
  long pid = fork();
  CHECK(pid >= 0, "fork = %ld", pid);
  if (pid == 0) {
    Deltas d = yield_loop(N);
    int bad = check_deltas(d);
    if (bad)
      printf("  pingpong child: switches %ld satp %ld traps %ld\n", d.switches, d.satp, d.traps);
    exit(bad);
  }
  Deltas d = yield_loop(N);
  int st = -2;
  EXPECT(waitpid(pid, &st, 0), pid);
  printf("  pingpong parent: %d yields, switches %ld satp %ld traps %ld\n", N, d.switches, d.satp,
         d.traps);
  int bad = check_deltas(d);
  CHECK(bad == 0, "parent deltas wrong (mask %d: 1 too few switches, 2 satp != switches, "
        "4 satp != 2 * traps)", bad);
  CHECK(st == 0, "child deltas wrong (status %d, same mask)", st);
  return true;
}

// ================================================================= the runner
struct Test {
  const char* name;
  bool (*fn)();
};

const Test TESTS[] = {
    {"printf", t_printf},
    {"string", t_string},
    {"malloc", t_malloc},
    {"unknown_syscall", t_unknown_syscall},
    {"write", t_write},
    {"read", t_read},
    {"read_fault", t_read_fault},
    {"exit_status", t_exit_status},
    {"getpid_yield", t_getpid_yield},
    {"fork_reap_any", t_fork_reap_any},
    {"fork_reap_order", t_fork_reap_order},
    {"fork_tree", t_fork_tree},
    {"wait_errors", t_wait_errors},
    {"wait_nohang", t_wait_nohang},
    {"wait_fault", t_wait_fault},
    {"fork_eagain", t_fork_eagain},
    {"fork_enomem", t_fork_enomem},
    {"fork_enomem_exhausted", t_fork_enomem_exhausted},
    {"asid_chain", t_asid_chain},
    {"mmap_fences", t_mmap_fences},
    {"exec_errors", t_exec_errors},
    {"exec_args", t_exec_args},
    {"exec_pid", t_exec_pid},
    {"exec_fresh", t_exec_fresh},
    {"preempt", t_preempt},
    {"mmap_basic", t_mmap_basic},
    {"mmap_zero_fill", t_mmap_zero_fill},
    {"mmap_fixed_overlap", t_mmap_fixed_overlap},
    {"mmap_einval", t_mmap_einval},
    {"mmap_enomem", t_mmap_enomem},
    {"munmap_partial", t_munmap_partial},
    {"mmap_prot", t_mmap_prot},
    {"mmap_fork", t_mmap_fork},
    {"mmap_many", t_mmap_many},
    {"mmap_many_areas", t_mmap_many_areas},
    {"cow_isolation", t_cow_isolation},
    {"demand_paging", t_demand_paging},
    {"demand_oom", t_demand_oom},
    {"pipe_basic", t_pipe_basic},
    {"pipe_limits", t_pipe_limits},
    {"pipe_fork", t_pipe_fork},
    {"pipe_partial", t_pipe_partial},
    {"pipe_exec", t_pipe_exec},
    {"kernel_access", t_kernel_access},
    {"user_faults", t_user_faults},
    {"stack_overflow", t_stack_overflow},
    {"illegal_instruction", t_illegal_instruction},
    {"user_counters", t_user_counters},
    {"sbrk", t_sbrk},
    {"time", t_time},
    {"stats", t_stats},
    {"programs", t_programs},
    {"bench_echo", t_bench_echo},
    {"diag", t_diag},
    {"kernel_slots", t_kernel_slots},
    {"kernel_isolation", t_kernel_isolation},
    {"counters", t_counters},
    {"pingpong", t_pingpong},
};

long text_addr() { return (long)&t_printf; }

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

// ---------------------------------------------------------------- helper modes (exec targets)
int helper_main(int argc, char** argv) {
  const char* mode = argv[1];
  g_diag = diag(DIAG_SLOT_ENTROPY_MILLIBITS, 0) != -ENOSYS;
  if (strcmp(mode, "--child-exit") == 0) return argc > 2 ? (int)atol(argv[2]) : 0;
  if (strcmp(mode, "--child-echo") == 0) {
    if (argv[argc] != nullptr) return 1;
    if (((uintptr_t)argv & 7) != 0) return 2;
    return argv_hash(argc, argv);
  }
  if (strcmp(mode, "--child-pid") == 0)
    return (argc == 4 && getpid() == atol(argv[2]) && getppid() == atol(argv[3])) ? 0 : 1;
  if (strcmp(mode, "--child-fresh") == 0) {
    if (argc != 3 || sbrk(0) != atol(argv[2])) return 1;
    return mmap((void*)FIXED, 64 * PAGE, RW) == FIXED ? 0 : 2;
  }
  if (strcmp(mode, "--child-asid-chain") == 0) {
    long left = argc > 2 ? atol(argv[2]) : 0;
    if (g_diag && diag(DIAG_ASID_CHECK, 0) != 0) return 4;
    if (left <= 0) return 0;
    char next[24];
    snprintf(next, sizeof next, "%ld", left - 1);
    const char* args[] = {"usertests", "--child-asid-chain", next, nullptr};
    long r = exec("usertests", args);
    return r == -EAGAIN ? 0 : 5;  // EAGAIN: scheme 3 found no free slot (tiny configurations)
  }
  if (strcmp(mode, "--child-slot") == 0)
    return (argc == 3 && diag(DIAG_KERNEL_SLOT, 0) != atol(argv[2])) ? 0 : 1;
  printf("usertests: unknown helper mode %s\n", mode);
  return 3;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && strncmp(argv[1], "--child-", 8) == 0) return helper_main(argc, argv);

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
    for (const Test& t : TESTS) known |= strcmp(t.name, argv[i]) == 0;
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
  for (const Test& t : TESTS)
    if (selected(t.name)) run_test(t);
  if (selected("orphan")) test_orphan();

  // As init we may have inherited processes (a test that failed can leave one behind): give
  // them a few seconds, then take the final count.
  if (g_is_init) {
    long deadline = get_time_ns() + 5000 * MS;
    while (waitpid(-1, nullptr, WNOHANG) != -ECHILD && get_time_ns() < deadline) sleep_ns(10 * MS);
  }
  // The kernel heap keeps the frames it takes (a peak such as the full process table grows it
  // for good): those are accounted for, not lost.
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
