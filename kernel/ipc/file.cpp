#include "ipc/file.hpp"

#include "arch/riscv.hpp"
#include "lib/log.hpp"
#include "mm/frame.hpp"
#include "proc/process.hpp"
#include "mm/usercopy.hpp"

using namespace uapi;

namespace {

constexpr int NPIPE = 2 * config::nproc;
// Console I/O goes through io_buf in chunks of at most IO_CHUNK bytes, never held across a
// switch. The SBI console takes about 11 us of host time per byte under QEMU, so a chunk of
// 256 bytes is about 3 ms, under a third of a 100 Hz tick: the longest a console write keeps
// other processes waiting (docs/design.md, "How long a system call holds the CPU").
constexpr size_t IO_CHUNK = 256;
char io_buf[IO_CHUNK];
u64 timebase_hz_for_poll = 10000000;

// A bounded byte queue in one frame, with the number of descriptors on each end.
struct Pipe {
  PhysPageNum buffer;  // 0: the slot is free
  u32 head = 0;        // next byte to read
  u32 count = 0;       // bytes buffered
  u32 readers = 0, writers = 0;
  bool waited_on = false;  // someone blocked on this pipe since the last wake-up
};
Pipe pipes[NPIPE];

u8* bytes(Pipe& p) { return phys_to_virt<u8>(p.buffer.addr()); }

bool valid_fd(long fd) { return fd >= 0 && fd < FD_MAX; }

// Wake everyone blocked on `pipe` (each rechecks its condition). The process-table scan runs
// only when someone did block, so the common non-blocking read or write pays one test.
void wake_waiters(u16 pipe) {
  if (!pipes[pipe].waited_on) return;
  pipes[pipe].waited_on = false;
  for (int i = 0; i < proc::NPROC; i++) {
    Process& q = proc::at(i);
    if (q.state == ProcState::Blocked && q.waiting == WaitReason::Pipe && q.wait_pipe == pipe) sched::wake(q);
  }
}

// The current process waits until something happens on `pipe`.
void wait_on(u16 pipe) {
  Process& me = proc::current();
  pipes[pipe].waited_on = true;
  me.state = ProcState::Blocked;
  me.waiting = WaitReason::Pipe;
  me.wait_pipe = pipe;
  sched::schedule();
}

void incref(const Fd& f) {
  if (f.kind == FdKind::PipeRead) pipes[f.pipe].readers++;
  if (f.kind == FdKind::PipeWrite) pipes[f.pipe].writers++;
}

void decref(const Fd& f) {
  if (f.kind != FdKind::PipeRead && f.kind != FdKind::PipeWrite) return;
  Pipe& p = pipes[f.pipe];
  (f.kind == FdKind::PipeRead ? p.readers : p.writers)--;
  if (p.readers == 0 && p.writers == 0) {
    frames::free(p.buffer);
    p = Pipe{};
  } else {
    wake_waiters(f.pipe);  // a reader may now see EOF, a writer EPIPE
  }
}

// Copy between the ring and user memory, in at most two pieces (the ring wraps).
Error ring_to_user(Pipe& p, u64 dst, size_t n) {
  AddressSpace& space = proc::current().vm();
  size_t first = min<size_t>(n, PIPE_BUF - p.head);
  Error e = usercopy::copy_out(space, dst, bytes(p) + p.head, first);
  if (e == Error::None && n > first) e = usercopy::copy_out(space, dst + first, bytes(p), n - first);
  return e;
}

Error user_to_ring(Pipe& p, u64 src, size_t n) {
  AddressSpace& space = proc::current().vm();
  u32 tail = (p.head + p.count) % PIPE_BUF;
  size_t first = min<size_t>(n, PIPE_BUF - tail);
  Error e = usercopy::copy_in(space, bytes(p) + tail, src, first);
  if (e == Error::None && n > first) e = usercopy::copy_in(space, bytes(p), src + first, n - first);
  return e;
}

Result<long> pipe_read(u16 index, u64 buf, u64 len) {
  if (len == 0) return 0l;
  if (!proc::current().vm().range_ok(buf, len, PROT_WRITE)) return Error::Fault;
  for (;;) {
    Pipe& p = pipes[index];
    if (p.count > 0) {
      size_t n = min<u64>(len, p.count);
      TRY(ring_to_user(p, buf, n));
      p.head = static_cast<u32>((p.head + n) % PIPE_BUF);
      p.count -= static_cast<u32>(n);
      wake_waiters(index);  // writers waiting for room
      return static_cast<long>(n);
    }
    if (p.writers == 0) return 0l;  // EOF
    wait_on(index);
  }
}

// Blocks until all of `len` is written, unless the last reader goes away first: then the
// bytes written so far, or EPIPE if none were.
Result<long> pipe_write(u16 index, u64 buf, u64 len) {
  if (!proc::current().vm().range_ok(buf, len, PROT_READ)) return Error::Fault;
  u64 done = 0;
  while (done < len) {
    Pipe& p = pipes[index];
    if (p.readers == 0) return done ? Result<long>(static_cast<long>(done)) : Error::BrokenPipe;
    size_t room = PIPE_BUF - p.count;
    if (room == 0) {
      wait_on(index);
      continue;
    }
    size_t n = min<u64>(room, len - done);
    TRY(user_to_ring(p, buf + done, n));
    p.count += static_cast<u32>(n);
    done += n;
    wake_waiters(index);  // readers waiting for data
  }
  return static_cast<long>(done);
}

// Console input. A read returns at most IO_CHUNK bytes, so it never holds the CPU longer than
// one chunk. Bytes the copy-out could not deliver are an error (EFAULT or ENOMEM), never a count.
// Ctrl-C (0x03) is delivered like any other byte: the shell reads it and ends its foreground job.
Result<long> console_read(u64 buf, u64 len) {
  AddressSpace& space = proc::current().vm();
  if (!space.range_ok(buf, len, PROT_WRITE)) return Error::Fault;
  if (len == 0) return 0l;
  size_t want = min<u64>(len, IO_CHUNK);
  // Make the destination present and private before taking bytes from the console: a failure
  // then loses no typed input.
  TRY(space.prepare_kernel_access(buf, want, true));
  for (;;) {
    sbi::Ret r = sbi::console_read(virt_to_phys(io_buf).value, want);
    if (r.error == 0 && r.value > 0) {
      TRY(usercopy::copy_out(space, buf, io_buf, r.value));
      return static_cast<long>(r.value);
    }
    // Nothing typed yet: poll again after a tick.
    sched::sleep_until(riscv::rdtime() + timebase_hz_for_poll / config::timer_hz);
  }
}

// Console output in IO_CHUNK pieces with a preemption point between them: a long write lets
// other processes run at every tick. A failed copy stops the write before its chunk is printed
// (io_buf still holds someone else's bytes): the bytes printed so far, or the error if none.
Result<long> console_write_user(u64 buf, u64 len) {
  AddressSpace& space = proc::current().vm();
  if (!space.range_ok(buf, len, PROT_READ)) return Error::Fault;
  for (u64 done = 0; done < len;) {
    size_t n = min<u64>(len - done, IO_CHUNK);
    if (Error e = usercopy::copy_in(space, io_buf, buf + done, n); e != Error::None)
      return done ? Result<long>(static_cast<long>(done)) : e;
    console_write(io_buf, n);
    done += n;
    // The range was checked once above; munmap by this process cannot run meanwhile (a
    // process runs one system call at a time), so it stays valid across the switch.
    if (done < len) sched::preempt_point();
  }
  return static_cast<long>(len);
}

int free_fd(const FdTable& t, int from) {
  for (int i = from; i < FD_MAX; i++)
    if (t.fd[i].kind == FdKind::Closed) return i;
  return -1;
}

}  // namespace

namespace files {

void set_timebase(u64 hz) { timebase_hz_for_poll = hz; }

void init_console(FdTable& t) {
  t = FdTable{};
  t.fd[0].kind = FdKind::ConsoleIn;
  t.fd[1].kind = t.fd[2].kind = FdKind::ConsoleOut;
}

void copy(const FdTable& from, FdTable& to) {
  to = from;
  for (const Fd& f : to.fd) incref(f);
}

void close_all(FdTable& t) {
  for (Fd& f : t.fd) {
    decref(f);
    f = Fd{};
  }
}

Result<long> pipe(FdTable& t, int* read_fd, int* write_fd) {
  int r = free_fd(t, 0);
  int w = r < 0 ? -1 : free_fd(t, r + 1);
  if (w < 0) return Error::TooManyFiles;
  int slot = -1;
  for (int i = 0; i < NPIPE && slot < 0; i++)
    if (!pipes[i].buffer.value) slot = i;
  if (slot < 0) return Error::TooManyFilesSystem;
  auto frame = frames::alloc_zeroed();
  if (!frame.ok()) return Error::NoMemory;
  pipes[slot] = Pipe{};
  pipes[slot].buffer = frame.value();
  pipes[slot].readers = pipes[slot].writers = 1;
  t.fd[r] = {FdKind::PipeRead, static_cast<u16>(slot)};
  t.fd[w] = {FdKind::PipeWrite, static_cast<u16>(slot)};
  *read_fd = r, *write_fd = w;
  return 0l;
}

Error close(FdTable& t, long fd) {
  if (!valid_fd(fd) || t.fd[fd].kind == FdKind::Closed) return Error::BadFd;
  Fd f = t.fd[fd];
  t.fd[fd] = Fd{};
  decref(f);
  return Error::None;
}

Result<long> dup2(FdTable& t, long old_fd, long new_fd) {
  if (!valid_fd(old_fd) || !valid_fd(new_fd) || t.fd[old_fd].kind == FdKind::Closed) return Error::BadFd;
  if (old_fd == new_fd) return new_fd;
  Fd f = t.fd[old_fd];
  incref(f);  // before the close: new_fd may hold the other end of the same pipe
  if (t.fd[new_fd].kind != FdKind::Closed) (void)close(t, new_fd);  // cannot fail: new_fd is open
  t.fd[new_fd] = f;
  return new_fd;
}

Result<long> read(long fd, u64 buf, u64 len) {
  FdTable& t = proc::current().fds();
  if (!valid_fd(fd)) return Error::BadFd;
  Fd f = t.fd[fd];
  switch (f.kind) {
    case FdKind::ConsoleIn: return console_read(buf, len);
    case FdKind::PipeRead: return pipe_read(f.pipe, buf, len);
    default: return Error::BadFd;
  }
}

Result<long> write(long fd, u64 buf, u64 len) {
  FdTable& t = proc::current().fds();
  if (!valid_fd(fd)) return Error::BadFd;
  Fd f = t.fd[fd];
  switch (f.kind) {
    case FdKind::ConsoleOut: return console_write_user(buf, len);
    case FdKind::PipeWrite: return pipe_write(f.pipe, buf, len);
    default: return Error::BadFd;
  }
}

Result<long> console_poll(u64 buf, u64 len) {
  AddressSpace& space = proc::current().vm();
  if (!space.range_ok(buf, len, PROT_WRITE)) return Error::Fault;
  if (len == 0) return 0l;
  size_t want = min<u64>(len, IO_CHUNK);
  TRY(space.prepare_kernel_access(buf, want, true));
  sbi::Ret r = sbi::console_read(virt_to_phys(io_buf).value, want);
  if (r.error != 0 || r.value <= 0) return 0l;
  TRY(usercopy::copy_out(space, buf, io_buf, r.value));
  return static_cast<long>(r.value);
}

u64 pipes_in_use() {
  u64 n = 0;
  for (const Pipe& p : pipes) n += p.buffer.value != 0;
  return n;
}

}  // namespace files
