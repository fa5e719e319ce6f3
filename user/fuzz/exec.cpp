// exec of valid names with harmless argument vectors, and of invalid names and vectors.
#include "fuzz.hpp"

namespace fuzz {

bool Fuzzer::scratch_ok(long p, long n) {
  calls++;
  return syscall6(SYS_bench_echo, p, p, n, 0, 0, 0) == n;
}

void Fuzzer::f_exec() {
  char name[80];
  char seedbuf[24], callsbuf[24];
  const char* argv[40];
  static char big[2][2100];
  long path;
  int kind = (int)rng.below(14);
  // kind 8's unterminated "fuzz" is a valid name when a fuzzed mmap put memory after scratch.
  bool fuzz = kind <= 2 || kind == 8, echo = kind == 3;
  switch (kind) {
    case 0: case 1: case 2: path = (long)"fuzz"; break;
    case 3: path = (long)"echo"; break;
    case 4: path = (long)"nosuchprogram"; break;
    case 5: path = (long)""; break;
    case 6: path = (long)"user/fuzz"; break;
    case 7: {  // 63 characters (allowed length, unknown name) or 64+ (too long)
      long n = 63 + rng.below(3);
      for (long i = 0; i < n; i++) name[i] = (char)('a' + i % 26);
      name[n] = 0;
      path = (long)name;
      break;
    }
    case 8:  // "fuzz" without its NUL, in the last bytes of the scratch mapping
      path = SCRATCH_END - 4;
      if (scratch_ok(path, 4)) memcpy((void*)path, "fuzz", 4);
      break;
    // Never a pointer to bytes we do not control: rodata and scratch may hold the name of a
    // program (a suffix of "fuzz-echo" is "echo"; sh would wait for console input).
    default: path = bad_ptr();
  }
  snprintf(seedbuf, sizeof seedbuf, "%lu", rng.next() >> 1);
  snprintf(callsbuf, sizeof callsbuf, "%ld", 10 + rng.below(60));
  int argc = 0;
  long argvp = (long)argv;
  if (fuzz) {
    argv[argc++] = kind == 8 ? (const char*)path : "fuzz";
    argv[argc++] = "--leaf";
    argv[argc++] = seedbuf;
    argv[argc++] = callsbuf;
  } else {
    argv[argc++] = echo ? "echo" : (const char*)path;
    if (echo) argv[argc++] = "fuzz-echo";
  }
  int akind = (int)rng.below(12);
  if (echo && (akind < 6 || akind == 9)) akind = 11;  // echo: the good argv or a failing one
  switch (akind) {
    case 0:  // null: no arguments (a fuzz leaf would not be one)
      if (!fuzz) argvp = 0;
      break;
    case 1:
      if (!fuzz) argvp = any_ptr();
      break;
    case 2: case 3: {  // 32 or 33 arguments in all
      int n = 32 + (int)rng.below(2);
      while (argc < n) argv[argc++] = "x";
      break;
    }
    case 4: case 5: {  // argument strings of about 4096 bytes (counted with the NULs)
      long n = 2030 + rng.below(30);
      for (int k = 0; k < 2; k++) {
        memset(big[k], 'y', (size_t)n);
        big[k][n] = 0;
        argv[argc++] = big[k];
      }
      break;
    }
    case 6: case 7:  // a bad string pointer inside a good array
      argv[argc++] = (const char*)bad_ptr();
      break;
    case 8:  // a bad array
      argvp = bad_ptr();
      break;
    case 9: {  // the array runs off the end of scratch without its terminator
      long at = SCRATCH_END - 16;
      if (scratch_ok(at, 16)) {
        const char* two[2] = {"fuzz", "--leaf"};  // harmless if the array does go on
        memcpy((void*)at, two, sizeof two);
        argvp = at;
      } else {
        argvp = bad_ptr();
      }
      break;
    }
    default: break;  // the good argv
  }
  argv[argc] = nullptr;
  // A program could start: from a batch process always in a child; a tree child may become
  // the program itself (echo only when it has no children, which echo would orphan).
  bool valid = fuzz || echo;
  if (valid && (depth == 0 || (echo && nkids > 0))) {
    if (nkids >= MAX_WIDTH) reap_oldest();
    long pid = call(SYS_fork);
    if (pid == 0) {
      long r = syscall6(SYS_exec, path, argvp, junk(), junk(), junk(), junk());
      exit(ST_EXEC_FAILED | (int)(-r & 0xfff));
    }
    calls++;  // the child's exec
    if (pid > 0) reap(pid);
    return;
  }
  long r = call(SYS_exec, path, argvp, junk(), junk(), junk(), junk());
  if (!valid && r != -ENOENT && r != -EFAULT && r != -ENAMETOOLONG && r != -E2BIG)
    oddity("exec of an invalid name", SYS_exec, path, argvp, 0, r);
}

}  // namespace fuzz
