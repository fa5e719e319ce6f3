// The C++ side of traps. The generated entry code (DIR/generated/trap.S) saves the user
// registers in the trap frame and calls user_trap; when it returns, the generated exit code
// restores them and returns to user mode.
#include "trap/trap.hpp"

#include "arch/fp.hpp"
#include "arch/riscv.hpp"
#include "lib/log.hpp"

using riscv::Exception;

namespace {

const char* fault_name(u64 cause) {
  switch (Exception(cause)) {
    case Exception::InstructionMisaligned: return "misaligned instruction fetch";
    case Exception::InstructionAccessFault: return "instruction access fault";
    case Exception::IllegalInstruction: return "illegal instruction";
    case Exception::Breakpoint: return "breakpoint";
    case Exception::LoadMisaligned: return "misaligned load";
    case Exception::LoadAccessFault: return "load access fault";
    case Exception::StoreMisaligned: return "misaligned store";
    case Exception::StoreAccessFault: return "store access fault";
    case Exception::InstructionPageFault: return "instruction page fault";
    case Exception::LoadPageFault: return "load page fault";
    case Exception::StorePageFault: return "store page fault";
    default: return "unexpected exception";
  }
}


// Interrupts and faults: the rare causes, kept out of the system-call path.
[[gnu::noinline]] void user_interrupt_or_fault(TrapFrame* tf, u64 cause) {
  Process& p = proc::current();
  if (cause == (riscv::SCAUSE_INTERRUPT | riscv::IRQ_S_TIMER)) {
    if (config::stats) p.counters.interrupts++;
    sched::on_timer_interrupt();
    proc::exit_if_killed();  // another thread ended the process, or kill(): at most a tick late
    return;
  }
  // The first FP instruction since exec traps with FS off: hand out a zeroed FP register file
  // and retry it. Not counted as a fault: the process goes on.
  if (cause == u64(Exception::IllegalInstruction) && fp::first_use(p.fp)) return;
  u64 stval = CSR_READ(stval);
  // Page faults on user memory may be demand paging or copy-on-write: resolved, the access is
  // retried; out of memory kills the process (never the kernel).
  bool page_fault = cause == u64(Exception::LoadPageFault) || cause == u64(Exception::StorePageFault) ||
                    cause == u64(Exception::InstructionPageFault);
  if (page_fault && stval < layout::USER_TOP && (config::memory_demand || config::fork_cow)) {
    auto access = cause == u64(Exception::StorePageFault)  ? AddressSpace::Access::Write
                  : cause == u64(Exception::LoadPageFault) ? AddressSpace::Access::Read
                                                           : AddressSpace::Access::Execute;
    Error e = p.vm().resolve_fault(stval, access);
    if (e == Error::None) return;
    if (e == Error::NoMemory) {
      if (config::stats) p.counters.faults++;
      proc::kill_current("out of memory on a page fault", cause, stval, tf->epc);
    }
  }
  if (config::stats) p.counters.faults++;
  const char* reason = fault_name(cause);
  if ((cause == u64(Exception::LoadPageFault) || cause == u64(Exception::StorePageFault) ||
       cause == u64(Exception::InstructionPageFault)) &&
      stval >= layout::KERNEL_HALF)
    reason = "access to a kernel address";
  else if ((cause == u64(Exception::StorePageFault) || cause == u64(Exception::LoadPageFault)) &&
           stval < layout::USER_STACK_TOP - layout::USER_STACK_SIZE &&
           stval >= layout::USER_STACK_TOP - layout::USER_STACK_SIZE - layout::PAGE_SIZE)
    reason = "user stack overflow (guard page)";
  proc::kill_current(reason, cause, stval, tf->epc);
}

}  // namespace

// Traps from user mode other than system calls (the generated entry code dispatches those
// itself through syscall_table): timer interrupts and faults.
extern "C" void user_trap(TrapFrame* tf) {
  u64 cause = CSR_READ(scause);
  if (cause == (riscv::SCAUSE_INTERRUPT | riscv::IRQ_S_SOFT)) {
    // Counted like the timer: a trap whose satp writes (scheme 1) show in the counters.
    if (config::stats) proc::current().counters.interrupts++;
    hart::handle_ipi();  // a fence request (SHOOTDOWN_IPI) or a stale wake-up: no lock needed
    // Or another thread is ending this process (exit, exec, kill): end this thread now.
    if (__atomic_load_n(&proc::current().killed, __ATOMIC_ACQUIRE)) {
      proc::kernel_lock.lock();
      proc::exit_if_killed();
      proc::kernel_lock.unlock();
    }
    return;
  }
  proc::kernel_lock.lock();
  user_interrupt_or_fault(tf, cause);
  proc::kernel_lock.unlock();
}

// Probe instructions that are allowed to fault in the kernel: the fault skips them and sets
// `probe_faulted`. Used to try CSRs the firmware may not grant (the Zkr seed CSR).
extern "C" char seed_probe_insn[];
extern "C" volatile int probe_faulted;
volatile int probe_faulted = 0;

extern "C" void kernel_trap(u64* regs) {
  u64 cause = CSR_READ(scause), stval = CSR_READ(stval);
  u64& sepc = regs[trapgen_abi::KERNELVEC_SEPC_INDEX];
  if (sepc == reinterpret_cast<u64>(seed_probe_insn)) {
    probe_faulted = 1;
    sepc += 4;
    return;
  }
  kprintf("\nkernel trap: %s (scause %lu) at pc %p (link address %p), stval %p\n",
          cause >> 63 ? "interrupt" : fault_name(cause), cause, reinterpret_cast<void*>(sepc),
          reinterpret_cast<void*>(sepc - scheme::slide()), reinterpret_cast<void*>(stval));
  u64 sp = regs[2];
  u64 win = window_va();
  if (sp >= win + layout::KSTACKS && sp < win + layout::MMIO && (sp - win - layout::KSTACKS) % layout::KSTACK_STRIDE < layout::PAGE_SIZE)
    kprintf("the kernel stack overflowed into its guard page\n");
  if (proc::current_index() >= 0)
    kprintf("while serving pid %d (%s)\n", proc::current().pid, proc::current().name);
  backtrace(regs[8]);
  panic("kernel trap");
}
