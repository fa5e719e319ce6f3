// System-call wrappers.
//
// The convention (include/uapi/syscall.h): a7 = number, a0..a5 = arguments, `ecall`, result in
// a0. The kernel preserves every other register, so the only clobber is memory (the kernel may
// read or write user buffers). Each arity has its own helper so that a call sets up only the
// registers it needs: bench_null measures exactly this path.
#include "user.hpp"

using namespace uapi;

static inline long sc0(long nr) {
  register long a0 asm("a0");
  register long a7 asm("a7") = nr;
  asm volatile("ecall" : "=r"(a0) : "r"(a7) : "memory");
  return a0;
}

static inline long sc1(long nr, long x0) {
  register long a0 asm("a0") = x0;
  register long a7 asm("a7") = nr;
  asm volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
  return a0;
}

static inline long sc2(long nr, long x0, long x1) {
  register long a0 asm("a0") = x0;
  register long a1 asm("a1") = x1;
  register long a7 asm("a7") = nr;
  asm volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a7) : "memory");
  return a0;
}

static inline long sc3(long nr, long x0, long x1, long x2) {
  register long a0 asm("a0") = x0;
  register long a1 asm("a1") = x1;
  register long a2 asm("a2") = x2;
  register long a7 asm("a7") = nr;
  asm volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
  return a0;
}

long syscall6(long nr, long x0, long x1, long x2, long x3, long x4, long x5) {
  register long a0 asm("a0") = x0;
  register long a1 asm("a1") = x1;
  register long a2 asm("a2") = x2;
  register long a3 asm("a3") = x3;
  register long a4 asm("a4") = x4;
  register long a5 asm("a5") = x5;
  register long a7 asm("a7") = nr;
  asm volatile("ecall"
               : "+r"(a0)
               : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a7)
               : "memory");
  return a0;
}

long read(int fd, void* buf, size_t len) { return sc3(SYS_read, fd, (long)buf, (long)len); }
long write(int fd, const void* buf, size_t len) { return sc3(SYS_write, fd, (long)buf, (long)len); }

void exit(int status) {
  // exit does not return; should a broken kernel return anyway, ask again rather than run on.
  for (;;) sc1(SYS_exit, status);
}

// start.S calls this with main's return value (a C name, so the assembly needs no mangling).
extern "C" [[noreturn]] void __user_exit(int status) { exit(status); }

long yield() { return sc0(SYS_yield); }
long getpid() { return sc0(SYS_getpid); }
long getppid() { return sc0(SYS_getppid); }
long fork() { return sc0(SYS_fork); }
long exec(const char* path, const char* const argv[]) {
  return sc2(SYS_exec, (long)path, (long)argv);
}
long waitpid(long pid, int* status, int options) {
  return sc3(SYS_waitpid, pid, (long)status, options);
}
long get_time_ns() { return sc0(SYS_get_time); }
long sleep_ns(long ns) { return sc1(SYS_sleep, ns); }
long sbrk(long increment) { return sc1(SYS_sbrk, increment); }
long mmap(void* addr, size_t len, int prot) { return sc3(SYS_mmap, (long)addr, (long)len, prot); }
long munmap(void* addr, size_t len) { return sc2(SYS_munmap, (long)addr, (long)len); }
long stats(KernelStats* out) { return sc1(SYS_stats, (long)out); }
long programs(char* buf, size_t len) { return sc2(SYS_programs, (long)buf, (long)len); }
long bench_echo(const void* in, void* out, size_t len) {
  return sc3(SYS_bench_echo, (long)in, (long)out, (long)len);
}
long diag(long op, long arg) { return sc2(SYS_diag, op, arg); }
long pipe(int fds[2]) { return sc1(SYS_pipe, (long)fds); }
long close(int fd) { return sc1(SYS_close, fd); }
long dup2(int old_fd, int new_fd) { return sc2(SYS_dup2, old_fd, new_fd); }
long kill(long pid) { return sc1(SYS_kill, pid); }
long console_poll(void* buf, size_t len) { return sc2(SYS_console_poll, (long)buf, (long)len); }

// ---- threads ----
//
// The kernel starts a new thread at fn(arg) with sp = stack_top and nothing else set up, and a
// function that returns would jump to whatever ra held. So the library starts every thread in
// __thread_start (start.S) with a0 pointing at {fn, arg}, stored just below stack_top on the new
// thread's own stack (no shared table to lock): the trampoline calls fn(arg) and passes its
// result to thread_exit.
extern "C" void __thread_start(void* block);

long thread_create(long (*fn)(void*), void* arg, void* stack_top) {
  auto top = (uintptr_t)stack_top;
  // A misaligned stack is the kernel's error to report (-EINVAL), not a store to fault on.
  if (top % 16 != 0) return sc3(SYS_thread_create, (long)fn, (long)arg, (long)stack_top);
  auto* block = (void**)(top - 16);
  block[0] = (void*)fn;
  block[1] = arg;
  return sc3(SYS_thread_create, (long)&__thread_start, (long)block, (long)block);
}

void thread_exit(long status) {
  for (;;) sc1(SYS_thread_exit, status);
}

// The trampoline's way out (a C name for start.S).
extern "C" [[noreturn]] void __thread_exit(long status) { thread_exit(status); }

long thread_join(long tid) { return sc1(SYS_thread_join, tid); }
long sched_pin(long hart) { return sc1(SYS_sched_pin, hart); }
long current_hart() { return sc0(SYS_current_hart); }
