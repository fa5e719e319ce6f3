// The user library: system-call wrappers, a tiny printf, strings, a malloc on top of sbrk,
// and the counters a benchmark needs. Every user program includes only this header.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#include "uapi/layout.h"
#include "uapi/syscall.h"

using uapi::Counters;
using uapi::KernelStats;

// ---- system calls (a negative result is -Errno) ----
long read(int fd, void* buf, size_t len);
long write(int fd, const void* buf, size_t len);
[[noreturn]] void exit(int status);
long yield();
long getpid();
long getppid();
long fork();
long exec(const char* path, const char* const argv[]);  // argv ends with nullptr
long waitpid(long pid, int* status, int options);        // pid -1: any child
long get_time_ns();
long sleep_ns(long ns);
long sbrk(long increment);                               // returns the old break
long mmap(void* addr, size_t len, int prot);             // addr 0: kernel chooses
long munmap(void* addr, size_t len);
long stats(KernelStats* out);
long programs(char* buf, size_t len);
long bench_echo(const void* in, void* out, size_t len);
long diag(long op, long arg);
long pipe(int fds[2]);                                   // fds[0] reads, fds[1] writes
long close(int fd);
long dup2(int old_fd, int new_fd);                       // returns new_fd
long kill(long pid);                                     // a descendant only (else -EPERM)
long console_poll(void* buf, size_t len);                // console input without blocking (0: none)
// ---- threads (they share the address space and the descriptors; docs/syscalls.md) ----
// Start fn(arg) in a new thread of this process on the stack that ends at stack_top (16-byte
// aligned; the library keeps fn and arg in the 16 bytes below it). If fn returns, the thread
// exits with fn's return value. Returns the new thread's id (> 0). malloc is not thread-safe:
// threads that allocate must serialise it themselves.
long thread_create(long (*fn)(void*), void* arg, void* stack_top);
[[noreturn]] void thread_exit(long status);
long thread_join(long tid);                              // -> the thread's exit status
long sched_pin(long hart);                               // -1: any hart again
long current_hart();
// The raw system call, for tests that pass deliberately bad numbers or arguments.
long syscall6(long nr, long a0, long a1, long a2, long a3, long a4, long a5);

// ---- formatted output to the console (fd 1) ----
int printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
int snprintf(char* buf, size_t size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char* buf, size_t size, const char* fmt, va_list ap);
// %d %i %u %x %p %s %c %% with l/ll/z length modifiers, width, zero-padding, - and #.

// ---- strings and memory ----
extern "C" {
size_t strlen(const char* s);
int strcmp(const char* a, const char* b);
int strncmp(const char* a, const char* b, size_t n);
char* strcpy(char* dst, const char* src);
void* memset(void* dst, int c, size_t n);
void* memcpy(void* dst, const void* src, size_t n);
void* memmove(void* dst, const void* src, size_t n);
int memcmp(const void* a, const void* b, size_t n);
}
long atol(const char* s);  // decimal, optional leading '-'; 0 on garbage

// ---- heap (sbrk-backed) ----
void* malloc(size_t n);
void free(void* p);

// ---- counters ----
static inline uint64_t rdtime() {
  uint64_t v;
  asm volatile("rdtime %0" : "=r"(v));
  return v;
}
static inline uint64_t rdinstret() {
  uint64_t v;
  asm volatile("rdinstret %0" : "=r"(v));
  return v;
}

// ---- TLB-model region markers ----
// `slti x0, x0, imm` is a HINT: architecturally a no-op, one instruction. The TLB-model plugin
// recognises it: imm 1..2047 opens region `imm`, imm 0 closes the current region.
#define TLB_REGION_BEGIN(id) asm volatile("slti x0, x0, %0" ::"i"(id) : "memory")
#define TLB_REGION_END() asm volatile("slti x0, x0, 0" ::: "memory")

// The process's exit status is main's return value.
int main(int argc, char** argv);
