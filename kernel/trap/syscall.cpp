// System calls. Each one validates every argument and answers bad input with an error code:
// nothing a user program passes can make the kernel fault or panic.
#include "arch/riscv.hpp"
#include "lib/log.hpp"
#include "arch/fp.hpp"
#include "lib/time.hpp"
#include "ipc/file.hpp"
#include "mm/asid.hpp"
#include "mm/frame.hpp"
#include "mm/tlb.hpp"
#include "proc/loader.hpp"
#include "trap/syscalls.hpp"
#include "mm/usercopy.hpp"

using namespace uapi;

namespace {

u64 timebase_hz = 10000000;

constexpr size_t ECHO_MAX = 65536;
constexpr int ARGV_MAX = 32;
constexpr size_t ARGV_BYTES = 4096;
constexpr size_t NAME_MAX = 64;

// Kernel buffers. The kernel is not preemptible and these are never held across a switch.
char echo_buf[ECHO_MAX];
char argv_buf[ARGV_BYTES];

AddressSpace& space() { return proc::current().vm(); }

}  // namespace

extern "C" {

long sys_write(long fd, u64 buf, u64 len) { return to_syscall(files::write(fd, buf, len)); }
long sys_read(long fd, u64 buf, u64 len) { return to_syscall(files::read(fd, buf, len)); }

long sys_pipe(u64 user_fds) {
  FdTable& t = proc::current().fds();
  int fds[2];
  auto r = files::pipe(t, &fds[0], &fds[1]);
  if (!r.ok()) return error_code(r.error());
  if (Error e = usercopy::copy_out(space(), user_fds, fds, sizeof fds); e != Error::None) {
    (void)files::close(t, fds[0]);  // cannot fail: both were just opened
    (void)files::close(t, fds[1]);
    return error_code(e);
  }
  return 0;
}

long sys_close(long fd) { return error_code(files::close(proc::current().fds(), fd)); }

long sys_dup2(long old_fd, long new_fd) {
  auto r = files::dup2(proc::current().fds(), old_fd, new_fd);
  return to_syscall(r);
}

long sys_exec(u64 upath, u64 uargv) {
  char name[NAME_MAX];
  auto n = usercopy::string_in(space(), name, upath, sizeof name);
  if (!n.ok()) return error_code(n.error());
  // Gather argv into one kernel buffer: the old address space is gone once the new one runs.
  const char* argv[ARGV_MAX + 1];
  int argc = 0;
  size_t used = 0;
  for (; uargv; argc++) {
    u64 ptr;
    if (usercopy::copy_in(space(), &ptr, uargv + argc * sizeof ptr, sizeof ptr) != Error::None)
      return error_code(Error::Fault);
    if (!ptr) break;
    if (argc == ARGV_MAX) return error_code(Error::TooBig);
    auto len = usercopy::string_in(space(), argv_buf + used, ptr, ARGV_BYTES - used);
    if (!len.ok()) return error_code(len.error() == Error::NameTooLong ? Error::TooBig : len.error());
    argv[argc] = argv_buf + used;
    used += len.value() + 1;
  }
  if (argc == 0) argv[argc++] = name;  // no argv: argv[0] is the program name
  argv[argc] = nullptr;
  return error_code(proc::exec(name, argv, argc));  // returns only on failure
}

long sys_mmap(u64 addr, u64 len, long prot) {
  if (addr & (layout::PAGE_SIZE - 1) || len == 0) return error_code(Error::Invalid);
  if (prot & ~long(PROT_READ | PROT_WRITE | PROT_EXEC) || prot == 0) return error_code(Error::Invalid);
  if ((prot & PROT_WRITE) && !(prot & PROT_READ)) return error_code(Error::Invalid);
  if (len > layout::USER_TOP) return error_code(Error::NoMemory);
  len = align_up(len, layout::PAGE_SIZE);
  // Eager population: refuse up front what free memory cannot back (demand paging allocates
  // at the first touch instead, and an unbacked touch kills the toucher).
  if (!config::memory_demand && len / layout::PAGE_SIZE > frames::free_count()) return error_code(Error::NoMemory);
  if (addr == 0) {
    addr = space().find_free(len);
    if (!addr) return error_code(Error::NoMemory);
  } else if (addr < layout::USER_BASE || addr + len > layout::USER_TOP || addr + len < addr) {
    return error_code(Error::Invalid);
  }
  Error e = space().map_anonymous(addr, addr + len, static_cast<u8>(prot), AreaKind::Mmap);
  return e == Error::None ? static_cast<long>(addr) : error_code(e);
}

long sys_munmap(u64 addr, u64 len) {
  if (addr & (layout::PAGE_SIZE - 1) || len == 0) return error_code(Error::Invalid);
  // Written so that nothing wraps: addr + len is never computed past USER_TOP.
  if (addr >= layout::USER_TOP || len > layout::USER_TOP - addr) return error_code(Error::Invalid);
  Error e = space().unmap_range(addr, addr + align_up(len, layout::PAGE_SIZE));
  return e == Error::None ? 0 : error_code(e);
}

long sys_stats(u64 out) {
  Process& p = proc::current();
  KernelStats s{};
  proc::counters_of(p, s.self);
  proc::global_counters(s.global);

  s.frames_free = frames::free_count();
  s.frames_total = frames::total_count();
  s.heap_bytes_used = heap::bytes_in_use();
  s.heap_pages = heap::pages_held();
  s.scheme = scheme::number;
  s.asid_enabled = asid::enabled();
  s.asid_bits = asid::bits();
  s.asid_generation = asid::generation();
  s.asid_rollovers = asid::rollovers();
  s.fp_saves = fp::saves();
  s.fp_restores = fp::restores();
  s.memory_demand = config::memory_demand;
  s.fork_cow = config::fork_cow;
  s.timer_hz = config::timer_hz;
  s.timebase_hz = timebase_hz;
  s.harts_online = static_cast<u64>(hart::online());
  for (int i = 0; i < hart::online(); i++) {
    const hart::Hart& h = hart::harts[i];
    s.remote_fences_sent += h.remote_fences_sent;
    s.ipis_sent += h.ipis_sent;
    s.tlb_shootdowns += h.tlb_shootdowns;
  }
  return error_code(usercopy::copy_out(p.vm(), out, &s, sizeof s));
}

long sys_programs(u64 buf, u64 len) {
  size_t total = list_programs(nullptr, 0);
  size_t n = min<u64>(len, total);
  if (!space().range_ok(buf, n, PROT_WRITE)) return error_code(Error::Fault);
  if (n > sizeof echo_buf) return error_code(Error::Invalid);
  list_programs(echo_buf, n);
  // With demand paging the copy may find no frame for the destination: ENOMEM, not success.
  if (Error e = usercopy::copy_out(space(), buf, echo_buf, n); e != Error::None) return error_code(e);
  return static_cast<long>(total);
}

long sys_bench_echo(u64 in, u64 out, u64 len) {
  if (len > ECHO_MAX) return error_code(Error::Invalid);
  if (Error e = usercopy::copy_in(space(), echo_buf, in, len); e != Error::None) return error_code(e);
  if (Error e = usercopy::copy_out(space(), out, echo_buf, len); e != Error::None) return error_code(e);
  return static_cast<long>(len);
}

long sys_diag(long op, u64 arg) {
  if (!config::diag) return error_code(Error::NoSys);  // the hardened build: no layout oracle
  AddressSpace& s = space();
  switch (op) {
    case DIAG_KERNEL_SLOT:
      return static_cast<long>(scheme::window_base(s));
    case DIAG_KERNEL_ADDR:
      // Kernel data read on every system call (this hart's index of the running process), at the VA
      // this address space maps it: a kernel address the TLB is likely to hold.
      return static_cast<long>(scheme::window_base(s) +
                               (virt_to_phys(&hart::self().running).value - layout::RAM_BASE));
    case DIAG_IS_KERNEL_MAPPED: {
      // A non-canonical address (bits 63..39 not all equal to bit 38) is mapped nowhere.
      u64 top = arg >> 38;
      if (top != 0 && top != (~0ull >> 38)) return 0;
      PhysAddr pa;
      PteFlags flags;
      if (!s.table().translate(VirtAddr(arg), &pa, &flags)) return 0;
      return any(flags & PteFlags::U) ? 0 : 1;
    }
    case DIAG_SLOT_ENTROPY_MILLIBITS:
      return static_cast<long>(scheme::slot_entropy_millibits());
    case DIAG_PT_PAGES:
      return static_cast<long>(s.pt_pages());
    case DIAG_ASID_CHECK:
      return proc::asid_invariant_violations();
    case DIAG_RUNQ_CHECK:
      return sched::run_queue_violations();
    case DIAG_PRIVATE_GLOBALS:
      return static_cast<long>(scheme::private_global_entries(s));
    default:
      return error_code(Error::Invalid);
  }
}

long sys_getppid() {
  int parent = proc::current().leader().parent;
  return parent >= 0 ? proc::at(parent).pid : 0;
}

long sys_yield() {
  sched::yield();
  return 0;
}

long sys_sleep(long ns) {
  if (ns < 0) return error_code(Error::Invalid);
  // ns * timebase_hz would overflow 64 bits from about 30 minutes on: convert whole seconds and
  // the rest separately (both products fit for any timebase below 1 GHz). A wake-up time past
  // the end of the timer's range saturates (the process sleeps "forever", in ticks).
  constexpr u64 NS = 1000000000;
  u64 un = static_cast<u64>(ns);
  u64 ticks = un / NS * timebase_hz + ((un % NS) * timebase_hz + NS - 1) / NS;
  u64 now = riscv::rdtime();
  u64 when = ticks > ~0ull - now ? ~0ull : now + ticks;
  sched::sleep_until(when);
  return 0;
}

long sys_sbrk(long increment) {
  // Like mmap: refuse up front what free memory cannot back, instead of taking every frame.
  if (!config::memory_demand && increment > 0 && static_cast<u64>(increment) / layout::PAGE_SIZE > frames::free_count())
    return error_code(Error::NoMemory);
  auto r = space().grow_break(increment);
  return r.ok() ? static_cast<long>(r.value()) : error_code(r.error());
}

long sys_getpid() { return proc::current().pid; }
long sys_exit(long status) { proc::exit(static_cast<int>(status)); }
long sys_fork() { return to_syscall(proc::fork()); }
long sys_waitpid(long pid, u64 status, long options) { return to_syscall(proc::waitpid(pid, status, options)); }
long sys_kill(long pid) { return to_syscall(proc::kill(pid)); }
long sys_console_poll(u64 buf, u64 len) { return to_syscall(files::console_poll(buf, len)); }
long sys_get_time() { return static_cast<long>(ticks_to_ns(riscv::rdtime(), timebase_hz)); }
long sys_nosys() { return error_code(Error::NoSys); }
long sys_thread_create(u64 fn, u64 arg, u64 stack_top) { return to_syscall(proc::thread_create(fn, arg, stack_top)); }
long sys_thread_exit(long status) { proc::thread_exit(static_cast<int>(status)); }
long sys_thread_join(long tid) { return to_syscall(proc::thread_join(tid)); }
long sys_sched_pin(long h) {
  if (h < -1 || h >= hart::online()) return error_code(Error::Invalid);
  sched::pin_current(static_cast<int>(h));
  return 0;
}
long sys_current_hart() { return hart::self().logical; }

}  // extern "C"

// The system-call table, in number order, read by the generated trap entry (trap.S): entry n
// holds the offset of its handler from the table, so the table has no absolute addresses.
// Every call runs under the kernel lock (proc/process.hpp) except the lock-free ones, which
// read only the caller's own state or the clock: getpid (the null call), current_hart, get_time.
#define SYSCALLS(X)                                                                            \
  X(read, L) X(write, L) X(exit, L) X(yield, L) X(getpid, F) X(getppid, L) X(fork, L) X(exec, L)     \
  X(waitpid, L) X(get_time, F) X(sleep, L) X(mmap, L) X(munmap, L) X(sbrk, L) X(stats, L)            \
  X(programs, L) X(bench_echo, L) X(diag, L) X(pipe, L) X(close, L) X(dup2, L) X(kill, L)            \
  X(console_poll, L) X(thread_create, L) X(thread_exit, L) X(thread_join, L) X(sched_pin, L)         \
  X(current_hart, F)

namespace {
template <typename R, typename... A>
constexpr int arity(R (*)(A...)) { return sizeof...(A); }

// Run handler F under the kernel lock. A handler that does not return (exit) hands the lock to
// the thread it switches to, like every switch does.
template <auto F>
inline long call_locked(long a0, long a1, long a2) {
  proc::kernel_lock.lock();
  long r;
  if constexpr (arity(F) == 0) r = F();
  else if constexpr (arity(F) == 1) r = F(a0);
  else if constexpr (arity(F) == 2) r = F(a0, a1);
  else r = F(a0, a1, a2);
  proc::kernel_lock.unlock();
  return r;
}
}  // namespace

// L: ksys_<name> takes the lock around sys_<name>; F: the table points at sys_<name> itself.
#define WRAP_L(name) extern "C" long ksys_##name(long a0, long a1, long a2) { return call_locked<sys_##name>(a0, a1, a2); }
#define WRAP_F(name)
#define WRAP(name, kind) WRAP_##kind(name)
SYSCALLS(WRAP)
#undef WRAP

namespace {
constexpr long numbers_in_table_order[] = {
#define NUMBER(name, kind) SYS_##name,
    SYSCALLS(NUMBER)
#undef NUMBER
};
constexpr bool table_is_in_number_order() {
  for (long i = 0; i < long(sizeof numbers_in_table_order / sizeof(long)); i++)
    if (numbers_in_table_order[i] != i + 1) return false;
  return sizeof numbers_in_table_order / sizeof(long) + 1 == SYS_COUNT;
}
static_assert(table_is_in_number_order(), "SYSCALLS must list the calls in the order of their numbers");
}  // namespace

#define HANDLER_L "ksys_"
#define HANDLER_F "sys_"
#define ENTRY(name, kind) "    .word " HANDLER_##kind #name " - syscall_table\n"
asm(R"(
    .section .rodata
    .balign 4
    .globl syscall_table
syscall_table:
    .word sys_nosys - syscall_table
)" SYSCALLS(ENTRY) R"(
    .text
)");
#undef ENTRY

void syscalls_init(u64 hz) {
  timebase_hz = hz;
  files::set_timebase(hz);
}
