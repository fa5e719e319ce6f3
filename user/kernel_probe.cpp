// kernel_probe: a Meltdown-style probe for the TLB model (tlbmodel/, harness --tlb).
//
// User code cannot read kernel pages in any scheme: every load below kills the process that
// makes it. What differs is whether the load *finds a translation* the kernel left in the TLB,
// which is what a speculative side channel would exploit. The TLB model reports, per region,
// user accesses to the kernel half that hit an entry without the U bit.
//
//   region 30: a child makes a system call, then loads the kernel address (diag
//              DIAG_KERNEL_ADDR) of data that call read, at the VA *its own* table maps it;
//   region 31: a child makes a system call, then loads the same kernel data at the VA the
//              *parent's* table maps it (another process's address).
// Expected: scheme 1 finds nothing in either (the kernel is not mapped in user tables);
// scheme 2 finds both (the same VA everywhere); scheme 3 finds only its own slot.
// `kernel_probe [trials]` (default 1) repeats each probe `trials` times, so that the model's
// per-region counts give a hit rate over the trials rather than one yes/no.
// Prints one `@probe {...}` line with the addresses; exits 0 when every child was killed.
#include "user.hpp"

using namespace uapi;

namespace {

[[noreturn]] void load_after_syscall(long address, bool own_region) {
  if (own_region) TLB_REGION_BEGIN(30);
  else TLB_REGION_BEGIN(31);
  getpid();  // the kernel runs and touches the data behind `address`
  long v = *reinterpret_cast<volatile long*>(address);  // faults: the process is killed
  printf("kernel_probe: the load from %#lx returned %ld instead of faulting\n", address, v);
  exit(2);
}

bool probe(long address, bool own) {
  long pid = fork();
  if (pid < 0) return false;
  if (pid == 0) load_after_syscall(own ? diag(DIAG_KERNEL_ADDR, 0) : address, own);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return false;
  TLB_REGION_END();
  return status == -1;  // killed by the kernel, as it must be
}

}  // namespace

int main(int argc, char** argv) {
  long trials = 1;
  if (argc > 1) {
    trials = atol(argv[1]);
    if (trials <= 0) {
      printf("usage: kernel_probe [trials]   (trials > 0, default 1)\n");
      return 1;
    }
  }
  long parents = diag(DIAG_KERNEL_ADDR, 0);
  printf("@probe {\"parent_kernel_addr\":\"%#lx\",\"parent_slot\":\"%#lx\"}\n", parents,
         diag(DIAG_KERNEL_SLOT, 0));
  bool own = true;
  bool other = true;
  for (long t = 0; t < trials; t++) {
    own = probe(0, true) && own;
    other = probe(parents, false) && other;
  }
  if (!own || !other) {
    printf("kernel_probe: a probing child was not killed (own %d, other %d)\n", own, other);
    return 1;
  }
  return 0;
}
