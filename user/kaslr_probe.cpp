// kaslr_probe [count]: where does each process see the kernel?
//
// Builds a chain of `count` processes (default 64), each the child of the one before, so that
// all of them are alive at once: each prints one line
//   @slot 0x<hex>
// with diag(DIAG_KERNEL_SLOT), the VA at which its page table maps the kernel window, then
// forks the next one and waits for it. The harness counts the distinct values: one in schemes 1
// and 2; in scheme 3 every live process has its own slot (the kernel never lets two live windows
// overlap), so all `count` differ. The first process's own slot is printed on a line without
// the @slot tag, so that there is exactly one @slot line per child. The kernel's slot entropy
// goes on an `@kaslr {"entropy_bits":x}` line.
//
// kaslr_probe count seq: `count` children one after another instead (each prints its @slot
// and exits before the next is forked), so that each slot is an independent draw: the sample
// an entropy estimate needs, and one that does not need `count` live processes in memory.
// The harness's declaration (harness/benchspec.py): how many processes its runs ask for.
//! [kaslr_probe]
//! processes = 4096
#include "user.hpp"

using namespace uapi;

int main(int argc, char** argv) {
  long count = 64;
  if (argc > 1) {
    count = atol(argv[1]);
    if (count <= 0) {
      printf("usage: kaslr_probe [count [seq]]   (count > 0, default 64)\n");
      return 1;
    }
  }
  bool sequential = argc > 2 && strcmp(argv[2], "seq") == 0;

  printf("kaslr_probe: parent pid %ld, kernel slot 0x%lx\n", getpid(),
         (unsigned long)diag(DIAG_KERNEL_SLOT, 0));
  long millibits = diag(DIAG_SLOT_ENTROPY_MILLIBITS, 0);
  if (millibits >= 0) printf("@kaslr {\"entropy_bits\":%ld.%03ld}\n", millibits / 1000, millibits % 1000);

  if (sequential) {
    for (long i = 0; i < count; i++) {
      long pid = fork();
      if (pid < 0) {
        printf("kaslr_probe: fork %ld failed (%ld)\n", i, pid);
        return 1;
      }
      if (pid == 0) {
        printf("@slot 0x%lx\n", (unsigned long)diag(DIAG_KERNEL_SLOT, 0));
        exit(0);
      }
      int st = -1;
      if (waitpid(pid, &st, 0) != pid || st != 0) return 1;
    }
    return 0;
  }

  // Each link of the chain: fork the next, wait for it, pass its status up.
  for (long depth = 0; depth < count; depth++) {
    long pid = fork();
    if (pid < 0) {
      printf("kaslr_probe: fork at depth %ld failed (%ld)\n", depth, pid);
      return 1;
    }
    if (pid > 0) {
      int st = -1;
      if (waitpid(pid, &st, 0) != pid) return 1;
      return st;
    }
    printf("@slot 0x%lx\n", (unsigned long)diag(DIAG_KERNEL_SLOT, 0));
  }
  return 0;
}
