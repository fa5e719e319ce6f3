// usertests' framework: layout facts, state shared with the forked test processes, the CHECK
// macros, helpers, and self-registering tests.
//
// A test is `TEST(name) { ...; return true; }` in any file of this folder (one file per
// subsystem); it registers itself before main runs, under `name`, which is also what
// `usertests NAME...` selects and what the `test NAME: ok` line shows. Tests run in the order
// of the files as linked (alphabetical), and in file order within a file.
#pragma once

#include "user.hpp"

using namespace uapi;

// ---------------------------------------------------------------- layout facts
inline constexpr long PAGE = 4096;
inline constexpr long MS = 1000 * 1000;  // nanoseconds
inline constexpr long STACK_TOP = (long)uapi::USER_STACK_TOP;  // the user stack ends here (uapi/layout.h)
inline constexpr long KADDR = (long)0xffffffc000200000ul;       // where the kernel image sits in scheme 1/2
inline constexpr long KADDR_HIGH = (long)0xffffffff00000000ul;  // high in the kernel half
inline constexpr long TRAMPOLINE = (long)0xfffffffffffff000ul;  // a fixed kernel page (no U bit)
// Fixed user addresses for the tests. mmap(0, ...) allocates from 0x2000000000 upwards, the
// image sits at 0x10000 and the heap right after it, so these stay free unless a test maps them.
inline constexpr long FIXED = 0x1000000000;     // fixed-address mmap tests
inline constexpr long EDGE = 0x1400000000;      // a page whose successor is never mapped
inline constexpr long UNMAPPED = 0x1800000000;  // never mapped
inline constexpr long MEGA = 2l << 20;

inline constexpr int RW = PROT_READ | PROT_WRITE;

// A child that returns from a function that should have killed it exits with this.
inline constexpr int SURVIVED = 77;
// A forked child whose exec failed exits with EXEC_FAILED + errno.
inline constexpr int EXEC_FAILED = 1000;
// Returned by run_child when fork or waitpid itself failed (never a real status).
inline constexpr long NO_CHILD = -1000000;

inline constexpr uint32_t RET_INSN = 0x00008067;  // jalr x0, 0(ra)

// ---------------------------------------------------------------- state shared with children
// Recorded by main before any test runs; forked test processes inherit the values.
extern long g_initial_brk;  // the program break as exec left it
extern bool g_is_init;      // are we pid 1 (then orphans come to us)?
extern long g_scheme;       // 1, 2 or 3
extern bool g_counters;     // CONFIG_STATS: the kernel counts events (else every counter reads 0)
extern bool g_diag;         // CONFIG_DIAG: the diag call answers (else it fails with -ENOSYS)
extern bool g_demand;       // CONFIG_MEMORY_DEMAND: anonymous pages appear at the first touch
extern bool g_cow;          // CONFIG_FORK_COW: fork shares pages copy-on-write
extern char g_reason[512];  // why the current test failed
extern bool g_icount;       // `usertests --icount`: under QEMU -icount (rdinstret is exact)

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

// EXPECT_KILLED(what, fn, arg); variadic because a lambda argument may contain commas.
#define EXPECT_KILLED(what, ...)                         \
  do {                                                   \
    if (!expect_killed(what, __VA_ARGS__)) return false; \
  } while (0)

// ---------------------------------------------------------------- registration
struct Test {
  const char* name;
  bool (*fn)();
};
// Every registered test, in registration order.
const Test* tests_begin();
const Test* tests_end();
void register_test(const char* name, bool (*fn)());
struct TestRegistration {
  TestRegistration(const char* name, bool (*fn)()) { register_test(name, fn); }
};
// TEST(name) { body }: defines and registers the test `name` (returns true on success, or sets
// g_reason through FAIL/CHECK/EXPECT and returns false).
#define TEST(name)                                                  \
  bool t_##name();                                                  \
  const TestRegistration registration_##name(#name, t_##name);      \
  bool t_##name()

// ---------------------------------------------------------------- helpers (framework.cpp)
long round_up(long x, long a);
long round_down(long x, long a);
KernelStats get_stats();
// Free frames plus the page-table pages this process holds plus the kernel heap's frames.
// The kernel keeps empty page-table pages of a process until it exits, and up to one empty
// heap page per size class, so frames_free alone can drop without a leak; the sum stays
// constant unless memory leaked.
long mem_mark();
// CONFIG_STATS=n: the kernel counts nothing, so a test of counter values checks that they all
// read zero, which is what docs/syscalls.md promises for that build.
bool counters_read_zero(const char* test);
// Fork; the child runs fn(arg) and exits with its return value. Returns the child's status.
long run_child(int (*fn)(long), long arg);
// Run fn(arg) in a child that must be killed by the kernel (wait status -1).
bool expect_killed(const char* what, void (*fn)(long), long arg);
// Fork a child that runs exec(path, argv). Returns the child's status: the exec'd program's
// exit status, or EXEC_FAILED + errno when exec failed.
long exec_in_child(const char* path, const char* const* argv);
// Wait up to `ms` milliseconds for pid to exit. Returns true (and the status) if it did.
bool wait_for(long pid, int* status, long ms);
// A mapped read-write page at EDGE; the page after it is never mapped, so a range that starts
// near the end of this page runs off the end of a mapping.
long edge_page();

// Pointers that are bad for every system call: null, a tiny address, kernel addresses, the
// first address above user space, and an unmapped user address.
struct BadPtr {
  long addr;
  const char* what;
};
extern const BadPtr BAD_PTRS[6];

// Addresses of read-only memory: program text and read-only data.
long text_addr();
long rodata_addr();

// The argv checksum that `usertests --child-echo ...` returns: the parent computes it over
// the argv it passed, the child over the argv it received.
int argv_hash(int argc, const char* const* argv);
// A tight user loop with no system calls; `asm volatile` keeps the compiler from removing it.
void spin(long iterations);
// One access to addr (a read, a write): for EXPECT_KILLED.
void touch(long addr);
void poke(long addr);
// Fill memory until no frame is free: pages are mapped (and, with demand paging, made present
// through the kernel, which reports running out as ENOMEM). Returns the number of areas
// recorded in addrs/sizes (pages); free them with release_memory.
int exhaust_memory(long* addrs, long* sizes, int max);
bool release_memory(const long* addrs, const long* sizes, int n);

// The exec helper modes (helpers.cpp): `usertests --child-...`.
int helper_main(int argc, char** argv);
