// The fuzzer's core: a process's set-up, the counted call with the generic oracle (a negative
// result is a known -errno), the contract report (`odd` lines), and the choice of the next call.
#include "fuzz.hpp"

namespace fuzz {

int g_odd_printed;
bool g_trace;  // `fuzz SEED CALLS BATCH trace`: print every call before it is made (debugging)
const long RODATA_WORDS[8] = {1, 2, 3, 4, 5, 6, 7, 8};

KernelStats get_stats() {
  KernelStats s;
  memset(&s, 0, sizeof s);
  stats(&s);
  return s;
}

bool is_errno(long r) {
  switch (-r) {
    case EPERM: case ENOENT: case ESRCH: case E2BIG: case ENOEXEC: case EBADF: case ECHILD:
    case EAGAIN: case ENOMEM: case EFAULT: case EINVAL: case ENFILE: case EMFILE: case EPIPE:
    case ENAMETOOLONG: case ENOSYS:
      return true;
    default:
      return false;
  }
}

void Fuzzer::init(uint64_t s, int d, long n) {
  seed = s;
  rng.s = s;
  depth = d;
  calls_left = n;
  calls = desc_calls = 0;
  errors = 0;
  odd = 0;
  nkids = 0;
  brk0 = sbrk(0);
  kslot = diag(DIAG_KERNEL_SLOT, 0);
  kaddr = diag(DIAG_KERNEL_ADDR, 0);
}

void Fuzzer::oddity(const char* what, long nr, long a0, long a1, long a2, long r) {
  odd++;
  // per process (a forked child starts from its parent's count); atomic: threads share it
  if (__atomic_fetch_add(&g_odd_printed, 1, __ATOMIC_RELAXED) < 3)
    printf("fuzz: odd: seed %lu depth %d call %ld: %s: nr %ld (%#lx, %#lx, %#lx) = %ld\n", seed,
           depth, calls, what, nr, a0, a1, a2, r);
}

long Fuzzer::call(long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
  calls++;
  if (g_trace)
    printf("T d%d c%ld: %ld(%#lx, %#lx, %#lx)\n", depth, calls, nr, a0, a1, a2);
  long r = syscall6(nr, a0, a1, a2, a3, a4, a5);
  if (r < 0 && r > -4096 && !is_errno(r)) oddity("unknown errno", nr, a0, a1, a2, r);
  return r;
}

void Fuzzer::one() {
  switch (rng.below(40)) {
    case 0: f_read(); break;
    case 1: case 2: f_write(); break;
    case 3: f_exit(); break;
    case 4: call(SYS_yield, junk(), junk()); break;
    case 5: call(SYS_getpid, junk()); break;
    case 6: call(SYS_getppid, junk()); break;
    case 7: if (rng.chance(2)) f_fork(); else call(SYS_getpid); break;
    case 8: case 9: f_exec(); break;
    case 10: case 11: f_waitpid(); break;
    case 12: call(SYS_get_time, junk()); break;
    case 13: f_sleep(); break;
    case 14: case 15: case 16: case 17: case 18: case 19: f_mmap(); break;
    case 20: case 21: case 22: case 23: case 24: f_munmap(); break;
    case 25: case 26: case 27: f_sbrk(); break;
    case 28: case 29: f_stats(); break;
    case 30: f_programs(); break;
    case 31: case 32: f_echo(); break;
    case 33: case 34: f_diag(); break;
    case 35: f_pipe(); break;
    case 36: f_close(); break;
    case 37: f_dup2(); break;
    default: f_unknown(); break;
  }
}

void Fuzzer::run() {
  while (calls_left-- > 0) one();
}

}  // namespace fuzz
