// Round-robin scheduling on every online hart, under the kernel lock (proc/process.hpp).
//
// There is no scheduler thread: a process giving up its hart picks the next runnable one it
// may run on (Process::pinned) and switches to it directly, so a switch between two processes
// is one switch (one satp write in schemes 2 and 3). When nothing can run, the hart switches to
// its idle context: a fresh stack of its own on the kernel table, never a process's stack (the
// process may be woken and resumed on another hart, or be a zombie whose stack gets reused).
// An idle hart waits with `wfi`, the kernel lock released, and is woken by its timer or by an
// IPI that wake() sends when work appears for it. The kernel lock is held across every switch:
// the thread switched in (or the idle loop) releases it, so no other hart can pick a process
// whose context is still being saved.
#include "arch/riscv.hpp"
#include "lib/log.hpp"
#include "proc/process.hpp"

namespace {

u64 tick_interval = 0;  // rdtime units per tick
volatile u32 scheduler_ready = 0;  // set once the boot hart has the timer: secondaries wait for it

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

bool allowed_here(const Process& p, int hart) { return p.pinned < 0 || p.pinned == hart; }

// The first queued process this hart may run, taken off the queue; -1 if none.
int pick_next() {
  int here = hart::self().logical;
  int prev = -1;
  for (int i = run_head; i >= 0; prev = i, i = proc::at(i).run_next) {
    Process& p = proc::at(i);
    if (!allowed_here(p, here)) continue;
    if (prev < 0) run_head = p.run_next;
    else proc::at(prev).run_next = p.run_next;
    if (run_tail == i) run_tail = prev;
    p.run_next = -1;
    return i;
  }
  return -1;
}

// Wake one idle hart that may run p (an IPI: its wfi returns).
void kick_idle_hart_for(const Process& p) {
  for (int h = 0; h < hart::online(); h++) {
    hart::Hart& other = hart::harts[h];
    if (&other == &hart::self() || !other.idle || !allowed_here(p, h)) continue;
    other.idle = false;  // one IPI per wake-up is enough
    hart::send_ipi(1u << h);
    return;
  }
}

// Put `next` on this hart: it becomes the running process here.
Process& take(int next) {
  Process& to = proc::at(next);
  to.state = ProcState::Running;
  proc::set_current(next);
  return to;
}

// The timer: the next tick, and sleepers whose time has come.
void on_tick(u64 now) {
  sbi::set_timer(now + tick_interval);
  wake_sleepers(now);
}

[[noreturn]] void idle_loop(u64);

}  // namespace

namespace sched {

void init_timer(u64 timebase_hz) {
  tick_interval = timebase_hz / config::timer_hz;
  sbi::set_timer(riscv::rdtime() + tick_interval);
  CSR_SET(sie, riscv::SIE_STIE | riscv::SIE_SSIE);
  __atomic_store_n(&scheduler_ready, 1u, __ATOMIC_RELEASE);
}

void wake(Process& p) {
  p.state = ProcState::Runnable;
  p.waiting = WaitReason::None;
  enqueue(p);
  kick_idle_hart_for(p);
}

void schedule() {
  Process& me = proc::current();
  // A thread marked killed does not block: it ends here instead (kill(), or another thread's
  // exit or exec waiting for it to end, which nobody would otherwise wake it for).
  if (me.killed && me.state == ProcState::Blocked) proc::exit_if_killed();
  locks::check_switch(proc::kernel_lock);
  int next = pick_next();
  if (next < 0) {
    // Nothing to run here: save me and go idle on this hart's own stack.
    fp::switch_out(me.fp);
    hart::self().running = -1;
    scheme::switch_to_idle(me, idle_loop);
  } else if (next == me.index()) {
    me.state = ProcState::Running;
    // Woken and picked again right here: kill() or another thread's exit may have marked it
    // meanwhile (a thread_join or waitpid loop would otherwise block again, waiting for a
    // thread that waits for this one to end).
    if (me.killed) proc::exit_if_killed();
    return;
  } else {
    Process& to = take(next);
    fp::switch_out_in(me.fp, to.fp);
    scheme::switch_to(me, to);
  }
  // Back in `me`, switched in by someone else, maybe on another hart: that hart's sstatus last
  // saw some other trap (or none, on a hart that was idle since boot), so set what the trap exit's
  // sret needs: return to user mode (SPP = 0) with interrupts on (SPIE), SUM off.
  CSR_CLEAR(sstatus, riscv::SSTATUS_SPP | riscv::SSTATUS_SUM);
  CSR_SET(sstatus, riscv::SSTATUS_SPIE);
  // kill() may have marked it meanwhile.
  if (me.killed && me.state == ProcState::Running) proc::exit_if_killed();
}

void yield() {
  if (run_head < 0) return;  // nobody else wants a hart
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
  // Other harts waiting for the kernel lock get their turn too (the ticket lock lets them in
  // before this hart retakes it): a long call does not stall every other hart's kernel entry.
  if (proc::kernel_lock.contended()) {
    proc::kernel_lock.unlock();
    proc::kernel_lock.lock();
  }
}

void on_timer_interrupt() {
  on_tick(riscv::rdtime());
  yield();
}

void pin_current(int hart) {
  Process& me = proc::current();
  me.pinned = hart;
  if (hart >= 0 && hart != hart::self().logical) {
    wake(me);  // queued; only `hart` may pick it
    schedule();
  }
}

void run_idle_first() {
  while (!__atomic_load_n(&scheduler_ready, __ATOMIC_ACQUIRE)) asm volatile("" ::: "memory");
  sbi::set_timer(riscv::rdtime() + tick_interval);
  CSR_SET(sie, riscv::SIE_STIE | riscv::SIE_SSIE);
  proc::kernel_lock.lock();
  idle_loop(0);
}

}  // namespace sched

namespace {

// A hart's idle context: entered with the kernel lock held, on the hart's idle stack, with the
// kernel table loaded. It runs the first process it may, abandoning this stack (the next idle
// period starts it afresh).
void idle_loop(u64) {
  hart::Hart& me = hart::self();
  me.running = -1;
  me.active_asid = 0;
  me.active_root = 0;
  for (;;) {
    hart::handle_ipi();
    u64 now = riscv::rdtime();
    if (CSR_READ(sip) & (1ul << riscv::IRQ_S_TIMER)) on_tick(now);
    int next = pick_next();
    if (next >= 0) {
      Process& to = take(next);
      fp::switch_in(to.fp);
      if (config::stats) to.counters.context_switches++;
      scheme::enter(to);  // resumes `to` where it switched away (or at its fresh start)
    }
    // Wait with the lock released. wake() sees `idle` under the lock and sends an IPI, which
    // stays pending in sip until the wfi (so a wake-up between the unlock and the wfi is not
    // lost: wfi returns at once on a pending enabled interrupt, even with SIE clear).
    me.idle = true;
    proc::kernel_lock.unlock();
    riscv::wfi();
    proc::kernel_lock.lock();
    me.idle = false;
  }
}

}  // namespace
