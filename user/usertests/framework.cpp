// usertests' framework: shared state, helpers and the test registry (see framework.hpp).
#include "framework.hpp"

long g_initial_brk;
bool g_is_init;
long g_scheme;
bool g_counters;
bool g_diag;
bool g_demand;
bool g_cow;
char g_reason[512];
bool g_icount;

namespace {
// Filled by the TEST registrations before main (static constructors); constant-initialised,
// so a registration in any file may run first.
constexpr int MAX_TESTS = 128;
Test registry[MAX_TESTS];
int registered = 0;
}  // namespace

void register_test(const char* name, bool (*fn)()) {
  if (registered == MAX_TESTS) {
    printf("usertests: more than %d tests: raise MAX_TESTS\n", MAX_TESTS);
    exit(2);
  }
  registry[registered++] = {name, fn};
}
const Test* tests_begin() { return registry; }
const Test* tests_end() { return registry + registered; }

long round_up(long x, long a) { return (x + a - 1) / a * a; }
long round_down(long x, long a) { return x / a * a; }

KernelStats get_stats() {
  KernelStats s;
  memset(&s, 0, sizeof s);
  stats(&s);
  return s;
}

long mem_mark() {
  KernelStats s = get_stats();
  return (long)(s.frames_free + s.self.pt_pages + s.heap_pages);
}

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

long run_child(int (*fn)(long), long arg) {
  long pid = fork();
  if (pid < 0) return NO_CHILD;
  if (pid == 0) exit(fn(arg));
  int st = 0;
  if (waitpid(pid, &st, 0) != pid) return NO_CHILD;
  return st;
}

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

bool wait_for(long pid, int* status, long ms) {
  long deadline = get_time_ns() + ms * MS;
  for (;;) {
    long r = waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r != 0 || get_time_ns() > deadline) return false;
    sleep_ns(MS);
  }
}

long edge_page() {
  long a = mmap((void*)EDGE, PAGE, RW);
  return a == -EINVAL ? EDGE : a;  // already mapped by an earlier call in this process
}

const BadPtr BAD_PTRS[6] = {
    {0, "null"},
    {1, "0x1"},
    {KADDR, "kernel 0xffffffc000200000"},
    {KADDR_HIGH, "kernel 0xffffffff00000000"},
    {USER_TOP, "0x4000000000 (above user space)"},
    {UNMAPPED, "unmapped 0x1800000000"},
};

namespace {
const long RODATA_WORDS[4] = {1, 2, 3, 4};
}  // namespace
long text_addr() { return (long)&text_addr; }
long rodata_addr() { return (long)RODATA_WORDS; }

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

void spin(long iterations) {
  for (long i = 0; i < iterations; i++) asm volatile("");
}

void touch(long addr) { (void)*(volatile char*)addr; }
void poke(long addr) { *(volatile char*)addr = 1; }

int exhaust_memory(long* addrs, long* sizes, int max) {
  int n = 0;
  bool exhausted = false;
  for (long chunk = 1024; chunk >= 1 && n < max && !exhausted;) {
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
  return n;
}

bool release_memory(const long* addrs, const long* sizes, int n) {
  for (int i = 0; i < n; i++) EXPECT(munmap((void*)addrs[i], sizes[i] * PAGE), 0);
  return true;
}
