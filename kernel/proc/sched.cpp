// Round-robin scheduling on the SBI timer. There is no scheduler thread: the process giving up
// the CPU picks the next one and switches to it directly, so a switch between two processes is
// one switch (one satp write in schemes 2 and 3). When nothing can run, the idle loop runs on
// the stack of the process that gave up the CPU.
#include "arch/riscv.hpp"
#include "lib/log.hpp"
#include "proc/process.hpp"

namespace {

u64 tick_interval = 0;  // rdtime units per tick

void wake_sleepers(u64 now) {
  for (int i = 0; i < proc::NPROC; i++) {
    Process& p = proc::at(i);
    if (p.state == ProcState::Blocked && p.waiting == WaitReason::Sleep && p.wake_at <= now) sched::wake(p);
  }
}

// The run queue: a FIFO of runnable processes linked through Process::run_next (indices, so
// it means the same in every address space). It holds exactly the Runnable processes.
int run_head = -1, run_tail = -1;

void enqueue(Process& p) {
  p.run_next = -1;
  if (run_tail < 0) run_head = p.index();
  else proc::at(run_tail).run_next = p.index();
  run_tail = p.index();
}

// The next runnable process, round robin; -1 if none.
int pick_next() {
  int i = run_head;
  if (i >= 0) {
    run_head = proc::at(i).run_next;
    if (run_head < 0) run_tail = -1;
  }
  return i;
}

}  // namespace

namespace sched {

void init_timer(u64 timebase_hz) {
  tick_interval = timebase_hz / config::timer_hz;
  sbi::set_timer(riscv::rdtime() + tick_interval);
  CSR_SET(sie, riscv::SIE_STIE);
}

void wake(Process& p) {
  p.state = ProcState::Runnable;
  p.waiting = WaitReason::None;
  enqueue(p);
}

void schedule() {
  Process& me = proc::current();
  int next;
  while ((next = pick_next()) < 0) {
    // Idle: wait for the timer with interrupts masked (wfi still wakes on a pending enabled
    // interrupt), then look again.
    wake_sleepers(riscv::rdtime());
    if ((next = pick_next()) >= 0) break;
    riscv::wfi();
    u64 now = riscv::rdtime();
    sbi::set_timer(now + tick_interval);
    wake_sleepers(now);
  }
  Process& to = proc::at(next);
  if (&to == &me) {
    me.state = ProcState::Running;
    return;
  }
  to.state = ProcState::Running;
  proc::set_current(next);
  fp::switch_out_in(me.fp, to.fp);
  scheme::switch_to(me, to);
  // Back in `me`, switched in by someone else: kill() may have marked it meanwhile.
  if (me.killed && me.state == ProcState::Running) proc::exit_if_killed();
}

void yield() {
  if (run_head < 0) return;  // nobody else wants the CPU
  wake(proc::current());
  schedule();
}

void sleep_until(u64 when) {
  Process& me = proc::current();
  me.wake_at = when;
  me.state = ProcState::Blocked;
  me.waiting = WaitReason::Sleep;
  schedule();
}

long run_queue_violations() {
  // Walk the queue (at most NPROC steps: a longer walk means a cycle), marking each member.
  bool queued[proc::NPROC] = {};
  long bad = 0;
  int steps = 0;
  for (int i = run_head; i >= 0; i = proc::at(i).run_next) {
    if (++steps > proc::NPROC || queued[i]) return bad + 1;  // a cycle or a process queued twice
    queued[i] = true;
    if (proc::at(i).run_next < 0 && run_tail != i) bad++;  // the tail is not the last node
  }
  if ((run_head < 0) != (run_tail < 0)) bad++;
  for (int i = 0; i < proc::NPROC; i++)
    bad += queued[i] != (proc::at(i).state == ProcState::Runnable);
  return bad;
}

void preempt_point() {
  // The kernel runs with interrupts masked: a tick that came due meanwhile is pending in sip.
  if (CSR_READ(sip) & (1ul << riscv::IRQ_S_TIMER)) on_timer_interrupt();
}

void on_timer_interrupt() {
  u64 now = riscv::rdtime();
  sbi::set_timer(now + tick_interval);
  wake_sleepers(now);
  yield();
}

}  // namespace sched
