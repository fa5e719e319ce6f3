// usertests: exec.
#include "framework.hpp"

namespace {

TEST(exec_errors) {
  static const char* const args[] = {"usertests", "--child-exit", "0", nullptr};
  // The caller survives a failed exec.
  long me = getpid();
  EXPECT(exec("no_such_program", args), -ENOENT);
  EXPECT(exec("no_such_program", nullptr), -ENOENT);
  EXPECT(getpid(), me);

  // The remaining attempts run in children, in case one wrongly succeeds.
  EXPECT(exec_in_child("", args), EXEC_FAILED + ENOENT);
  EXPECT(exec_in_child("/usertests", args), EXEC_FAILED + ENOENT);
  EXPECT(exec_in_child("./usertests", args), EXEC_FAILED + ENOENT);
  EXPECT(exec_in_child("usertests/", args), EXEC_FAILED + ENOENT);
  EXPECT(exec_in_child("Usertests", args), EXEC_FAILED + ENOENT);
  char name[1001];
  memset(name, 'x', sizeof name - 1);
  name[63] = 0;  // 63 characters: allowed, but no such program
  EXPECT(exec_in_child(name, args), EXEC_FAILED + ENOENT);
  name[63] = 'x', name[64] = 0;  // 64 characters: too long
  EXPECT(exec_in_child(name, args), EXEC_FAILED + ENAMETOOLONG);
  name[64] = 'x', name[1000] = 0;
  EXPECT(exec_in_child(name, args), EXEC_FAILED + ENAMETOOLONG);
  memcpy(name, "usertests", 9);  // a real name, padded to 64 characters
  name[64] = 0;
  EXPECT(exec_in_child(name, args), EXEC_FAILED + ENAMETOOLONG);

  // Bad path pointers.
  for (const BadPtr& b : BAD_PTRS) {
    long st = exec_in_child((const char*)b.addr, args);
    CHECK(st == EXEC_FAILED + EFAULT, "exec(path %s): status %ld, want -EFAULT", b.what, st);
  }
  long e = edge_page();
  memset((void*)(e + PAGE - 9), 'u', 9);  // "uuuuuuuuu" and then the mapping ends: no NUL
  EXPECT(exec_in_child((const char*)(e + PAGE - 9), args), EXEC_FAILED + EFAULT);

  // Bad argv arrays and bad argument strings.
  for (const BadPtr& b : BAD_PTRS) {
    if (b.addr == 0) continue;  // argv == nullptr is allowed
    long st = exec_in_child("usertests", (const char* const*)b.addr);
    CHECK(st == EXEC_FAILED + EFAULT, "exec(argv %s): status %ld, want -EFAULT", b.what, st);
    const char* with_bad[] = {"usertests", "--child-exit", "0", (const char*)b.addr, nullptr};
    st = exec_in_child("usertests", with_bad);
    CHECK(st == EXEC_FAILED + EFAULT, "exec(argv[3] %s): status %ld, want -EFAULT", b.what, st);
  }
  // The pointer array runs off the end of the mapping without a terminating nullptr.
  const char** tail = (const char**)(e + PAGE - 2 * sizeof(char*));
  tail[0] = "usertests";
  tail[1] = "--child-exit";
  EXPECT(exec_in_child("usertests", tail), EXEC_FAILED + EFAULT);
  // An argument string runs off the end of the mapping.
  memset((void*)(e + PAGE - 9), 'u', 9);
  const char* off_end[] = {"usertests", (const char*)(e + PAGE - 9), nullptr};
  EXPECT(exec_in_child("usertests", off_end), EXEC_FAILED + EFAULT);

  // Too many arguments: 33 (32 are allowed, see t_exec_args).
  const char* many[40];
  many[0] = "usertests", many[1] = "--child-exit", many[2] = "0";
  for (int i = 3; i < 33; i++) many[i] = "x";
  many[33] = nullptr;
  EXPECT(exec_in_child("usertests", many), EXEC_FAILED + E2BIG);
  // Too many bytes of strings: 5 x 1000.
  static char chunk[1001];
  memset(chunk, 'y', 1000);
  const char* heavy[] = {"usertests", "--child-exit", "0", chunk, chunk, chunk, chunk, chunk, nullptr};
  EXPECT(exec_in_child("usertests", heavy), EXEC_FAILED + E2BIG);
  // Arguments within the call's limit that do not fit a one-page user stack: E2BIG there (the
  // loader checks before it writes), success with a larger stack. Whether the stack is one page
  // shows in whether the page below its top page is free for mmap.
  static char big[1901];
  memset(big, 'z', 1900);
  long probe = mmap((void*)(STACK_TOP - 2 * PAGE), PAGE, RW);
  bool one_page_stack = probe == STACK_TOP - 2 * PAGE;
  if (one_page_stack) EXPECT(munmap((void*)probe, PAGE), 0);
  const char* tall[] = {"usertests", "--child-exit", "0", big, big, nullptr};
  EXPECT(exec_in_child("usertests", tall), one_page_stack ? EXEC_FAILED + E2BIG : 0);
  return true;
}

TEST(exec_args) {
  const char* args[] = {"usertests", "--child-echo", "a", "bb", "ccc", "", "with space", nullptr};
  EXPECT(exec_in_child("usertests", args), argv_hash(7, args));
  // Exactly 32 arguments.
  static char words[30][8];
  const char* many[33];
  many[0] = "usertests", many[1] = "--child-echo";
  for (int i = 0; i < 30; i++) {
    snprintf(words[i], sizeof words[i], "arg%d", i);
    many[2 + i] = words[i];
  }
  many[32] = nullptr;
  EXPECT(exec_in_child("usertests", many), argv_hash(32, many));
  // Long strings, 3000 bytes in all.
  static char longs[3][1001];
  for (int i = 0; i < 3; i++) {
    for (int k = 0; k < 1000; k++) longs[i][k] = (char)('a' + (i * 7 + k) % 26);
  }
  const char* heavy[] = {"usertests", "--child-echo", longs[0], longs[1], longs[2], nullptr};
  EXPECT(exec_in_child("usertests", heavy), argv_hash(5, heavy));
  // argv == nullptr: the program starts with no arguments (or only its name).
  EXPECT(exec_in_child("echo", nullptr), 0);
  // A program's exit status is main's return value.
  const char* status_args[] = {"usertests", "--child-exit", "123", nullptr};
  EXPECT(exec_in_child("usertests", status_args), 123);
  return true;
}

// Issue 16 bug 3: arguments that fill the kernel's 4,096-byte argument buffer exactly are
// accepted; one more argument after them is E2BIG (the string copy is then asked for at most 0
// bytes, where it used to store a NUL at dst[max - 1], one byte before its buffer; that byte held
// the previous string's NUL already, so the write changed nothing a program can see).
TEST(exec_args_fill) {
  constexpr long ARGV_BYTES = 4096;
  static char fill[ARGV_BYTES];
  long head = (long)strlen("usertests") + 1 + (long)strlen("--child-echo") + 1;
  long n = ARGV_BYTES - head - 1;  // this string and its NUL end the buffer exactly
  memset(fill, 'f', n);
  fill[n] = 0;
  const char* exact[] = {"usertests", "--child-echo", fill, nullptr};
  // Accepted by the argument copy; the loader then needs the strings and the pointer array on
  // the new stack, which a one-page stack (USER_STACK_PAGES=1) cannot hold: E2BIG there.
  long r = exec_in_child("usertests", exact);
  CHECK(r == argv_hash(3, exact) || r == EXEC_FAILED + E2BIG, "exec with 4096 bytes of arguments = %ld", r);
  const char* over[] = {"usertests", "--child-echo", fill, "x", nullptr};
  EXPECT(exec_in_child("usertests", over), EXEC_FAILED + E2BIG);
  const char* empty_over[] = {"usertests", "--child-echo", fill, "", nullptr};
  EXPECT(exec_in_child("usertests", empty_over), EXEC_FAILED + E2BIG);
  return true;
}

// exec keeps the pid and the parent.
TEST(exec_pid) {
  long pid = fork();
  CHECK(pid >= 0, "fork = %ld", pid);
  if (pid == 0) {
    char a[24], b[24];
    snprintf(a, sizeof a, "%ld", getpid());
    snprintf(b, sizeof b, "%ld", getppid());
    const char* args[] = {"usertests", "--child-pid", a, b, nullptr};
    exec("usertests", args);
    exit(1);
  }
  int st = -2;
  EXPECT(waitpid(pid, &st, 0), pid);
  EXPECT(st, 0);
  return true;
}

// exec replaces the whole address space: the new image has the initial break and none of the
// old mappings (the helper maps FIXED again, which fails if the old mapping survived).
TEST(exec_fresh) {
  long pid = fork();
  CHECK(pid >= 0, "fork = %ld", pid);
  if (pid == 0) {
    if (mmap((void*)FIXED, 64 * PAGE, RW) != FIXED) exit(2);
    if (sbrk(16 * PAGE) < 0) exit(3);
    char brk[24];
    snprintf(brk, sizeof brk, "%ld", g_initial_brk);
    const char* args[] = {"usertests", "--child-fresh", brk, nullptr};
    exec("usertests", args);
    exit(4);
  }
  int st = -2;
  EXPECT(waitpid(pid, &st, 0), pid);
  EXPECT(st, 0);
  return true;
}

}  // namespace
