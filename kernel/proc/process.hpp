// Processes: the process table, and the life cycle fork -> exec -> exit -> wait.
#pragma once

#include "arch/fp.hpp"
#include "ipc/file.hpp"
#include "lib/counters.hpp"
#include "mm/addrspace.hpp"
#include "lib/spinlock.hpp"
#include "arch/hart.hpp"
#include "scheme/scheme.hpp"
#include "uapi/syscall.h"

// Each slot of the process table is one thread: a kernel stack, a trap frame, registers, FP
// state. A process is a group of slots that share the address space and the file table, which
// live in the group's leader slot (the slot fork or exec created; `group` is its index): the
// leader slot also carries what the process's parent sees (pid, parent, exit status). Exited
// is a thread that ended while its process lives on: its slot waits for thread_join (or for
// the process to be reaped). Zombie is the leader slot of a process that ended.
enum class ProcState : u8 { Free, Runnable, Running, Blocked, Zombie, Exited };
enum class WaitReason : u8 { None, Sleep, Child, Pipe, Join, Threads };

// Callee-saved registers of a kernel thread that gave up the CPU, and the user's gp (which the
// kernel never touches, so it is still live in the register). Not tp: in the kernel it is the
// hart's (proc/hart.hpp), and the user's tp is in the trap frame. ra and sp are VAs at the
// process's own window, and a context is only ever resumed in its own address space.
struct Context {
  u64 ra, sp, gp, s[12];
};

// The registers of user mode, saved at each trap, and the fields every scheme's trap path uses;
// the scheme's own fields follow (scheme/<scheme>/state.hpp). The generated trap path's offsets
// are checked against this struct by generated/trap_checks.hpp (trap/trapgen_checks.cpp).
struct alignas(16) TrapFrame {  // 16: the generator rounds the frame to the stack alignment
  u64 x[32];  // x[0] unused
  u64 epc;
  u64 satp_writes, sfence_all, syscalls;  // counted by the generated trap path
  u64 kernel_tp;  // the kernel's tp for this process: its hart's Hart, at its window (hart.hpp)
  [[no_unique_address]] scheme::TrapFrameExtra scheme;
};

// A power-of-two size: the running process is found as table[hart.running] on every system call,
// and a power of two makes that index one shift instead of a multiply.
struct alignas(1024) Process {
  ProcState state = ProcState::Free;
  WaitReason waiting = WaitReason::None;
  int pid = 0;      // the process's id (the same in every thread: getpid reads it lock-free)
  int tid = 0;      // this thread's id (the leader's tid is the pid)
  int group = -1;   // index of the leader slot, which holds the space and the files
  int exiter = -1;  // leader slot: the thread ending the others (exit, exec), -1 when none
  bool joined = false;  // an Exited leader slot already given to thread_join
  int parent = -1;  // leader slot: the parent's leader slot (never a pointer: see KPtr)
  int exit_status = 0;
  int run_next = -1;  // next in the run queue (sched.cpp)
  bool killed = false;  // kill() asked it to end: it exits where it next resumes in the kernel
  int pinned = -1;      // the only logical hart it may run on (sched_pin); -1: any
  u64 wake_at = 0;  // rdtime value, when sleeping
  u16 wait_pipe = 0;  // the pipe, when waiting on one
  FdTable owned_files{};  // leader slot: the process's descriptors (use fds())
  char name[32] = {};
  Context ctx{};
  AddressSpace owned_space;    // leader slot: the process's address space (use vm())
  AddressSpace retired_space;  // leader slot: the old space during exec, freed from the new one
  uapi::Counters counters{};
  fp::State fp{};  // user FP registers while another process runs (arch/fp.hpp)
  scheme::ProcessState scheme_state{};

  int index() const;
  Process& leader();
  // The address space and the files this thread uses: its process's, in the leader slot.
  AddressSpace& vm() { return leader().owned_space; }
  FdTable& fds() { return leader().owned_files; }
};
static_assert(sizeof(Process) == 1024, "Process outgrew its power-of-two slot: raise the alignment");

namespace proc {

inline constexpr int NPROC = config::nproc;

// The kernel lock (rank Kernel, the outermost): every system call except the lock-free ones
// (trap/syscall.cpp) and every interrupt or fault from user mode run under it. It is held
// across context switches: the thread switched in releases it on its way back to user mode.
extern SpinLock kernel_lock;

// The table lives in process.cpp, the running process's index in this hart's Hart; these are
// inline because the trap path asks for the current process on every trap.
extern Process table[];
inline Process& at(int index) { return table[index]; }
}  // namespace proc
inline Process& Process::leader() { return proc::table[group]; }
namespace proc {
inline Process& current() { return table[hart::self().running]; }
inline int current_index() { return hart::self().running; }
// `index` runs on this hart from now on: its trap entries must load this hart's tp.
void set_current(int index);
// The counters that events happening now are charged to (the current process; boot events
// before the first process go to a boot record).
inline uapi::Counters& counters_now() { return stats::counters_now(); }

// Boot: create init running `argv[0]` (an embedded program) and never return.
[[noreturn]] void start_init(const char* const* argv, int argc);

Result<long> fork();
// Threads (docs/syscalls.md): a new thread of the current process starting at fn(arg) on the
// user stack `stack_top`; the calling thread's end (the last one's ends the process); waiting
// for a thread of the same process and taking its status.
Result<long> thread_create(u64 fn, u64 arg, u64 stack_top);
[[noreturn]] void thread_exit(int status);
Result<long> thread_join(long tid);
// exec with arguments already copied into kernel memory; returns only on failure.
Error exec(const char* name, const char* const* argv, int argc);
[[noreturn]] void exit(int status);
// Kill the current process for a fault it caused.
[[noreturn]] void kill_current(const char* reason, u64 scause, u64 stval, u64 sepc);
Result<long> waitpid(long pid, u64 user_status, long options);
// End process `pid`, a descendant of the caller (Perm otherwise, NoProcess if there is none).
Error kill(long pid);
// Called where a process resumes in the kernel: exit now if kill() marked it.
void exit_if_killed();

// Counters of one process including what its trap path counted.
void counters_of(Process& p, uapi::Counters& out);
// The sum over all processes, living and gone.
void global_counters(uapi::Counters& out);
// The ASID allocator's invariant over every live address space (see mm/asid.hpp): the number
// of pairs holding the same ASID in one generation plus held ASIDs not marked in the allocator.
long asid_invariant_violations();

}  // namespace proc

// Scheduling (proc/sched.cpp)
namespace sched {

void init_timer(u64 timebase_hz);
// The current process gives up the CPU; it must have set its state first (a Runnable
// process must be queued with wake()).
void schedule();
void yield();
void sleep_until(u64 when);
void on_timer_interrupt();
// A preemption point inside a long system call: if a tick came due, take it now (as the timer
// interrupt would have: other processes get their turn). The kernel is not preemptible
// anywhere else.
void preempt_point();
// The run queue's invariant (it holds exactly the Runnable processes, each once, and its tail
// pointer is its last node): the number of violations, 0 when it holds (DIAG_RUNQ_CHECK).
long run_queue_violations();
void wake(Process& p);
// sched_pin: restrict the current process to logical hart `hart` (-1: any), moving there now.
void pin_current(int hart);
// A secondary hart, booted: wait for the boot hart's scheduler, then run the idle loop.
[[noreturn]] void run_idle_first();

}  // namespace sched
