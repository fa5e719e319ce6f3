// Panic. The backtrace and the power-off it ends with need the kernel window, so they live
// above lib/ (mm/kview.cpp); lib/log.hpp declares them.
#include "lib/log.hpp"

void panic(const char* fmt, ...) {
  static char buf[256];
  va_list ap;
  va_start(ap, fmt);
  kvsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  kprintf("\nkernel panic: %s\n", buf);
  backtrace(reinterpret_cast<u64>(__builtin_frame_address(0)));
  power_off(99);
}
