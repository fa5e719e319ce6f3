// fuzz SEED CALLS [BATCH [trace]]: a seeded system-call fuzzer (issue 8). `trace` prints every
// call before it is made (to find the call of a hang).
//
// The top process stays simple: it runs CALLS fuzzed calls in batches of BATCH (default 1000),
// each batch in a forked "batch process" that fuzzes and then reaps everything it created, and
// around every batch it checks the kernel's frame accounting (frames_free + the kernel heap's
// frames, as usertests' leak test): after a batch every process of the batch is gone, so any
// frame missing is a leak. Lines:
//   fuzz: seed S, C calls in batches of B, scheme N, ASIDs on|off     (start)
//   fuzz: batch I: K planned, T calls issued (children included), F frames free, heap H
//         frames, lost L                                           (one per batch)
//   fuzz: odd: ...        a result that contradicts docs/syscalls.md (at most 3 per process)
//   fuzz: KILLED ...      a fuzz process was killed by the kernel (no system call may do that)
//   fuzz: N calls, M batches, leaks L     (the last line; N counts every call issued by
//         every fuzz process, children and exec'd leaves included)
// The exit status is 0 iff no frame leaked, no fuzz process was killed or lost, and no result
// contradicted the documented contract (the `odd` lines; the checks are listed at oddity()).
//
// What is fuzzed: random system-call numbers (valid ones, out-of-range, negative, huge, and
// numbers whose low 32 bits are a valid call), with hostile arguments: null, tiny, kernel-half
// addresses (fixed ones, this process's own kernel slot and kernel data address from diag),
// non-canonical and above-user-space addresses, unmapped ones, misaligned, read-only (text,
// rodata), ranges that straddle the end of a mapping, wrapping ranges, huge and negative
// lengths; mmap/munmap/sbrk churn (fixed-address and kernel-chosen mappings, partial unmaps
// that split areas, unmaps of the image/heap/stack that must fail); fork trees (depth <= 2,
// <= 3 live children per process, each child fuzzes 20..220 calls and then reaps and exits;
// waitpid with hostile pids, status pointers and options); exec of valid names (`fuzz --leaf`,
// `echo`) with valid and hostile argv, and of invalid names (unknown, empty, with a slash,
// 63/64+ characters, unterminated at the end of a mapping, bad pointers), 32/33 arguments,
// argument strings of 4096 bytes and more.
//
// Excluded (each would legitimately block forever, end the fuzzer, or make the run depend on
// memory it must not use):
//   - exit in the top process and in a batch process (only tree children and leaf images
//     exit, with their report status, after the fuzzed call's junk arguments);
//   - read on fd 0 with len > 0 (it waits for console input): such a read gets len 0;
//   - pipes stay within one handler: created, written while empty, read while holding data or
//     after the write end closed, dup2'd to a free number, and closed again; fds 0-2 are never
//     closed or replaced by dup2 (so no other descriptor is open between calls, and no read or
//     write can block);
//   - sleep longer than 2 ms (huge values would block for good once the overflow is fixed);
//   - write of a valid buffer to the console (noise in the log): it gets len 0; bad buffers
//     are written with any length;
//   - blocking waitpid is only issued when the caller has live children (which all end);
//   - mmap and sbrk sizes between 1 MiB and 1 GiB (they would succeed and exhaust memory for
//     the other fuzz processes): sizes are small, or huge (>= 8 GiB), or negative/wrapping;
//     rarely (1 in 4096 calls) an sbrk of 1 GiB, which must fail;
//   - pointers into the fuzzer's own data, bss and stack (the kernel would rightly overwrite
//     its state): writable pointers go to a scratch mapping, the fuzz arena, fuzzed mmap areas
//     and the fuzzed heap, which the fuzzer itself never reads;
//   - fork beyond the tree bounds (a waitpid on the oldest child is issued instead);
//   - exec of a valid program from a batch process (done in a forked child instead).
// Deterministic for a seed: every process's sequence of calls depends only on its seed (a
// child's seed is drawn by its parent before the fork), never on a result, except that the
// addresses of kernel-chosen mappings are reused as arguments.
#include "user.hpp"

using namespace uapi;

namespace {

constexpr long PAGE = 4096;
constexpr long MS = 1000 * 1000;
constexpr long USER_TOP = 0x4000000000;
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

const long RODATA_WORDS[8] = {1, 2, 3, 4, 5, 6, 7, 8};

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

KernelStats get_stats() {
  KernelStats s;
  memset(&s, 0, sizeof s);
  stats(&s);
  return s;
}

bool is_errno(long r) {
  switch (-r) {
    case EPERM: case ENOENT: case ESRCH: case E2BIG: case ENOEXEC: case EBADF: case ECHILD:
    case EAGAIN: case ENOMEM: case EFAULT: case EINVAL: case ENFILE: case EMFILE: case EPIPE:
    case ENAMETOOLONG: case ENOSYS:
      return true;
    default:
      return false;
  }
}

int g_odd_printed;
bool g_trace;  // `fuzz SEED CALLS BATCH trace`: print every call before it is made (debugging)

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

  void init(uint64_t s, int d, long n) {
    seed = s;
    rng.s = s;
    depth = d;
    calls_left = n;
    calls = desc_calls = 0;
    errors = 0;
    odd = 0;
    nkids = 0;
    brk0 = sbrk(0);
    kslot = diag(DIAG_KERNEL_SLOT, 0);
    kaddr = diag(DIAG_KERNEL_ADDR, 0);
  }

  // The contract checks (each prints an `odd` line and fails the run): a negative result is a
  // known -errno; an unknown number gives -ENOSYS; read of fd 0 with len 0 does not wait;
  // mmap returns a page-aligned user address (the requested one when fixed); munmap of a
  // wrapping range or of the stack fails; sbrk returns the old break; diag(IS_KERNEL_MAPPED)
  // is 0 for a non-canonical address; exec of an invalid name fails with ENOENT, EFAULT,
  // ENAMETOOLONG or E2BIG; waitpid reaps only with a good status pointer; exit does not return.
  void oddity(const char* what, long nr, long a0, long a1, long a2, long r) {
    odd++;
    if (g_odd_printed++ < 3)  // per process (a forked child starts from its parent's count)
      printf("fuzz: odd: seed %lu depth %d call %ld: %s: nr %ld (%#lx, %#lx, %#lx) = %ld\n", seed,
             depth, calls, what, nr, a0, a1, a2, r);
  }

  // A raw call, counted, with the generic oracle: a negative result is a known -errno.
  long call(long nr, long a0 = 0, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0) {
    calls++;
    if (g_trace)
      printf("T d%d c%ld: %ld(%#lx, %#lx, %#lx)\n", depth, calls, nr, a0, a1, a2);
    long r = syscall6(nr, a0, a1, a2, a3, a4, a5);
    if (r < 0 && r > -4096 && !is_errno(r)) oddity("unknown errno", nr, a0, a1, a2, r);
    return r;
  }

  long junk() { return (long)rng.next(); }

  // ---- hostile values
  static bool never_mapped(long p) { return (uint64_t)p < (uint64_t)PAGE || (uint64_t)p >= (uint64_t)USER_TOP; }
  long heap_end() { return sbrk(0); }
  long any_ptr() {
    switch (rng.below(26)) {
      case 0: return 0;
      case 1: return 1 + rng.below(PAGE - 1);
      case 2: return SCRATCH + rng.below(SCRATCH_PAGES * PAGE);       // valid, maybe misaligned
      case 3: return SCRATCH + rng.below(SCRATCH_PAGES) * PAGE;       // valid, aligned
      case 4: return SCRATCH_END - 1 - rng.below(64);                 // straddles the end
      case 5: return SCRATCH_END;                                     // just past it
      case 6: return (long)&any_ptr_text_marker;                      // text (read-only)
      case 7: return (long)RODATA_WORDS + rng.below(64);              // rodata (read-only)
      case 8: return ARENA + rng.below(ARENA_PAGES) * PAGE + (rng.chance(4) ? rng.below(PAGE) : 0);
      case 9: return nmaps ? maps[rng.below(nmaps)] + rng.below(PAGE) : UNMAPPED;
      case 10: return USER_TOP - 1 - rng.below(PAGE);                 // top of user space
      case 11: return USER_TOP;
      case 12: return STACK_TOP;                                      // above the stack
      case 13: return STACK_TOP - 17 * PAGE + rng.below(PAGE);        // the stack guard page
      case 14: return KERNEL_HALF + rng.below(PAGE);
      case 15: return KERNEL_IMAGE + rng.below(1 << 20);
      case 16: return kslot + rng.below(2 << 20);                     // this process's kernel window
      case 17: return kaddr;                                          // kernel data every call reads
      case 18: return TRAMPOLINE + rng.below(PAGE);
      case 19: {
        static const long nc[] = {0x0000008000000000, (long)0x8000000000000000ul,
                                  (long)0xffffff8000000000ul, 0x7fffffffffffffff,
                                  0x0000004000000000 + PAGE, (long)0xffffffbfffffffffl,
                                  0x00007ffffffff000};
        return nc[rng.below(7)];
      }
      case 20: return -1 - rng.below(PAGE);
      case 21: return junk();
      case 22: return heap_end() - 1 - rng.below(PAGE);               // straddles the break
      case 23: return KERNEL_HIGH;
      case 24: return UNMAPPED + rng.below(PAGE);
      default: return SCRATCH + PAGE * 8;                             // valid, middle
    }
  }
  long any_len() {
    switch (rng.below(18)) {
      case 0: return 0;
      case 1: return 1;
      case 2: return rng.below(16);
      case 3: return rng.below(PAGE);
      case 4: return PAGE;
      case 5: return PAGE + 1;
      case 6: return rng.below(17) * PAGE;
      case 7: return 65536;
      case 8: return 65537;
      case 9: return 1l << 31;
      case 10: return 1l << 32;
      case 11: return -1;
      case 12: return -rng.below(PAGE);
      case 13: return (long)(1ul << 63);
      case 14: return USER_TOP;
      case 15: return 0x100000000l + rng.below(16);   // low 32 bits small
      case 16: return junk();
      default: return 8;
    }
  }
  // A (pointer, length) pair, sometimes made to wrap around 2^64 or to run off a mapping.
  void any_range(long& p, long& n) {
    p = any_ptr();
    switch (rng.below(8)) {
      case 0: n = (long)(0 - (uint64_t)p) + rng.below(4 * PAGE); break;   // wraps
      case 1: n = SCRATCH_END - p + 1 + rng.below(PAGE); break;           // runs off scratch
      default: n = any_len();
    }
  }
  long any_fd() {
    static const long fds[] = {0, 1, 2, 3, -1, 1l << 32, (1l << 32) + 1, 0x7fffffff, 1000};
    return rng.chance(8) ? junk() : fds[rng.below(9)];
  }
  // A length for mmap/sbrk that either is small or cannot succeed.
  long alloc_len() {
    switch (rng.below(10)) {
      case 0: return 0;
      case 1: return 1 + rng.below(PAGE);
      case 2: return (1 + rng.below(4)) * PAGE + rng.below(2);
      case 3: return (1 + rng.below(16)) * PAGE;
      case 4: return (1l << 33) + rng.below(1l << 40);   // >= 8 GiB: more than any RAM here
      case 5: return -rng.below(4 * PAGE);
      case 6: return (long)(1ul << 63);
      case 7: return USER_TOP;
      case 8: return 0x7ffffffffffff000;
      default: return PAGE;
    }
  }
  static void any_ptr_text_marker() {}

  // ---- the calls with their own rules
  void f_read() {
    long fd = any_fd(), p, n;
    any_range(p, n);
    if ((int)fd == 0) n = 0;  // excluded: would wait for console input (no other fd can block)
    long r = call(SYS_read, fd, p, n, junk(), junk(), junk());
    if ((int)fd == 0 && r != 0 && r != -EBADF && r != -EFAULT) oddity("read len 0", SYS_read, fd, p, n, r);
  }
  void f_write() {
    long fd = any_fd(), p, n;
    any_range(p, n);
    bool console = fd == 1 || fd == 2;
    // A valid buffer would print: only bad or empty ones go to the console.
    if (console && !never_mapped(p)) n = 0;
    call(SYS_write, fd, p, n, junk(), junk(), junk());
  }
  void f_sleep() {
    static const long ns[] = {0, 1, 100, 1000, MS, 2 * MS, -1, (long)(1ul << 63), -4096};
    long r = call(SYS_sleep, ns[rng.below(9)], junk(), junk());
    (void)r;
  }
  void f_mmap() {
    long addr;
    switch (rng.below(10)) {
      case 0: case 1: case 2: addr = nmaps < MAX_MAPS ? 0 : ARENA; break;
      case 3: case 4: case 5: addr = ARENA + rng.below(ARENA_PAGES) * PAGE; break;
      case 6: addr = ARENA + rng.below(ARENA_PAGES) * PAGE + 1 + rng.below(PAGE - 1); break;
      case 7: addr = USER_TOP - (1 + rng.below(4)) * PAGE; break;
      case 8: addr = STACK_TOP - PAGE; break;   // overlaps the stack
      default: addr = any_ptr();
    }
    long len = alloc_len();
    // Valid-looking fixed addresses outside the arena get at most 4 pages (memory bound).
    if (addr != 0 && (addr < ARENA || addr >= ARENA + ARENA_PAGES * PAGE) && len > 4 * PAGE &&
        len < (1l << 33))
      len = 4 * PAGE;
    long prot = rng.chance(10) ? junk() : rng.below(16);
    long r = call(SYS_mmap, addr, len, prot, junk(), junk(), junk());
    if (r >= 0) {
      if ((r & (PAGE - 1)) || r >= USER_TOP || (addr != 0 && r != addr))
        oddity("mmap address", SYS_mmap, addr, len, prot, r);
    }
    // Every mmap(0) takes a slot, failed or not (a failure under another process's memory
    // use must not change the later calls): a failed one holds an unmapped address.
    if (addr == 0 && nmaps < MAX_MAPS) {
      maps[nmaps] = r >= 0 ? r : UNMAPPED + nmaps * PAGE;
      map_pages[nmaps++] = len > 0 && len < (1l << 33) ? (len + PAGE - 1) / PAGE : 1;
    }
  }
  void f_munmap() {
    long addr, len;
    switch (rng.below(12)) {
      case 0: case 1:
        if (nmaps) {
          int i = (int)rng.below(nmaps);
          addr = maps[i];
          len = map_pages[i] * PAGE;
          maps[i] = maps[--nmaps];
          map_pages[i] = map_pages[nmaps];
          break;
        }
        [[fallthrough]];
      case 2:  // a split: one page from the middle of a mapping
        if (nmaps) {
          int i = (int)rng.below(nmaps);
          addr = maps[i] + rng.below(map_pages[i]) * PAGE;
          len = PAGE;
          break;
        }
        [[fallthrough]];
      case 3: case 4:
        addr = ARENA + rng.below(ARENA_PAGES) * PAGE;
        len = (1 + rng.below(8)) * PAGE - rng.below(2);
        break;
      case 5: addr = 0x10000; len = PAGE; break;                       // the image: EINVAL
      case 6: addr = brk0 & ~(PAGE - 1); len = 2 * PAGE; break;         // the heap: EINVAL
      case 7: addr = STACK_TOP - PAGE; len = PAGE; break;               // the stack: EINVAL
      case 8: addr = ARENA; len = (long)(0 - (uint64_t)ARENA) + PAGE * rng.below(4); break;  // wraps
      case 9: addr = ARENA; len = USER_TOP - ARENA; break;              // reaches the stack: EINVAL
      default: any_range(addr, len);
    }
    long r = call(SYS_munmap, addr, len, junk(), junk(), junk(), junk());
    if ((uint64_t)addr + (uint64_t)len < (uint64_t)addr && len != 0 && r == 0)
      oddity("munmap of a wrapping range", SYS_munmap, addr, len, 0, r);
    if (addr == STACK_TOP - PAGE && r == 0) oddity("munmap of the stack", SYS_munmap, addr, len, 0, r);
  }
  void f_sbrk() {
    long inc;
    long cur = heap_end();
    calls++;  // the sbrk(0)
    long used = (cur - brk0) / PAGE;
    switch (rng.below(10)) {
      case 0: case 1: case 2:
        inc = used < HEAP_MAX_PAGES ? rng.below(8 * PAGE) : -rng.below(8 * PAGE);
        break;
      case 3: case 4: inc = -rng.below(cur - brk0 + 1); break;        // shrink, valid
      case 5: inc = -(cur - brk0) - 1 - rng.below(PAGE); break;        // below the start: EINVAL
      case 6: inc = (long)(1ul << 63); break;
      case 7: inc = 0x7fffffffffffffff; break;
      case 8: inc = (1l << 37) + rng.below(1l << 30); break;           // past the heap limit
      default:
        inc = rng.chance(400) ? (1l << 30) : 0;                        // beyond free memory (rare)
    }
    long r = call(SYS_sbrk, inc, junk(), junk());
    if (r >= 0 && r != cur) oddity("sbrk old break", SYS_sbrk, inc, cur, 0, r);
  }
  void f_waitpid() {
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
      if (st >= 0x10000 && st < USER_TOP) memcpy(&v, (const void*)st, sizeof v);
      else oddity("waitpid reaped with a bad status pointer", SYS_waitpid, pid, st, opt, r);
      account(r, v);
    }
  }
  void f_stats() {
    long p, n;
    any_range(p, n);
    call(SYS_stats, p, junk(), junk());
  }
  void f_programs() {
    long p, n;
    any_range(p, n);
    call(SYS_programs, p, n, junk());
  }
  void f_echo() {
    long p, n, q, m;
    any_range(p, n);
    any_range(q, m);
    call(SYS_bench_echo, p, q, rng.chance(2) ? n : m);
  }
  void f_diag() {
    long op = rng.chance(5) ? junk() : rng.below(9) - 2;
    long arg = rng.chance(2) ? any_ptr() : junk();
    long r = call(SYS_diag, op, arg, junk());
    // Sv39: an address is canonical when bits 63..39 all equal bit 38.
    long top = arg >> 38;
    if (op == DIAG_IS_KERNEL_MAPPED && top != 0 && top != -1 && r == 1)
      oddity("diag: non-canonical address is kernel-mapped", SYS_diag, op, arg, 0, r);
  }
  // ---- descriptors. Between two fuzzed calls only 0, 1 and 2 (the console) are open: every
  // descriptor a handler creates it closes before it returns, and 0-2 are never closed or
  // replaced (the batch's output would go). So a read or write on any other number cannot
  // block, and close of one gives -EBADF.
  static constexpr int NFD = 32;
  long other_fd() {
    static const long fds[] = {-1, NFD, NFD + 1, 1l << 32, (1l << 32) + 3, 0x7fffffff};
    return rng.chance(2) ? 3 + rng.below(NFD - 3) : (rng.chance(4) ? junk() : fds[rng.below(6)]);
  }
  static bool console_fd(long fd) { return fd >= 0 && fd <= 2; }
  void close_quiet(long fd) { call(SYS_close, fd); }
  void f_pipe() {
    int local[2] = {-1, -1};
    long p = rng.chance(3) ? any_ptr() : (long)local;
    long r = call(SYS_pipe, p, junk(), junk());
    if (r != 0) {
      long c = call(SYS_close, 3);  // a failed pipe leaves no descriptor behind
      if (c != -EBADF) oddity("failed pipe left fd 3 open", SYS_pipe, p, 0, 0, c);
      return;
    }
    int fds[2];
    memcpy(fds, (const void*)p, sizeof fds);
    if (fds[0] < 3 || fds[1] < 3 || fds[0] >= NFD || fds[1] >= NFD || fds[0] == fds[1]) {
      oddity("pipe descriptors", SYS_pipe, p, fds[0], fds[1], r);
      return;
    }
    char buf[8];
    // Nothing here can block: the pipe is empty (4 KiB free) when written, holds data when
    // read, and is read after its write end closed only to see EOF.
    switch (rng.below(4)) {
      case 0: {
        long w = call(SYS_write, fds[1], (long)"abc", 3);
        long rd = call(SYS_read, fds[0], (long)buf, sizeof buf);
        if (w != 3 || rd != 3 || memcmp(buf, "abc", 3) != 0)
          oddity("pipe write/read", SYS_read, fds[0], w, rd, rd);
        break;
      }
      case 1: {  // EOF once the writer is gone
        close_quiet(fds[1]);
        long rd = call(SYS_read, fds[0], (long)buf, sizeof buf);
        if (rd != 0) oddity("read at EOF", SYS_read, fds[0], 0, 0, rd);
        fds[1] = -1;
        break;
      }
      case 2: {  // a write with no reader fails
        close_quiet(fds[0]);
        long w = call(SYS_write, fds[1], (long)"abc", 3);
        if (w >= 0) oddity("write without reader", SYS_write, fds[1], 0, 0, w);
        fds[0] = -1;
        break;
      }
      default: {  // hostile buffers on pipe ends
        long q, n;
        any_range(q, n);
        // A good buffer as long as the pipe's free 4 KiB (with the byte below) would wait for
        // a reader for good.
        if (!never_mapped(q) && (uint64_t)n >= (uint64_t)PAGE) n = rng.below(PAGE);
        call(SYS_write, fds[1], q, n);
        // Then at least one byte is there, so the read cannot wait.
        call(SYS_write, fds[1], (long)"z", 1);
        any_range(q, n);
        call(SYS_read, fds[0], q, n);
      }
    }
    if (rng.chance(2)) {  // dup2 a pipe end to a free number, then close it
      long nfd = 3 + rng.below(NFD - 3);
      long end = fds[0] >= 0 ? fds[0] : fds[1];
      if (fds[1] >= 0 && rng.chance(2)) end = fds[1];
      long d = call(SYS_dup2, end, nfd);
      if (d >= 0 && d != fds[0] && d != fds[1]) close_quiet(d);
    }
    if (fds[0] >= 0) close_quiet(fds[0]);
    if (fds[1] >= 0) close_quiet(fds[1]);
  }
  void f_close() {
    long fd = other_fd();
    long r = call(SYS_close, fd, junk(), junk());
    if (r != -EBADF) oddity("close of a descriptor that is not open", SYS_close, fd, 0, 0, r);
  }
  void f_dup2() {
    long old = rng.chance(2) ? rng.below(3) : other_fd();
    long nfd = other_fd();
    if (console_fd(nfd)) nfd = NFD;
    long r = call(SYS_dup2, old, nfd, junk());
    if (r >= 0) {
      if (r != nfd || !console_fd(old)) oddity("dup2", SYS_dup2, old, nfd, 0, r);
      if (!console_fd(r)) close_quiet(r);
    }
  }

  void f_unknown() {
    long nr;
    switch (rng.below(6)) {
      case 0: nr = 0; break;
      case 1: nr = SYS_COUNT + rng.below(20); break;
      case 2: nr = -1 - rng.below(20); break;
      case 3: {
        static const long harmless[] = {SYS_yield, SYS_getpid, SYS_getppid, SYS_get_time};
        nr = (1l << 32) | harmless[rng.below(4)];  // low 32 bits are a valid number
        break;
      }
      case 4: nr = (long)(1ul << 63) | SYS_getpid; break;
      default: nr = junk();
    }
    if (nr >= 1 && nr < SYS_COUNT) nr = 0;
    long r = call(nr, any_ptr(), any_len(), junk(), junk(), junk(), junk());
    if (r != -ENOSYS) oddity("unknown number", nr, 0, 0, 0, r);
  }

  // ---- process tree
  // Children occupy their slot (oldest first) from the fork to the reap of that slot.
  void drop_oldest() {
    for (int i = 1; i < nkids; i++) kids[i - 1] = kids[i];
    nkids--;
  }
  // What a child's exit status says.
  void account(long pid, int st) {
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
  void reap(long pid) {
    int st = 0;
    long r = syscall6(SYS_waitpid, pid, (long)&st, 0, 0, 0, 0);
    calls++;
    if (r > 0) account(r, st);
    else if (r != -ECHILD) oddity("waitpid of own child", SYS_waitpid, pid, 0, 0, r);
  }
  void reap_oldest() {
    reap(kids[0]);
    drop_oldest();
  }
  void reap_all() {
    while (nkids) reap_oldest();
    for (;;) {  // children we lost track of (a fuzzed waitpid reaped them, or exec kept them)
      int st = 0;
      long r = syscall6(SYS_waitpid, -1, (long)&st, 0, 0, 0, 0);
      if (r <= 0) break;
      account(r, st);
    }
  }
  int report_status() {
    long c = calls + desc_calls;
    if (c > 0xfffff) c = 0xfffff;
    long e = errors + odd;
    return ST_REPORT | ((e > 255 ? 255 : (int)e) << 20) | (int)c;
  }
  [[noreturn]] void finish() {
    reap_all();
    exit(report_status());
  }

  void f_fork() {
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
  void f_exit() {
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

  // ---- exec
  // Pointers that are never a good string or array for exec (not 0: a null argv is valid).
  // Only addresses no fuzzed mmap can map: below the first page or outside user space
  // (unmapped user addresses may be mapped by then, and hold anything).
  long bad_ptr() {
    static const long bad[] = {1, 0xfff, USER_TOP, KERNEL_HALF, KERNEL_IMAGE, TRAMPOLINE,
                               (long)0x8000000000000000ul, 0x0000008000000000, -8};
    return rng.chance(6) ? kslot : bad[rng.below(9)];
  }
  // Is [p, p + n) of scratch still mapped read-write (a fuzzed munmap may have removed it)?
  bool scratch_ok(long p, long n) {
    calls++;
    return syscall6(SYS_bench_echo, p, p, n, 0, 0, 0) == n;
  }
  // The strings for exec live on this process's stack and in rodata (never handed out as
  // writable). The valid program names get argv that keep them harmless: `fuzz` always as
  // `fuzz --leaf SEED CALLS ...` (any other argv would start a top-level fuzzer), `echo` only
  // with a fixed word (anything else would print it); invalid names get anything.
  void f_exec() {
    char name[80];
    char seedbuf[24], callsbuf[24];
    const char* argv[40];
    static char big[2][2100];
    long path;
    int kind = (int)rng.below(14);
    // kind 8's unterminated "fuzz" is a valid name when a fuzzed mmap put memory after scratch.
    bool fuzz = kind <= 2 || kind == 8, echo = kind == 3;
    switch (kind) {
      case 0: case 1: case 2: path = (long)"fuzz"; break;
      case 3: path = (long)"echo"; break;
      case 4: path = (long)"nosuchprogram"; break;
      case 5: path = (long)""; break;
      case 6: path = (long)"user/fuzz"; break;
      case 7: {  // 63 characters (allowed length, unknown name) or 64+ (too long)
        long n = 63 + rng.below(3);
        for (long i = 0; i < n; i++) name[i] = (char)('a' + i % 26);
        name[n] = 0;
        path = (long)name;
        break;
      }
      case 8:  // "fuzz" without its NUL, in the last bytes of the scratch mapping
        path = SCRATCH_END - 4;
        if (scratch_ok(path, 4)) memcpy((void*)path, "fuzz", 4);
        break;
      // Never a pointer to bytes we do not control: rodata and scratch may hold the name of a
      // program (a suffix of "fuzz-echo" is "echo"; sh would wait for console input).
      default: path = bad_ptr();
    }
    snprintf(seedbuf, sizeof seedbuf, "%lu", rng.next() >> 1);
    snprintf(callsbuf, sizeof callsbuf, "%ld", 10 + rng.below(60));
    int argc = 0;
    long argvp = (long)argv;
    if (fuzz) {
      argv[argc++] = kind == 8 ? (const char*)path : "fuzz";
      argv[argc++] = "--leaf";
      argv[argc++] = seedbuf;
      argv[argc++] = callsbuf;
    } else {
      argv[argc++] = echo ? "echo" : (const char*)path;
      if (echo) argv[argc++] = "fuzz-echo";
    }
    int akind = (int)rng.below(12);
    if (echo && (akind < 6 || akind == 9)) akind = 11;  // echo: the good argv or a failing one
    switch (akind) {
      case 0:  // null: no arguments (a fuzz leaf would not be one)
        if (!fuzz) argvp = 0;
        break;
      case 1:
        if (!fuzz) argvp = any_ptr();
        break;
      case 2: case 3: {  // 32 or 33 arguments in all
        int n = 32 + (int)rng.below(2);
        while (argc < n) argv[argc++] = "x";
        break;
      }
      case 4: case 5: {  // argument strings of about 4096 bytes (counted with the NULs)
        long n = 2030 + rng.below(30);
        for (int k = 0; k < 2; k++) {
          memset(big[k], 'y', (size_t)n);
          big[k][n] = 0;
          argv[argc++] = big[k];
        }
        break;
      }
      case 6: case 7:  // a bad string pointer inside a good array
        argv[argc++] = (const char*)bad_ptr();
        break;
      case 8:  // a bad array
        argvp = bad_ptr();
        break;
      case 9: {  // the array runs off the end of scratch without its terminator
        long at = SCRATCH_END - 16;
        if (scratch_ok(at, 16)) {
          const char* two[2] = {"fuzz", "--leaf"};  // harmless if the array does go on
          memcpy((void*)at, two, sizeof two);
          argvp = at;
        } else {
          argvp = bad_ptr();
        }
        break;
      }
      default: break;  // the good argv
    }
    argv[argc] = nullptr;
    // A program could start: from a batch process always in a child; a tree child may become
    // the program itself (echo only when it has no children, which echo would orphan).
    bool valid = fuzz || echo;
    if (valid && (depth == 0 || (echo && nkids > 0))) {
      if (nkids >= MAX_WIDTH) reap_oldest();
      long pid = call(SYS_fork);
      if (pid == 0) {
        long r = syscall6(SYS_exec, path, argvp, junk(), junk(), junk(), junk());
        exit(ST_EXEC_FAILED | (int)(-r & 0xfff));
      }
      calls++;  // the child's exec
      if (pid > 0) reap(pid);
      return;
    }
    long r = call(SYS_exec, path, argvp, junk(), junk(), junk(), junk());
    if (!valid && r != -ENOENT && r != -EFAULT && r != -ENAMETOOLONG && r != -E2BIG)
      oddity("exec of an invalid name", SYS_exec, path, argvp, 0, r);
  }

  void one() {
    switch (rng.below(40)) {
      case 0: f_read(); break;
      case 1: case 2: f_write(); break;
      case 3: f_exit(); break;
      case 4: call(SYS_yield, junk(), junk()); break;
      case 5: call(SYS_getpid, junk()); break;
      case 6: call(SYS_getppid, junk()); break;
      case 7: if (rng.chance(2)) f_fork(); else call(SYS_getpid); break;
      case 8: case 9: f_exec(); break;
      case 10: case 11: f_waitpid(); break;
      case 12: call(SYS_get_time, junk()); break;
      case 13: f_sleep(); break;
      case 14: case 15: case 16: case 17: case 18: case 19: f_mmap(); break;
      case 20: case 21: case 22: case 23: case 24: f_munmap(); break;
      case 25: case 26: case 27: f_sbrk(); break;
      case 28: case 29: f_stats(); break;
      case 30: f_programs(); break;
      case 31: case 32: f_echo(); break;
      case 33: case 34: f_diag(); break;
      case 35: f_pipe(); break;
      case 36: f_close(); break;
      case 37: f_dup2(); break;
      default: f_unknown(); break;
    }
  }
  void run() {
    while (calls_left-- > 0) one();
  }
};

// ---------------------------------------------------------------- the top process
long leaf_main(int argc, char** argv) {
  Fuzzer f;
  f.init((uint64_t)atol(argc > 2 ? argv[2] : "1"), MAX_DEPTH, argc > 3 ? atol(argv[3]) : 10);
  f.run();
  f.finish();
}

// Create what the kernel makes lazily (a process, an exec'd image) before the first count.
void warm_up() {
  long pid = fork();
  if (pid == 0) exit(0);
  if (pid > 0) waitpid(pid, nullptr, 0);
  pid = fork();
  if (pid == 0) {
    const char* args[] = {"fuzz", "--leaf", "7", "0", nullptr};
    exec("fuzz", args);
    exit(1);
  }
  if (pid > 0) waitpid(pid, nullptr, 0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "--leaf") == 0) return (int)leaf_main(argc, argv);
  if (argc < 3 || argv[1][0] < '0' || argv[1][0] > '9') {
    printf("usage: fuzz SEED CALLS [BATCH]\n");
    return 2;
  }
  uint64_t seed = (uint64_t)atol(argv[1]);
  long total = atol(argv[2]);
  long batch = argc > 3 ? atol(argv[3]) : 1000;
  if (batch < 1) batch = 1;
  g_trace = argc > 4 && strcmp(argv[4], "trace") == 0;
  bool is_init = getpid() == 1;
  KernelStats s = get_stats();
  printf("fuzz: seed %lu, %ld calls in batches of %ld, scheme %lu, ASIDs %s (%lu bits)%s\n", seed,
         total, batch, s.scheme, s.asid_enabled ? "on" : "off", s.asid_bits,
         is_init ? " (init)" : "");
  if (mmap((void*)SCRATCH, SCRATCH_PAGES * PAGE, PROT_READ | PROT_WRITE) != SCRATCH) {
    printf("fuzz: cannot map the scratch area\n");
    return 2;
  }
  warm_up();
  long calls = 0, batches = 0, leaks = 0, lost_total = 0, kills = 0, errors = 0, problems = 0;
  for (long done = 0; done < total; done += batch, batches++) {
    long n = total - done < batch ? total - done : batch;
    uint64_t bseed = seed * 1000003ul + (uint64_t)batches;
    KernelStats a = get_stats();
    long pid = fork();
    if (pid == 0) {
      Fuzzer f;
      f.init(bseed, 0, n);
      f.run();
      f.finish();
    }
    if (pid < 0) {
      printf("fuzz: batch %ld: fork failed: %ld\n", batches, pid);
      errors++;
      break;
    }
    int st = 0;
    long r = waitpid(pid, &st, 0);
    // As init, orphans of a killed fuzz process come to us: wait for them all.
    if (is_init)
      while (waitpid(-1, nullptr, 0) > 0) {
      }
    KernelStats b = get_stats();
    long heap_growth = (long)(b.heap_pages - a.heap_pages);
    long lost = (long)a.frames_free - (long)b.frames_free - heap_growth +
                ((long)a.self.pt_pages - (long)b.self.pt_pages);
    long own = 0, desc = 0;
    if (r != pid) {
      printf("fuzz: batch %ld: waitpid = %ld\n", batches, r);
      errors++;
    } else if (st == -1) {
      printf("fuzz: KILLED batch process pid %ld (seed %lu)\n", pid, bseed);
      kills++;
    } else if ((st & 0x30000000) == ST_REPORT) {
      desc = st & 0xfffff;
      own = n;
      problems += (st >> 20) & 0xff;
    } else {
      printf("fuzz: batch %ld: odd status %#x\n", batches, st);
      errors++;
    }
    calls += desc;
    if (lost != 0) leaks++;
    lost_total += lost;
    printf("fuzz: batch %ld: %ld planned, %ld calls issued (children included), %lu frames "
           "free, heap %lu frames, lost %ld\n", batches, own, desc, b.frames_free, b.heap_pages,
           lost);
  }
  KernelStats e = get_stats();
  printf("fuzz: asid generation %lu, %lu rollovers\n", e.asid_generation, e.asid_rollovers);
  printf("fuzz: %ld batch processes killed, %ld problems below them (kills, odd results), %ld "
         "errors, %ld frames lost in all\n", kills, problems, errors, lost_total);
  printf("fuzz: %ld calls, %ld batches, leaks %ld\n", calls, batches, leaks);
  return leaks == 0 && kills == 0 && errors == 0 && problems == 0 ? 0 : 1;
}
