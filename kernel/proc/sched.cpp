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

// The next runnable process after the current one, round robin; -1 if none.
int pick_next() {
  int start = proc::current_index();
  for (int k = 1; k <= proc::NPROC; k++) {
    int i = (start + k) % proc::NPROC;
    if (proc::at(i).state == ProcState::Runnable) return i;
  }
  return -1;
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
  scheme::switch_to(me, to);
  // Back in `me`, switched in by someone else.
}

void yield() {
  Process& me = proc::current();
  me.state = ProcState::Runnable;
  schedule();
}

void sleep_until(u64 when) {
  Process& me = proc::current();
  me.wake_at = when;
  me.state = ProcState::Blocked;
  me.waiting = WaitReason::Sleep;
  schedule();
}

void on_timer_interrupt() {
  u64 now = riscv::rdtime();
  sbi::set_timer(now + tick_interval);
  wake_sleepers(now);
  yield();
}

}  // namespace sched
