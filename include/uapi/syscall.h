// The system-call interface: numbers, error codes and structures shared by the kernel and the
// user library. This header is the contract; docs/syscalls.md explains each call.
//
// Calling convention (like Linux on RISC-V): a7 = number, a0..a5 = arguments, `ecall`;
// the result comes back in a0 (a negative value is -Errno); every other register is preserved.
#pragma once

#ifdef __cplusplus
#include <stdint.h>
namespace uapi {
#endif

// Numbers are dense so that the kernel's dispatch is one bounds check and one jump table.
enum Sys : long {
  SYS_read = 1,         // read(fd, buf, len) -> bytes read (fd 0 = console)
  SYS_write = 2,        // write(fd, buf, len) -> bytes written (fd 1, 2 = console)
  SYS_exit = 3,         // exit(status) -> does not return
  SYS_yield = 4,        // yield() -> 0
  SYS_getpid = 5,       // getpid() -> pid
  SYS_getppid = 6,      // getppid() -> parent pid (init's parent: 0)
  SYS_fork = 7,         // fork() -> child pid in the parent, 0 in the child
  SYS_exec = 8,         // exec(path, argv) -> does not return on success
  SYS_waitpid = 9,      // waitpid(pid, status*, options) -> pid of the reaped child
  SYS_get_time = 10,    // get_time() -> nanoseconds since boot (from the timebase)
  SYS_sleep = 11,       // sleep(nanoseconds) -> 0
  SYS_mmap = 12,        // mmap(addr, len, prot) -> mapped address (anonymous, zero-filled)
  SYS_munmap = 13,      // munmap(addr, len) -> 0
  SYS_sbrk = 14,        // sbrk(increment) -> previous program break
  SYS_stats = 15,       // stats(KernelStats*) -> 0
  SYS_programs = 16,    // programs(buf, len) -> bytes: NUL-separated names of embedded programs
  SYS_bench_echo = 17,  // bench_echo(in, out, len) -> len: copy len bytes in, then out (bench_copy)
  SYS_diag = 18,        // diag(DiagOp, arg) -> value: harness/test diagnostics (see DiagOp)
  SYS_pipe = 19,        // pipe(int fds[2]) -> 0: fds[0] reads, fds[1] writes
  SYS_close = 20,       // close(fd) -> 0
  SYS_dup2 = 21,        // dup2(old, new) -> new: new refers to what old refers to
  SYS_kill = 22,        // kill(pid) -> 0: end a descendant process (it exits with status KILLED_STATUS)
  SYS_console_poll = 23, // console_poll(buf, len) -> bytes typed so far (0: none); never blocks
  SYS_thread_create = 24, // thread_create(fn, arg, stack_top) -> tid > 0 (fn(arg) on a new thread)
  SYS_thread_exit = 25,  // thread_exit(status) -> does not return; the last thread's ends the process
  SYS_thread_join = 26,  // thread_join(tid) -> that thread's exit status (blocks until it exits)
  SYS_sched_pin = 27,    // sched_pin(hart) -> 0: run only on logical hart `hart` (-1: anywhere)
  SYS_current_hart = 28, // current_hart() -> the logical hart id the caller runs on
  SYS_COUNT = 29,
};

// Errors are returned as negative values: -EFAULT etc.
enum Errno : long {
  EPERM = 1,    // not allowed
  ENOENT = 2,   // no such program
  ESRCH = 3,    // no such process
  E2BIG = 7,    // argument list too long
  ENOEXEC = 8,  // not a valid executable
  EBADF = 9,    // bad file descriptor
  ECHILD = 10,  // no child to wait for
  EAGAIN = 11,  // try again: fork with the process table full, or (scheme 3) fork/exec with no free kernel window slot
  ENOMEM = 12,  // out of memory
  EFAULT = 14,  // bad user address
  EINVAL = 22,  // invalid argument
  ENFILE = 23,  // the system's pipe table is full
  EMFILE = 24,  // the process's descriptor table is full
  EPIPE = 32,   // write to a pipe whose read end is closed everywhere
  ENAMETOOLONG = 36,
  ENOSYS = 38,  // unknown system call
};

// mmap protection bits (any combination of R, W, X; W requires R).
enum Prot : long { PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4 };

// File descriptors: 0, 1 and 2 start as the console in every process (init's are set up by the
// kernel, everyone else inherits them); a process has FD_MAX descriptors; a pipe buffers
// PIPE_BUF bytes.
enum FileLimits : long { FD_MAX = 32, PIPE_BUF = 4096 };

// The wait status of a process ended by kill() (the same as one the kernel killed for a fault).
enum KillStatus : long { KILLED_STATUS = -1 };

// waitpid options.
enum WaitOptions : long { WNOHANG = 1 };

// Per-process or global event counters. All are event counts since the owner was created
// (the process) or since boot (global), except the two gauges marked below.
struct Counters {
  uint64_t traps;             // every entry into the kernel from user mode
  uint64_t syscalls;          // ecalls from user mode
  uint64_t interrupts;        // interrupts taken from user mode (timer ticks and IPIs)
  uint64_t faults;            // exceptions other than ecall (those kill the process)
  uint64_t satp_writes;       // csrw satp executed on behalf of this process
  uint64_t sfence_all;        // sfence.vma zero, zero
  uint64_t sfence_asid;       // sfence.vma zero, asid
  uint64_t sfence_addr;       // sfence.vma va, (zero or asid)
  uint64_t context_switches;  // times this process was switched in
  uint64_t pt_pages;          // gauge: page-table pages held now
  uint64_t pt_pages_kernel;   // gauge: of which hold only kernel mappings
  uint64_t page_faults;       // first touches served by demand paging (CONFIG_MEMORY_DEMAND)
  uint64_t cow_faults;        // writes to shared pages served by copy-on-write (CONFIG_FORK_COW)
};

struct KernelStats {
  Counters self;        // the calling process
  Counters global;      // the whole system (exited processes included)
  uint64_t frames_free; // physical 4 KiB frames free now
  uint64_t frames_total;
  uint64_t heap_bytes_used; // kernel heap in use
  uint64_t heap_pages;  // frames the kernel heap holds (empty pages go back, but one per size class)
  uint64_t scheme;      // 1, 2 or 3
  uint64_t asid_enabled;
  uint64_t timebase_hz; // rdtime frequency
  uint64_t asid_bits;       // usable ASID bits (the probe, lowered by asid_bits=N); 0: no ASIDs in use
  uint64_t asid_generation; // current ASID generation (starts at 1, +1 per rollover)
  uint64_t asid_rollovers;  // generation rollovers since boot (each is one full TLB flush)
  uint64_t fp_saves;        // FP register files saved at a switch (the outgoing process's FS was Dirty)
  uint64_t fp_restores;     // FP register files loaded at a switch or at a process's first FP use
  uint64_t memory_demand;   // 1: anonymous memory is paged in on demand (CONFIG_MEMORY_DEMAND)
  uint64_t fork_cow;        // 1: fork shares pages copy-on-write (CONFIG_FORK_COW)
  uint64_t timer_hz;        // scheduler ticks per second (CONFIG_TIMER_HZ)
  uint64_t harts_online;    // harts the kernel runs on (device tree, capped at CONFIG_NR_HARTS)
  uint64_t remote_fences_sent; // TLB shootdown requests sent to other harts, summed over harts
  uint64_t ipis_sent;       // inter-processor interrupts sent (wake-ups and IPI shootdowns)
  uint64_t tlb_shootdowns;  // TLB maintenance operations that needed a remote fence
};

// SYS_diag operations, for tests and the harness. None of them reveals more than a kernel
// log line would; they exist so that tests can check layout facts from user mode.
enum DiagOp : long {
  DIAG_KERNEL_SLOT = 1,       // -> the VA at which this process's page table maps the kernel window
  DIAG_KERNEL_ADDR = 2,       // -> the VA, in this process's table, of kernel data every system call reads
  DIAG_IS_KERNEL_MAPPED = 3,  // (va) -> 1 if va is a kernel (non-U) mapping in this process's table
  DIAG_SLOT_ENTROPY_MILLIBITS = 4, // -> log2(number of possible kernel slots) * 1000
  DIAG_PT_PAGES = 5,          // -> page-table pages held by this process
  DIAG_ASID_CHECK = 6,        // -> violations of the ASID allocator's invariant over all live
                              //    address spaces (0: no ASID held twice in one generation, and
                              //    every held ASID marked in the allocator)
  DIAG_RUNQ_CHECK = 7,        // -> violations of the run queue's invariant (0: it holds exactly
                              //    the Runnable processes, each once, and its tail is its last node)
  DIAG_PRIVATE_GLOBALS = 8,   // -> global (G) entries in the page-table pages this process's table
                              //    owns: they are freed after an ASID-scoped fence, which does not
                              //    order global entries (privileged spec), so this must be 0
};
// With CONFIG_DIAG=n (the hardened build) every diag call fails with -ENOSYS.

#ifdef __cplusplus
}  // namespace uapi
#endif
