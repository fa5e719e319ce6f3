// The simple calls with their own rules: read, write, sleep, stats, programs, bench_echo,
// diag, and numbers that are no system call.
#include "fuzz.hpp"

namespace fuzz {

void Fuzzer::f_read() {
  long fd = any_fd(), p, n;
  any_range(p, n);
  if ((int)fd == 0) n = 0;  // excluded: would wait for console input (no other fd can block)
  long r = call(SYS_read, fd, p, n, junk(), junk(), junk());
  if ((int)fd == 0 && r != 0 && r != -EBADF && r != -EFAULT) oddity("read len 0", SYS_read, fd, p, n, r);
}

void Fuzzer::f_write() {
  long fd = any_fd(), p, n;
  any_range(p, n);
  bool console = fd == 1 || fd == 2;
  // A valid buffer would print: only bad or empty ones go to the console.
  if (console && !never_mapped(p)) n = 0;
  call(SYS_write, fd, p, n, junk(), junk(), junk());
}

void Fuzzer::f_sleep() {
  static const long ns[] = {0, 1, 100, 1000, MS, 2 * MS, -1, (long)(1ul << 63), -4096};
  long r = call(SYS_sleep, ns[rng.below(9)], junk(), junk());
  (void)r;
}

void Fuzzer::f_stats() {
  long p, n;
  any_range(p, n);
  call(SYS_stats, p, junk(), junk());
}

void Fuzzer::f_programs() {
  long p, n;
  any_range(p, n);
  call(SYS_programs, p, n, junk());
}

void Fuzzer::f_echo() {
  long p, n, q, m;
  any_range(p, n);
  any_range(q, m);
  call(SYS_bench_echo, p, q, rng.chance(2) ? n : m);
}

void Fuzzer::f_diag() {
  long op = rng.chance(5) ? junk() : rng.below(9) - 2;
  long arg = rng.chance(2) ? any_ptr() : junk();
  long r = call(SYS_diag, op, arg, junk());
  // Sv39: an address is canonical when bits 63..39 all equal bit 38.
  long top = arg >> 38;
  if (op == DIAG_IS_KERNEL_MAPPED && top != 0 && top != -1 && r == 1)
    oddity("diag: non-canonical address is kernel-mapped", SYS_diag, op, arg, 0, r);
}

void Fuzzer::f_unknown() {
  long nr;
  switch (rng.below(6)) {
    case 0: nr = 0; break;
    case 1: nr = SYS_COUNT + rng.below(20); break;
    case 2: nr = -1 - rng.below(20); break;
    case 3: {
      static const long harmless[] = {SYS_yield, SYS_getpid, SYS_getppid, SYS_get_time};
      nr = (1l << 32) | harmless[rng.below(4)];  // low 32 bits are a valid number
      break;
    }
    case 4: nr = (long)(1ul << 63) | SYS_getpid; break;
    default: nr = junk();
  }
  if (nr >= 1 && nr < SYS_COUNT) nr = 0;
  long r = call(nr, any_ptr(), any_len(), junk(), junk(), junk(), junk());
  if (r != -ENOSYS) oddity("unknown number", nr, 0, 0, 0, r);
}

}  // namespace fuzz
