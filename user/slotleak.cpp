// slotleak [forks [others]]: does fork's cost reveal where the kernel put a window? (issue 16, bug 8)
//
// First `others` children (default 3) are started and left blocked on a pipe, so that the
// kernel's draw has other live windows to avoid (and to sort). Then, for each of `forks` forks
// (default 16), the parent reads rdinstret just before and just after
// fork() and prints one line
//   @slotleak {"cost":N,"above":0|1,"interrupted":0|1}
// where cost is the instructions retired in between (meaningful under -icount), above says
// whether the child's kernel window (diag DIAG_KERNEL_SLOT, sent back through a pipe) lies above
// the parent's, and interrupted says a timer interrupt landed in the interval (then the cost
// includes the interrupt and says nothing). In scheme 3 the kernel's slot draw must cost the
// same for every outcome, so every uninterrupted cost must be the same.
#include "user.hpp"

using namespace uapi;

static uint64_t interrupts_now() {
  KernelStats s;
  return stats(&s) == 0 ? s.self.interrupts : ~0ull;
}

int main(int argc, char** argv) {
  long forks = argc > 1 ? atol(argv[1]) : 16;
  long others = argc > 2 ? atol(argv[2]) : 3;
  if (forks <= 0 || others < 0) {
    printf("usage: slotleak [forks [others]]   (forks > 0, default 16; others >= 0, default 3)\n");
    return 1;
  }
  unsigned long own = (unsigned long)diag(DIAG_KERNEL_SLOT, 0);
  int hold[2];  // the others block reading hold[0] until the parent closes hold[1]
  if (pipe(hold) != 0) return 1;
  for (long i = 0; i < others; i++) {
    long pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
      close(hold[1]);
      char c;
      read(hold[0], &c, 1);
      exit(0);
    }
  }
  close(hold[0]);
  for (long i = 0; i < forks; i++) {
    int fds[2];
    if (pipe(fds) != 0) return 1;
    uint64_t irq_before = interrupts_now();
    uint64_t before = rdinstret();
    long pid = fork();
    uint64_t after = rdinstret();
    if (pid == 0) {
      unsigned long slot = (unsigned long)diag(DIAG_KERNEL_SLOT, 0);
      write(fds[1], &slot, sizeof slot);
      exit(0);
    }
    if (pid < 0) {
      printf("slotleak: fork %ld failed (%ld)\n", i, pid);
      return 1;
    }
    bool interrupted = interrupts_now() != irq_before;
    unsigned long child = 0;
    if (read(fds[0], &child, sizeof child) != (long)sizeof child) return 1;
    int st = -1;
    if (waitpid(pid, &st, 0) != pid || st != 0) return 1;
    close(fds[0]);
    close(fds[1]);
    printf("@slotleak {\"cost\":%lu,\"above\":%d,\"interrupted\":%d}\n", (unsigned long)(after - before),
           child > own ? 1 : 0, interrupted ? 1 : 0);
  }
  close(hold[1]);
  for (long i = 0; i < others; i++) {
    int st = -1;
    if (waitpid(-1, &st, 0) < 0 || st != 0) return 1;
  }
  return 0;
}
