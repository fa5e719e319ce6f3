// usertests' exec helper modes: `usertests --child-MODE ...`, run through exec by the tests.
#include "framework.hpp"

int helper_main(int argc, char** argv) {
  const char* mode = argv[1];
  g_diag = diag(DIAG_SLOT_ENTROPY_MILLIBITS, 0) != -ENOSYS;
  if (strcmp(mode, "--child-exit") == 0) return argc > 2 ? (int)atol(argv[2]) : 0;
  if (strcmp(mode, "--child-echo") == 0) {
    if (argv[argc] != nullptr) return 1;
    if (((uintptr_t)argv & 7) != 0) return 2;
    return argv_hash(argc, argv);
  }
  if (strcmp(mode, "--child-pid") == 0)
    return (argc == 4 && getpid() == atol(argv[2]) && getppid() == atol(argv[3])) ? 0 : 1;
  if (strcmp(mode, "--child-fresh") == 0) {
    if (argc != 3 || sbrk(0) != atol(argv[2])) return 1;
    return mmap((void*)FIXED, 64 * PAGE, RW) == FIXED ? 0 : 2;
  }
  if (strcmp(mode, "--child-asid-chain") == 0) {
    long left = argc > 2 ? atol(argv[2]) : 0;
    if (g_diag && diag(DIAG_ASID_CHECK, 0) != 0) return 4;
    if (left <= 0) return 0;
    char next[24];
    snprintf(next, sizeof next, "%ld", left - 1);
    const char* args[] = {"usertests", "--child-asid-chain", next, nullptr};
    long r = exec("usertests", args);
    return r == -EAGAIN ? 0 : 5;  // EAGAIN: scheme 3 found no free slot (tiny configurations)
  }
  if (strcmp(mode, "--child-slot") == 0)
    return (argc == 3 && diag(DIAG_KERNEL_SLOT, 0) != atol(argv[2])) ? 0 : 1;
  printf("usertests: unknown helper mode %s\n", mode);
  return 3;
}
