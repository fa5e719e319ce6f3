// Descriptors: pipes used within one handler, close and dup2 (0-2 stay the console).
#include "fuzz.hpp"

namespace fuzz {

void Fuzzer::f_pipe() {
  int local[2] = {-1, -1};
  long p = rng.chance(3) ? any_ptr() : (long)local;
  long r = call(SYS_pipe, p, junk(), junk());
  if (r != 0) {
    long c = call(SYS_close, 3);  // a failed pipe leaves no descriptor behind
    if (c != -EBADF) oddity("failed pipe left fd 3 open", SYS_pipe, p, 0, 0, c);
    return;
  }
  int fds[2];
  memcpy(fds, (const void*)p, sizeof fds);
  if (fds[0] < 3 || fds[1] < 3 || fds[0] >= NFD || fds[1] >= NFD || fds[0] == fds[1]) {
    oddity("pipe descriptors", SYS_pipe, p, fds[0], fds[1], r);
    return;
  }
  char buf[8];
  // Nothing here can block: the pipe is empty (4 KiB free) when written, holds data when
  // read, and is read after its write end closed only to see EOF.
  switch (rng.below(4)) {
    case 0: {
      long w = call(SYS_write, fds[1], (long)"abc", 3);
      long rd = call(SYS_read, fds[0], (long)buf, sizeof buf);
      if (w != 3 || rd != 3 || memcmp(buf, "abc", 3) != 0)
        oddity("pipe write/read", SYS_read, fds[0], w, rd, rd);
      break;
    }
    case 1: {  // EOF once the writer is gone
      close_quiet(fds[1]);
      long rd = call(SYS_read, fds[0], (long)buf, sizeof buf);
      if (rd != 0) oddity("read at EOF", SYS_read, fds[0], 0, 0, rd);
      fds[1] = -1;
      break;
    }
    case 2: {  // a write with no reader fails
      close_quiet(fds[0]);
      long w = call(SYS_write, fds[1], (long)"abc", 3);
      if (w >= 0) oddity("write without reader", SYS_write, fds[1], 0, 0, w);
      fds[0] = -1;
      break;
    }
    default: {  // hostile buffers on pipe ends
      long q, n;
      any_range(q, n);
      // A good buffer as long as the pipe's free 4 KiB (with the byte below) would wait for
      // a reader for good.
      if (!never_mapped(q) && (uint64_t)n >= (uint64_t)PAGE) n = rng.below(PAGE);
      call(SYS_write, fds[1], q, n);
      // Then at least one byte is there, so the read cannot wait.
      call(SYS_write, fds[1], (long)"z", 1);
      any_range(q, n);
      call(SYS_read, fds[0], q, n);
    }
  }
  if (rng.chance(2)) {  // dup2 a pipe end to a free number, then close it
    long nfd = 3 + rng.below(NFD - 3);
    long end = fds[0] >= 0 ? fds[0] : fds[1];
    if (fds[1] >= 0 && rng.chance(2)) end = fds[1];
    long d = call(SYS_dup2, end, nfd);
    if (d >= 0 && d != fds[0] && d != fds[1]) close_quiet(d);
  }
  if (fds[0] >= 0) close_quiet(fds[0]);
  if (fds[1] >= 0) close_quiet(fds[1]);
}

void Fuzzer::f_close() {
  long fd = other_fd();
  long r = call(SYS_close, fd, junk(), junk());
  if (r != -EBADF) oddity("close of a descriptor that is not open", SYS_close, fd, 0, 0, r);
}

void Fuzzer::f_dup2() {
  long old = rng.chance(2) ? rng.below(3) : other_fd();
  long nfd = other_fd();
  if (console_fd(nfd)) nfd = NFD;
  long r = call(SYS_dup2, old, nfd, junk());
  if (r >= 0) {
    if (r != nfd || !console_fd(old)) oddity("dup2", SYS_dup2, old, nfd, 0, r);
    if (!console_fd(r)) close_quiet(r);
  }
}

}  // namespace fuzz
