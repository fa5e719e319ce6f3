// usertests: pipes.
#include "framework.hpp"

namespace {

// Read from fd until EOF (or `max` bytes); returns the byte count, or a negative error.
long read_all(int fd, char* buf, long max) {
  long got = 0;
  for (;;) {
    long r = read(fd, buf + got, max - got);
    if (r <= 0) return r < 0 ? r : got;
    got += r;
    if (got == max) return got;
  }
}

TEST(pipe_basic) {
  long before = mem_mark();
  int fds[2] = {-1, -1};
  EXPECT(pipe(fds), 0);
  CHECK(fds[0] == 3 && fds[1] == 4, "pipe gave fds %d, %d; want the lowest free, 3 and 4", fds[0], fds[1]);
  EXPECT(write(fds[1], "hello", 5), 5);
  char buf[16];
  EXPECT(read(fds[0], buf, sizeof buf), 5);  // what is there, not what was asked for
  CHECK(memcmp(buf, "hello", 5) == 0, "read back %.5s", buf);
  EXPECT(read(fds[1], buf, 1), -EBADF);  // the wrong ends
  EXPECT(write(fds[0], "x", 1), -EBADF);
  EXPECT(read(fds[0], buf, 0), 0);
  EXPECT(read(fds[0], (void*)KADDR, 1), -EFAULT);
  EXPECT(write(fds[1], (void*)KADDR, 1), -EFAULT);
  EXPECT(close(fds[1]), 0);
  EXPECT(read(fds[0], buf, sizeof buf), 0);  // no writer left: EOF
  EXPECT(close(fds[0]), 0);
  EXPECT(close(fds[0]), -EBADF);
  // No reader left: EPIPE, and the writer lives on.
  EXPECT(pipe(fds), 0);
  EXPECT(close(fds[0]), 0);
  EXPECT(write(fds[1], "x", 1), -EPIPE);
  EXPECT(close(fds[1]), 0);
  // Bad arguments.
  EXPECT(pipe((int*)KADDR), -EFAULT);
  EXPECT(pipe(nullptr), -EFAULT);
  EXPECT(pipe((int*)text_addr()), -EFAULT);
  const long bad_fds[] = {-1, FD_MAX, 1000, 1l << 40, 5};
  for (long fd : bad_fds) {
    EXPECT(syscall6(SYS_close, fd, 0, 0, 0, 0, 0), -EBADF);
    EXPECT(syscall6(SYS_read, fd, (long)buf, 1, 0, 0, 0), -EBADF);
    EXPECT(syscall6(SYS_write, fd, (long)buf, 1, 0, 0, 0), -EBADF);
    EXPECT(syscall6(SYS_dup2, fd, 6, 0, 0, 0, 0), -EBADF);
  }
  EXPECT(dup2(1, FD_MAX), -EBADF);
  EXPECT(dup2(1, -1), -EBADF);
  EXPECT(mem_mark(), before);  // every pipe's frame came back
  return true;
}

// A process has FD_MAX descriptors: 0-2 plus (FD_MAX - 3) / 2 pipes, then EMFILE.
TEST(pipe_limits) {
  long before = mem_mark();
  int fds[FD_MAX][2];
  int n = 0;
  long r;
  while ((r = pipe(fds[n])) == 0) n++;
  EXPECT(r, -EMFILE);
  EXPECT(n, (FD_MAX - 3) / 2);
  for (int i = 0; i < n; i++) EXPECT(close(fds[i][0]) | close(fds[i][1]), 0);
  EXPECT(mem_mark(), before);
  return true;
}

// 64 KiB through a 4 KiB pipe to a child: the writer blocks when the pipe is full, the reader
// when it is empty, and the child sees exactly the bytes in order, then EOF.
int pipe_sum_child(long rfd) {
  static char buf[4000];
  long total = 0, sum = 0;
  for (;;) {
    long r = read((int)rfd, buf, sizeof buf);
    if (r < 0) return 2;
    if (r == 0) break;
    for (long i = 0; i < r; i++) sum += (unsigned char)buf[i] ^ ((total + i) & 0xff);
    total += r;
  }
  return total == 65536 && sum == 0 ? 0 : 1;
}

TEST(pipe_fork) {
  static char chunk[1000];
  // Demand paging: make the buffer's page present before the count (else its first touch
  // below is counted as a leak).
  memset(chunk, 0, sizeof chunk);
  long before = mem_mark();
  int fds[2];
  EXPECT(pipe(fds), 0);
  long pid = fork();
  if (pid == 0) {
    close(fds[1]);
    exit(pipe_sum_child(fds[0]));
  }
  CHECK(pid > 0, "fork = %ld", pid);
  EXPECT(close(fds[0]), 0);
  long sent = 0;
  while (sent < 65536) {
    long n = 65536 - sent < 1000 ? 65536 - sent : 1000;
    for (long i = 0; i < n; i++) chunk[i] = (char)((sent + i) & 0xff);
    EXPECT(write(fds[1], chunk, n), n);  // blocking: all of it
    sent += n;
  }
  EXPECT(close(fds[1]), 0);
  int st = -1;
  EXPECT(waitpid(pid, &st, 0), pid);
  EXPECT(st, 0);
  EXPECT(mem_mark(), before);
  return true;
}

// The last reader goes away while a writer is blocked on a full pipe: the writer gets the
// count it managed (a partial write), the next write EPIPE.
TEST(pipe_partial) {
  // Parent and child on one hart: the parent blocks in its write before the child can end
  // (on two harts the child's 20 ms may be over before the parent even writes).
  EXPECT(sched_pin(0), 0);
  int fds[2];
  EXPECT(pipe(fds), 0);
  long pid = fork();
  if (pid == 0) {  // holds the read end for a while, reads nothing, exits
    close(fds[1]);
    sleep_ns(20 * MS);
    exit(0);
  }
  EXPECT(close(fds[0]), 0);
  static char big[2 * PIPE_BUF];
  EXPECT(write(fds[1], big, sizeof big), PIPE_BUF);
  EXPECT(write(fds[1], big, 1), -EPIPE);
  EXPECT(close(fds[1]), 0);
  EXPECT(waitpid(pid, nullptr, 0), pid);
  EXPECT(sched_pin(-1), 0);
  return true;
}

// Descriptors survive fork and exec: a child with its stdout on a pipe runs echo.
TEST(pipe_exec) {
  int fds[2];
  EXPECT(pipe(fds), 0);
  long pid = fork();
  if (pid == 0) {
    if (dup2(fds[1], 1) != 1) exit(3);
    close(fds[0]);
    close(fds[1]);
    const char* args[] = {"echo", "through", "a", "pipe", nullptr};
    exec("echo", args);
    exit(4);
  }
  EXPECT(close(fds[1]), 0);
  char buf[64] = {};
  long n = read_all(fds[0], buf, sizeof buf - 1);
  EXPECT(n, 15);
  CHECK(strcmp(buf, "through a pipe\n") == 0, "read '%s' from echo", buf);
  EXPECT(close(fds[0]), 0);
  int st = -1;
  EXPECT(waitpid(pid, &st, 0), pid);
  EXPECT(st, 0);
  // dup2 onto the same descriptor, and onto the other end of the same pipe.
  EXPECT(pipe(fds), 0);
  EXPECT(dup2(fds[0], fds[0]), fds[0]);
  EXPECT(dup2(fds[0], fds[1]), fds[1]);  // the write end's last descriptor is gone: EOF
  EXPECT(read(fds[0], buf, 1), 0);
  EXPECT(close(fds[0]) | close(fds[1]), 0);
  return true;
}

}  // namespace
