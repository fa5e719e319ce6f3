// linkwindow: is the kernel mapped at its link-time VA in this process's table?
//
// Prints `@linkwindow {"mapped":0|1,"slot":"0x..."}`: diag(DIAG_IS_KERNEL_MAPPED) for the kernel
// image at the link-time window (KERNEL_HALF + 2 MiB) and diag(DIAG_KERNEL_SLOT). With scheme 2's
// KASLR_BOOT the answer must be 0: a process sees the kernel only at the slot drawn at boot.
#include "user.hpp"

using namespace uapi;

int main(int, char**) {
  long mapped = diag(DIAG_IS_KERNEL_MAPPED, (long)(KERNEL_HALF + 0x200000));
  long slot = diag(DIAG_KERNEL_SLOT, 0);
  printf("@linkwindow {\"mapped\":%ld,\"slot\":\"%#lx\"}\n", mapped, (unsigned long)slot);
  return mapped == 0 || mapped == 1 ? 0 : 1;
}
