// The fuzzer's shared parts (main.cpp says what it does): its constants, generator and the
// per-process state (Fuzzer), whose members live in one file per concern:
//   core.cpp     set-up, the counted call with its generic oracle, the choice of a call
//   values.cpp   hostile values: pointers, lengths, ranges, descriptors, allocation sizes
//   calls.cpp    the simple calls with their own rules (read, write, sleep, diag, unknown, ...)
//   memory.cpp   mmap, munmap and sbrk churn
//   files.cpp    pipes and descriptors
//   process.cpp  the process tree: fork, exit, waitpid, reaping and the report status
//   exec.cpp     exec with valid and hostile names and argument vectors
//   threads.cpp  `fuzz --threads N ...`: N threads per batch process on several harts
#pragma once

#include "user.hpp"

namespace fuzz {

using namespace uapi;


constexpr long PAGE = 4096;
constexpr long MS = 1000 * 1000;
constexpr long STACK_TOP = 0x3fffff0000;
constexpr long SCRATCH = 0x1100000000;     // mapped by the top process, inherited
constexpr long SCRATCH_PAGES = 17;         // bench_echo's 64 KiB + a page; unmapped after it
constexpr long SCRATCH_END = SCRATCH + SCRATCH_PAGES * PAGE;
constexpr long ARENA = 0x1200000000;       // fixed-address mmap churn
constexpr long ARENA_PAGES = 64;
constexpr long UNMAPPED = 0x1800000000;
constexpr int MAX_DEPTH = 2;               // batch process = 0
constexpr int MAX_WIDTH = 3;               // live children per process
constexpr int MAX_MAPS = 16;               // kernel-chosen mappings kept per process
constexpr long HEAP_MAX_PAGES = 256;       // the fuzzed break stays within this of its start

// Exit statuses of fuzz processes: kind in bits 28-29.
constexpr int ST_REPORT = 0x10000000;      // | errors << 20 | calls (self and descendants)
constexpr int ST_EXEC_FAILED = 0x30000000; // | errno: a forked exec child whose exec failed

constexpr long KERNEL_HALF = (long)0xffffffc000000000ul;
constexpr long KERNEL_IMAGE = (long)0xffffffc000200000ul;
constexpr long KERNEL_HIGH = (long)0xffffffff00000000ul;
constexpr long TRAMPOLINE = (long)0xfffffffffffff000ul;

extern const long RODATA_WORDS[8];  // read-only words (rodata) for hostile pointers

// ---------------------------------------------------------------- the generator
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ul);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ul;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebul;
    return z ^ (z >> 31);
  }
  long below(long n) { return n <= 0 ? 0 : (long)(next() % (uint64_t)n); }
  bool chance(long one_in) { return below(one_in) == 0; }
};

KernelStats get_stats();
bool is_errno(long r);  // a known -errno

extern int g_odd_printed;
extern bool g_trace;  // `fuzz SEED CALLS BATCH trace`: print every call before it is made (debugging)

// ---------------------------------------------------------------- one fuzzing process

struct Fuzzer {
  Rng rng;
  uint64_t seed;
  int depth;
  long calls_left;
  long calls = 0;        // issued by this process
  long desc_calls = 0;   // reported by children
  int errors = 0;        // kills seen below, odd statuses
  long odd = 0;
  long kids[MAX_WIDTH];
  int nkids = 0;
  long maps[MAX_MAPS];
  long map_pages[MAX_MAPS];
  int nmaps = 0;
  long brk0 = 0;
  long kslot = 0, kaddr = 0;
  int status_word = 0;   // where waitpid may store (a valid pointer for the kernel)

  void init(uint64_t s, int d, long n);

  // The contract checks (each prints an `odd` line and fails the run): a negative result is a
  // known -errno; an unknown number gives -ENOSYS; read of fd 0 with len 0 does not wait;
  // mmap returns a page-aligned user address (the requested one when fixed); munmap of a
  // wrapping range or of the stack fails; sbrk returns the old break; diag(IS_KERNEL_MAPPED)
  // is 0 for a non-canonical address; exec of an invalid name fails with ENOENT, EFAULT,
  // ENAMETOOLONG or E2BIG; waitpid reaps only with a good status pointer; exit does not return.
  void oddity(const char* what, long nr, long a0, long a1, long a2, long r);

  // A raw call, counted, with the generic oracle: a negative result is a known -errno.
  long call(long nr, long a0 = 0, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0);

  long junk() { return (long)rng.next(); }

  // ---- hostile values
  static bool never_mapped(long p) { return (uint64_t)p < (uint64_t)PAGE || (uint64_t)p >= (uint64_t)USER_TOP; }
  long heap_end() { return sbrk(0); }
  long any_ptr();
  long any_len();
  // A (pointer, length) pair, sometimes made to wrap around 2^64 or to run off a mapping.
  void any_range(long& p, long& n);
  long any_fd();
  // A length for mmap/sbrk that either is small or cannot succeed.
  long alloc_len();
  static void any_ptr_text_marker() {}

  // ---- the calls with their own rules
  void f_read();
  void f_write();
  void f_sleep();
  void f_mmap();
  void f_munmap();
  void f_sbrk();
  void f_waitpid();
  void f_stats();
  void f_programs();
  void f_echo();
  void f_diag();
  // ---- descriptors. Between two fuzzed calls only 0, 1 and 2 (the console) are open: every
  // descriptor a handler creates it closes before it returns, and 0-2 are never closed or
  // replaced (the batch's output would go). So a read or write on any other number cannot
  // block, and close of one gives -EBADF.
  static constexpr int NFD = 32;
  long other_fd();
  static bool console_fd(long fd) { return fd >= 0 && fd <= 2; }
  void close_quiet(long fd) { call(SYS_close, fd); }
  void f_pipe();
  void f_close();
  void f_dup2();

  void f_unknown();

  // ---- process tree
  // Children occupy their slot (oldest first) from the fork to the reap of that slot.
  void drop_oldest();
  // What a child's exit status says.
  void account(long pid, int st);
  void reap(long pid);
  void reap_oldest();
  void reap_all();
  int report_status();
  [[noreturn]] void finish();

  void f_fork();
  void f_exit();

  // ---- exec
  // Pointers that are never a good string or array for exec (not 0: a null argv is valid).
  // Only addresses no fuzzed mmap can map: below the first page or outside user space
  // (unmapped user addresses may be mapped by then, and hold anything).
  long bad_ptr();
  // Is [p, p + n) of scratch still mapped read-write (a fuzzed munmap may have removed it)?
  bool scratch_ok(long p, long n);
  // The strings for exec live on this process's stack and in rodata (never handed out as
  // writable). The valid program names get argv that keep them harmless: `fuzz` always as
  // `fuzz --leaf SEED CALLS ...` (any other argv would start a top-level fuzzer), `echo` only
  // with a fixed word (anything else would print it); invalid names get anything.
  void f_exec();

  void one();
  void run();
};

// `fuzz --threads N SEED CALLS [BATCH]` (threads.cpp).
int threads_main(int argc, char** argv);

}  // namespace fuzz
