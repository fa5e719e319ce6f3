// The process table and the process life cycle.
#include "proc/process.hpp"

#include "arch/riscv.hpp"
#include "lib/log.hpp"
#include "mm/tlb.hpp"
#include "proc/loader.hpp"
#include "mm/usercopy.hpp"

namespace proc {
Process table[NPROC];
SpinLock kernel_lock("kernel", LockRank::Kernel, /*crosses_switch=*/true);
}  // namespace proc

using proc::table;

namespace {

int next_pid = 1;
uapi::Counters boot_counters;     // events before the first process
uapi::Counters retired_counters;  // processes already reaped
constexpr int INIT = 0;           // init is always slot 0

void add_counters(uapi::Counters& sum, const uapi::Counters& c) {
  sum.traps += c.syscalls + c.interrupts + c.faults;
  sum.syscalls += c.syscalls;
  sum.interrupts += c.interrupts;
  sum.faults += c.faults;
  sum.satp_writes += c.satp_writes;
  sum.sfence_all += c.sfence_all;
  sum.sfence_asid += c.sfence_asid;
  sum.sfence_addr += c.sfence_addr;
  sum.context_switches += c.context_switches;
  sum.page_faults += c.page_faults;
  sum.cow_faults += c.cow_faults;
}

// A free process slot, set up; Again when the table is full, or the scheme's error (NoMemory).
Result<Process*> alloc_process() {
  for (int i = 0; i < proc::NPROC; i++) {
    Process& p = table[i];
    if (p.state != ProcState::Free) continue;
    p.pid = p.tid = next_pid++;
    p.group = i;  // a process of its own until thread_create says otherwise
    p.exiter = -1;
    p.joined = false;
    p.pinned = -1;
    p.parent = -1;
    p.exit_status = 0;
    p.waiting = WaitReason::None;
    p.counters = {};
    p.ctx = {};
    p.fp = {};
    p.owned_files = {};
    p.killed = false;
    TRY(scheme::init_process(p));
    TrapFrame* tf = scheme::trapframe(p);  // may be the last occupant's: reset its counters
    tf->satp_writes = tf->sfence_all = tf->syscalls = 0;
    p.state = ProcState::Blocked;  // not runnable until fully built
    return &p;
  }
  return Error::Again;
}

void retire_counters(Process& p) {
  uapi::Counters c;
  proc::counters_of(p, c);
  add_counters(retired_counters, c);
}

// Free the slot of a thread that ended, while its process lives on: its trap frame leaves the
// process's table (scheme 1 maps it there) before the scheme frees it.
void release_thread_slot(Process& t) {
  retire_counters(t);
  scheme::detach_thread(t, t.vm());
  scheme::release_process(t);
  t.state = ProcState::Free;
  t.pid = t.tid = 0;
}

// Give back everything a dead process still holds: its space (fenced everywhere it may be
// cached), then every slot of its threads. Runs in another process's context.
void reap(Process& p) {
  p.owned_space.destroy();
  for (Process& t : table) {
    if (&t == &p || t.state == ProcState::Free || t.group != p.index()) continue;
    retire_counters(t);
    scheme::release_process(t);
    t.state = ProcState::Free;
    t.pid = t.tid = 0;
  }
  retire_counters(p);
  scheme::release_process(p);
  p.state = ProcState::Free;
  p.pid = p.tid = 0;
}

// Is t a thread of the process whose leader slot is `leader`, still running its code?
bool live_thread_of(const Process& t, int leader) {
  return t.group == leader && t.state != ProcState::Free && t.state != ProcState::Exited &&
         t.state != ProcState::Zombie;
}

// The current thread ends, its process living on: its slot waits for thread_join. Whoever
// waits for threads of this process (thread_join, an exit or exec ending the others) is woken.
[[noreturn]] void end_thread(Process& me, int status) {
  me.exit_status = status;
  me.state = ProcState::Exited;
  for (Process& t : table)
    if (t.group == me.group && t.state == ProcState::Blocked &&
        (t.waiting == WaitReason::Join || t.waiting == WaitReason::Threads))
      sched::wake(t);
  sched::schedule();
  panic("an exited thread was scheduled");
}

// The current thread ends every other thread of its process (exit, exec) and waits until they
// have: each one ends itself where it next runs in the kernel (a blocked one is woken for
// it, one running in user mode on another hart is sent an IPI, or meets its next tick).
void end_other_threads(Process& me) {
  Process& leader = me.leader();
  leader.exiter = me.index();
  for (;;) {
    bool others = false;
    u32 running_elsewhere = 0;
    for (Process& t : table) {
      if (&t == &me || !live_thread_of(t, me.group)) continue;
      others = true;
      t.killed = true;
      if (t.state == ProcState::Blocked && t.waiting != WaitReason::Threads) sched::wake(t);
      for (int h = 0; h < hart::online(); h++)
        if (hart::harts[h].running == t.index()) running_elsewhere |= 1u << h;
    }
    if (!others) break;
    hart::send_ipi(running_elsewhere);
    me.state = ProcState::Blocked;
    me.waiting = WaitReason::Threads;
    sched::schedule();
  }
  leader.exiter = -1;
}

// Wake the threads of process `leader` that wait for a child (any of them may be in waitpid).
void wake_waiting_for_child(int leader) {
  for (Process& t : table)
    if (t.group == leader && t.state == ProcState::Blocked && t.waiting == WaitReason::Child) sched::wake(t);
}

// Free the slots of the threads that ended (after end_other_threads, before exec).
void release_exited_threads(Process& me) {
  for (Process& t : table)
    if (&t != &me && &t != &me.leader() && t.group == me.group && t.state == ProcState::Exited)
      release_thread_slot(t);
}

void set_name(Process& p, const char* name) {
  size_t n = min<size_t>(strlen(name), sizeof p.name - 1);
  memcpy(p.name, name, n);
  p.name[n] = 0;
}

// A forked child's (or a new thread's) first instructions in the kernel: return to user mode
// with the registers its trap frame was given.
void fork_child_start(u64) {
  proc::exit_if_killed();  // killed before it first ran
  proc::kernel_lock.unlock();  // taken by the thread that switched here
  scheme::return_to_user_first(proc::current());
}

// After exec switched to the new address space: free the old one, then start the program.
void exec_finish(u64) {
  Process& p = proc::current();
  p.leader().retired_space.destroy();
  proc::exit_if_killed();
  proc::kernel_lock.unlock();  // taken by sys_exec
  scheme::return_to_user_first(p);
}

void init_start(u64) {
  proc::kernel_lock.unlock();  // taken by kmain
  scheme::return_to_user_first(proc::current());
}

}  // namespace

int Process::index() const { return static_cast<int>(this - table); }

// The hook lib/counters.hpp declares: mm/ charges events here without seeing processes.
uapi::Counters& stats::counters_now() {
  int running = hart::self().running;
  return running >= 0 ? proc::table[running].counters : boot_counters;
}

namespace proc {

void set_current(int index) {
  hart::Hart& me = hart::self();
  me.running = index;
  Process& p = table[index];
  // The Hart as p's window sees it (scheme 3: p's slot; KASLR_BOOT: the boot slot).
  scheme::trapframe(p)->kernel_tp = reinterpret_cast<u64>(&me) - window_va() + scheme::window_base(p.vm());
}


void counters_of(Process& p, uapi::Counters& out) {
  out = p.counters;
  TrapFrame* tf = scheme::trapframe(p);
  out.syscalls += tf->syscalls;
  out.traps = out.syscalls + out.interrupts + out.faults;
  out.satp_writes += tf->satp_writes;
  out.sfence_all += tf->sfence_all;
  // The table's pages are the process's: counted once, in its leader slot.
  bool leader = p.group == p.index();
  out.pt_pages = leader ? p.owned_space.pt_pages() : 0;
  out.pt_pages_kernel = leader ? p.owned_space.pt_pages_kernel() : 0;
}

void global_counters(uapi::Counters& out) {
  out = retired_counters;
  add_counters(out, boot_counters);
  for (Process& p : table) {
    if (p.state == ProcState::Free) continue;
    uapi::Counters c;
    counters_of(p, c);
    add_counters(out, c);
    out.pt_pages += c.pt_pages;
    out.pt_pages_kernel += c.pt_pages_kernel;
  }
}

long asid_invariant_violations() {
  long bad = 0;
  const asid::Tag* held[2 * NPROC];
  int n = 0;
  for (Process& p : table) {
    if (p.state == ProcState::Free) continue;
    const AddressSpace* spaces[2] = {&p.owned_space, &p.retired_space};
    for (const AddressSpace* s : spaces) {
      if (!s->live() || !asid::holds(s->asid_tag())) continue;
      const asid::Tag& t = s->asid_tag();
      if (!asid::marked_held(t.value)) bad++;
      for (int i = 0; i < n; i++)
        if (held[i]->value == t.value) bad++;
      held[n++] = &t;
    }
  }
  return bad;
}

void start_init(const char* const* argv, int argc) {
  kernel_lock.lock();
  auto slot = alloc_process();
  if (!slot.ok()) panic("cannot allocate the init process");
  Process* p = slot.value();
  set_name(*p, argv[0]);
  files::init_console(p->fds());
  Error e = p->vm().create(*p);
  if (e == Error::None) e = load_program(*p, p->vm(), argv[0], argv, argc);
  if (e != Error::None) {
    kprintf("init: cannot start '%s': %s\n", argv[0],
            e == Error::NoEntry ? "no such program (try init=sh, then 'ls')" : "error loading it");
    power_off(127);
  }
  p->state = ProcState::Running;
  set_current(p->index());
  if (config::stats) p->counters.context_switches++;
  scheme::prepare_fresh(*p, init_start, 0);
  scheme::enter(*p);
}

Result<long> fork() {
  Process& parent = current();  // the calling thread: the only one the child gets
  Process* child = TRY(alloc_process());
  Error e = child->vm().create(*child);
  if (e == Error::None) e = child->vm().copy_user_from(parent.vm());
  if (e != Error::None) {
    reap(*child);
    return e;
  }
  memcpy(child->name, parent.name, sizeof child->name);
  TrapFrame* ctf = scheme::trapframe(*child);
  TrapFrame* ptf = scheme::trapframe(parent);
  memcpy(ctf->x, ptf->x, sizeof ctf->x);
  ctf->epc = ptf->epc;
  ctf->x[10] = 0;  // fork returns 0 in the child
  fp::fork_copy(parent.fp, child->fp);
  files::copy(parent.fds(), child->fds());
  child->parent = parent.group;
  child->pinned = parent.pinned;  // affinity is inherited, as in Linux
  scheme::prepare_fresh(*child, fork_child_start, 0);
  sched::wake(*child);
  LOG_DEBUG("fork: pid %d -> pid %d\n", parent.pid, child->pid);
  return static_cast<long>(child->pid);
}

Error exec(const char* name, const char* const* argv, int argc) {
  Process& p = current();
  // A program runs alone in its new image: the other threads end first.
  if (p.leader().exiter >= 0) end_thread(p, 0);  // another thread is ending this one
  end_other_threads(p);
  release_exited_threads(p);
  // Build the new address space beside the old one; the old one stays intact on failure.
  AddressSpace& fresh = p.leader().retired_space;
  Error e = fresh.create(p);
  if (e == Error::None) e = load_program(p, fresh, name, argv, argc);
  if (e != Error::None) {
    fresh.destroy();
    return e;
  }
  p.vm().swap(fresh);  // vm() is the new one, retired_space the old
  set_current(p.index());  // scheme 3: the new space's slot holds p's Hart elsewhere
  set_name(p, name);
  fp::exec_reset(p.fp);
  LOG_DEBUG("exec: pid %d runs %s\n", p.pid, name);
  scheme::prepare_fresh(p, exec_finish, 0);
  scheme::enter(p);
}

void exit(int status) {
  Process& me = current();
  // Another thread is ending this process (or exec'ing): this thread just ends.
  if (me.leader().exiter >= 0 && me.leader().exiter != me.index()) end_thread(me, status);
  LOG_DEBUG("exit: pid %d (%s) status %d\n", me.pid, me.name, status);
  if (me.group == INIT) {
    kprintf("init exited with status %d: powering off\n", status);
    power_off(status);
  }
  end_other_threads(me);
  // The process ends in its leader slot (what the parent waits for); this thread's own slot,
  // if another, is freed with it at reap.
  Process& p = me.leader();
  if (&me != &p) me.state = ProcState::Exited;
  p.owned_space.release_user();
  files::close_all(p.owned_files);
  bool orphaned_zombie = false;
  for (Process& c : table) {
    if (c.state != ProcState::Free && c.group == c.index() && c.parent == p.index()) {
      c.parent = INIT;
      orphaned_zombie |= c.state == ProcState::Zombie;
    }
  }
  p.exit_status = status;
  p.state = ProcState::Zombie;
  wake_waiting_for_child(p.parent >= 0 ? p.parent : INIT);
  if (orphaned_zombie) wake_waiting_for_child(INIT);
  sched::schedule();
  panic("a zombie was scheduled");
}

void kill_current(const char* reason, u64 scause, u64 stval, u64 sepc) {
  Process& p = current();
  kprintf("killed pid %d (%s): %s (scause %lu, stval %p, pc %p)\n", p.pid, p.name, reason, scause,
          reinterpret_cast<void*>(stval), reinterpret_cast<void*>(sepc));
  exit(-1);
}

Result<long> waitpid(long pid, u64 user_status, long options) {
  if (options & ~long(uapi::WNOHANG) || pid == 0 || pid < -1) return Error::Invalid;
  Process& me = current();
  for (;;) {
    bool have_child = false;
    for (Process& c : table) {
      if (c.state == ProcState::Free || c.group != c.index() || c.parent != me.group) continue;
      if (pid > 0 && c.pid != pid) continue;
      have_child = true;
      if (c.state != ProcState::Zombie) continue;
      if (user_status) {
        int status = c.exit_status;
        Error e = usercopy::copy_out(me.vm(), user_status, &status, sizeof status);
        if (e != Error::None) return e;  // the child stays unreaped
      }
      long child_pid = c.pid;
      reap(c);
      return child_pid;
    }
    if (!have_child) return Error::NoChild;
    if (options & uapi::WNOHANG) return 0l;
    me.state = ProcState::Blocked;
    me.waiting = WaitReason::Child;
    sched::schedule();
  }
}

Error kill(long pid) {
  Process& me = current();
  for (Process& p : table) {
    if (p.state == ProcState::Free || p.group != p.index() || p.pid != pid) continue;
    // Only descendants: walk up from the target to init, looking for the caller.
    bool descendant = false;
    for (int a = p.parent; a >= 0 && !descendant; a = a == INIT ? -1 : table[a].parent)
      descendant = a == me.group;
    if (!descendant) return Error::Perm;
    if (p.state == ProcState::Zombie) return Error::None;  // already ended: nothing to do
    // The target's threads end the process the next time one of them runs in the kernel: a
    // blocked one is woken for it, one in user mode on another hart is sent an IPI.
    u32 running_elsewhere = 0;
    for (Process& t : table) {
      if (!live_thread_of(t, p.index())) continue;
      t.killed = true;
      if (t.state == ProcState::Blocked) sched::wake(t);
      for (int h = 0; h < hart::online(); h++)
        if (hart::harts[h].running == t.index()) running_elsewhere |= 1u << h;
    }
    hart::send_ipi(running_elsewhere);
    return Error::None;
  }
  return Error::NoProcess;
}

void exit_if_killed() {
  Process& me = current();
  // The thread ending the others is not ended by the marks it set.
  if (me.killed && me.leader().exiter != me.index()) exit(int(uapi::KILLED_STATUS));
}

Result<long> thread_create(u64 fn, u64 arg, u64 stack_top) {
  Process& me = current();
  AddressSpace& space = me.vm();
  if (stack_top % 16) return Error::Invalid;
  // The stack's top word and the first instruction must be the process's own memory.
  if (stack_top < 16 || !space.range_ok(stack_top - 16, 16, uapi::PROT_READ | uapi::PROT_WRITE) ||
      !space.range_ok(fn, 4, uapi::PROT_EXEC))
    return Error::Fault;
  Process* t = TRY(alloc_process());
  t->pid = me.pid;
  t->group = me.group;
  t->pinned = me.pinned;
  if (Error e = scheme::attach_thread(*t, space); e != Error::None) {
    t->state = ProcState::Exited;
    release_thread_slot(*t);
    return e;
  }
  memcpy(t->name, me.name, sizeof t->name);
  TrapFrame* tf = scheme::trapframe(*t);
  memset(tf->x, 0, sizeof tf->x);
  tf->x[2] = stack_top;  // sp
  tf->x[3] = scheme::trapframe(me)->x[3];  // gp: the program's, like every thread's
  tf->x[10] = arg;       // a0
  tf->epc = fn;
  scheme::prepare_fresh(*t, fork_child_start, 0);
  sched::wake(*t);
  return static_cast<long>(t->tid);
}

void thread_exit(int status) {
  Process& me = current();
  bool others = false;
  for (Process& t : table) others |= &t != &me && live_thread_of(t, me.group);
  if (!others || me.leader().exiter >= 0) exit(status);  // the last thread ends the process
  end_thread(me, status);
}

Result<long> thread_join(long tid) {
  Process& me = current();
  if (tid == me.tid) return Error::Invalid;
  for (;;) {
    Process* found = nullptr;
    for (Process& t : table)
      if (t.state != ProcState::Free && t.group == me.group && t.tid == tid && !t.joined) found = &t;
    if (!found) return Error::NoProcess;
    if (found->state == ProcState::Exited) {
      long status = found->exit_status;
      // The leader slot holds the process's space and files: it stays, marked joined.
      if (found == &me.leader()) found->joined = true;
      else release_thread_slot(*found);
      return status;
    }
    me.state = ProcState::Blocked;
    me.waiting = WaitReason::Join;
    sched::schedule();
  }
}

}  // namespace proc
