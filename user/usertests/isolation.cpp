// usertests: per-process kernel slots and kernel isolation.
#include "framework.hpp"

namespace {

int slot_index(long slot) { return (int)(((unsigned long)slot >> 21) & 0x3ffff); }

TEST(kernel_slots) {
  if (!g_diag) {
    EXPECT(diag(DIAG_KERNEL_SLOT, 0), -ENOSYS);
    printf("  kernel_slots: not observable from user mode without CONFIG_DIAG\n");
    return true;
  }
  constexpr int N = 64;
  long mine = diag(DIAG_KERNEL_SLOT, 0);
  int n = g_scheme == 3 ? N : 4;  // schemes 1 and 2: a few children suffice to see it is fixed
  printf("slot %#lx (the test process)\n", mine);
  int idx[N];
  for (int i = 0; i < n; i++) {
    long pid = fork();
    CHECK(pid >= 0, "fork = %ld", pid);
    if (pid == 0) {
      long s = diag(DIAG_KERNEL_SLOT, 0);
      printf("slot %#lx\n", s);
      exit(slot_index(s));
    }
    int st = -1;
    EXPECT(waitpid(pid, &st, 0), pid);
    idx[i] = st;
  }
  int same_as_parent = 0, distinct = 0;
  for (int i = 0; i < n; i++) {
    if (idx[i] == slot_index(mine)) same_as_parent++;
    bool first = true;
    for (int k = 0; k < i; k++) first = first && idx[k] != idx[i];
    distinct += first;
  }
  if (g_scheme == 3) {
    // 64 draws from ~2^17 slots: a repeat is possible but rare.
    CHECK(same_as_parent <= 1, "%d of %d children got the parent's slot", same_as_parent, n);
    CHECK(distinct >= n - 2, "only %d distinct slots among %d children", distinct, n);
  } else {
    CHECK(same_as_parent == n, "scheme %ld: the slot differs between processes", g_scheme);
  }
  return true;
}

// Scheme 3: a kernel address learnt in one process is not a kernel mapping in another.
TEST(kernel_isolation) {
  if (!g_diag) {
    EXPECT(diag(DIAG_KERNEL_ADDR, 0), -ENOSYS);
    printf("  kernel_isolation: not observable from user mode without CONFIG_DIAG\n");
    return true;
  }
  long ka = diag(DIAG_KERNEL_ADDR, 0);
  int want_in_child = g_scheme == 2 ? 1 : 0;
  int tries = 0;
  long st = -2;
  for (; tries < 3; tries++) {
    st = run_child([](long a) { return (int)diag(DIAG_IS_KERNEL_MAPPED, a); }, ka);
    if (st == want_in_child) break;
    if (g_scheme != 3) break;  // only scheme 3 has chance collisions
  }
  CHECK(st == want_in_child, "scheme %ld: the parent's kernel address %#lx is %s in a child",
        g_scheme, ka, st == 1 ? "mapped" : "not mapped");
  if (g_scheme != 3) return true;
  // exec picks a new slot too.
  for (tries = 0; tries < 3; tries++) {
    long pid = fork();
    CHECK(pid >= 0, "fork = %ld", pid);
    if (pid == 0) {
      char slot[24];
      snprintf(slot, sizeof slot, "%ld", diag(DIAG_KERNEL_SLOT, 0));
      const char* args[] = {"usertests", "--child-slot", slot, nullptr};
      exec("usertests", args);
      exit(2);
    }
    int s = -2;
    EXPECT(waitpid(pid, &s, 0), pid);
    if (s == 0) break;
    CHECK(s == 1, "exec slot helper status %d", s);
  }
  CHECK(tries < 3, "exec kept the same kernel slot 3 times");
  return true;
}

}  // namespace
