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
    p.pid = next_pid++;
    p.parent = -1;
    p.exit_status = 0;
    p.waiting = WaitReason::None;
    p.counters = {};
    p.ctx = {};
    p.fp = {};
    p.files = {};
    p.killed = false;
    TRY(scheme::init_process(p));
    TrapFrame* tf = scheme::trapframe(p);  // may be the last occupant's: reset its counters
    tf->satp_writes = tf->sfence_all = tf->syscalls = 0;
    p.state = ProcState::Blocked;  // not runnable until fully built
    return &p;
  }
  return Error::Again;
}

// Give back everything a dead process still holds. Runs in another process's context.
void reap(Process& p) {
  uapi::Counters c;
  proc::counters_of(p, c);
  add_counters(retired_counters, c);
  p.space.destroy();
  scheme::release_process(p);
  p.state = ProcState::Free;
  p.pid = 0;
}

void set_name(Process& p, const char* name) {
  size_t n = min<size_t>(strlen(name), sizeof p.name - 1);
  memcpy(p.name, name, n);
  p.name[n] = 0;
}

// A forked child's first instructions in the kernel: return 0 from fork.
void fork_child_start(u64) {
  proc::exit_if_killed();  // killed before it first ran
  proc::kernel_lock.unlock();  // taken by the thread that switched here
  scheme::return_to_user_first(proc::current());
}

// After exec switched to the new address space: free the old one, then start the program.
void exec_finish(u64) {
  Process& p = proc::current();
  p.retired_space.destroy();
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
  scheme::trapframe(p)->kernel_tp = reinterpret_cast<u64>(&me) - window_va() + scheme::window_base(p.space);
}


void counters_of(Process& p, uapi::Counters& out) {
  out = p.counters;
  TrapFrame* tf = scheme::trapframe(p);
  out.syscalls += tf->syscalls;
  out.traps = out.syscalls + out.interrupts + out.faults;
  out.satp_writes += tf->satp_writes;
  out.sfence_all += tf->sfence_all;
  out.pt_pages = p.space.pt_pages();
  out.pt_pages_kernel = p.space.pt_pages_kernel();
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
    const AddressSpace* spaces[2] = {&p.space, &p.retired_space};
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
  files::init_console(p->files);
  Error e = p->space.create(*p);
  if (e == Error::None) e = load_program(*p, p->space, argv[0], argv, argc);
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
  Process& parent = current();
  Process* child = TRY(alloc_process());
  Error e = child->space.create(*child);
  if (e == Error::None) e = child->space.copy_user_from(parent.space);
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
  files::copy(parent.files, child->files);
  child->parent = parent.index();
  scheme::prepare_fresh(*child, fork_child_start, 0);
  sched::wake(*child);
  LOG_DEBUG("fork: pid %d -> pid %d\n", parent.pid, child->pid);
  return static_cast<long>(child->pid);
}

Error exec(const char* name, const char* const* argv, int argc) {
  Process& p = current();
  // Build the new address space beside the old one; the old one stays intact on failure.
  AddressSpace& fresh = p.retired_space;
  Error e = fresh.create(p);
  if (e == Error::None) e = load_program(p, fresh, name, argv, argc);
  if (e != Error::None) {
    fresh.destroy();
    return e;
  }
  p.space.swap(fresh);  // p.space is the new one, p.retired_space the old
  set_current(p.index());  // scheme 3: the new space's slot holds p's Hart elsewhere
  set_name(p, name);
  fp::exec_reset(p.fp);
  LOG_DEBUG("exec: pid %d runs %s\n", p.pid, name);
  scheme::prepare_fresh(p, exec_finish, 0);
  scheme::enter(p);
}

void exit(int status) {
  Process& p = current();
  LOG_DEBUG("exit: pid %d (%s) status %d\n", p.pid, p.name, status);
  if (p.index() == INIT) {
    kprintf("init exited with status %d: powering off\n", status);
    power_off(status);
  }
  p.space.release_user();
  files::close_all(p.files);
  bool orphaned_zombie = false;
  for (Process& c : table) {
    if (c.state != ProcState::Free && c.parent == p.index()) {
      c.parent = INIT;
      orphaned_zombie |= c.state == ProcState::Zombie;
    }
  }
  p.exit_status = status;
  p.state = ProcState::Zombie;
  Process& parent = table[p.parent >= 0 ? p.parent : INIT];
  if (parent.state == ProcState::Blocked && parent.waiting == WaitReason::Child) sched::wake(parent);
  Process& init = table[INIT];
  if (orphaned_zombie && init.state == ProcState::Blocked && init.waiting == WaitReason::Child) sched::wake(init);
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
      if (c.state == ProcState::Free || c.parent != me.index()) continue;
      if (pid > 0 && c.pid != pid) continue;
      have_child = true;
      if (c.state != ProcState::Zombie) continue;
      if (user_status) {
        int status = c.exit_status;
        Error e = usercopy::copy_out(me.space, user_status, &status, sizeof status);
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
    if (p.state == ProcState::Free || p.pid != pid) continue;
    // Only descendants: walk up from the target to init, looking for the caller.
    bool descendant = false;
    for (int a = p.parent; a >= 0 && !descendant; a = a == INIT ? -1 : table[a].parent)
      descendant = a == me.index();
    if (!descendant) return Error::Perm;
    if (p.state == ProcState::Zombie) return Error::None;  // already ended: nothing to do
    // The target ends itself the next time it runs in the kernel (it is not running now: only
    // one process runs, the caller): a blocked one is woken for it.
    p.killed = true;
    if (p.state == ProcState::Blocked) sched::wake(p);
    return Error::None;
  }
  return Error::NoProcess;
}

void exit_if_killed() {
  if (current().killed) exit(int(uapi::KILLED_STATUS));
}

}  // namespace proc
