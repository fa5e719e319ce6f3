// usertests: TLB fences and ASIDs.
#include "framework.hpp"

namespace {

// A new mapping of the running process is fenced (the hart may have cached the invalid
// entries it replaces), with one sfence.vma per page up to 32 pages, one per ASID above; in
// scheme 1 without ASIDs the process table is not loaded in the kernel and the trap return's
// flush covers it. An unmapped page is fenced before its frame is freed.
TEST(mmap_fences) {
  if (!g_counters) return counters_read_zero("mmap_fences");
  KernelStats s = get_stats();
  bool fenced = g_scheme != 1 || s.asid_enabled;
  // Scheme 1 without ASIDs flushes everything twice per trap in its trampoline: leave those out.
  auto fences = [fenced](const KernelStats& k) {
    return (long)(k.self.sfence_addr + k.self.sfence_asid + (fenced ? k.self.sfence_all : 0));
  };
  // A timer interrupt or a switch inside the window adds the switch's own flush (without
  // ASIDs): the counts are taken over a window that had neither, retried until one has.
  auto quiet = [](const KernelStats& a, const KernelStats& b) {
    return a.self.interrupts == b.self.interrupts &&
           a.self.context_switches == b.self.context_switches;
  };
  long want_map = fenced ? 4 : 0;
  bool measured = false;
  for (int attempt = 0; attempt < 50 && !measured; attempt++) {
    KernelStats k0 = get_stats();
    long a = mmap(nullptr, 4 * PAGE, RW);
    CHECK(a > 0, "mmap = %ld", a);
    KernelStats k1 = get_stats();
    KernelStats touched = k1;
    if (g_demand) {
      // Nothing is mapped until the first touch; each touch is a page fault whose new entry
      // is fenced.
      for (int p = 0; p < 4; p++) *(volatile long*)(a + p * PAGE) = p;
      touched = get_stats();
    }
    EXPECT(munmap((void*)a, 4 * PAGE), 0);
    KernelStats k2 = get_stats();
    long big = mmap(nullptr, 64 * PAGE, RW);
    CHECK(big > 0, "mmap = %ld", big);
    KernelStats k3 = get_stats();
    EXPECT(munmap((void*)big, 64 * PAGE), 0);
    if (!quiet(k0, k3)) continue;
    measured = true;
    if (g_demand)
      CHECK(fences(k1) - fences(k0) == 0, "mmap of 4 pages on demand: %ld fences, want 0",
            fences(k1) - fences(k0));
    CHECK(fences(touched) - fences(k0) == want_map, "mmap of 4 pages: %ld fences, want %ld",
          fences(touched) - fences(k0), want_map);
    CHECK(fences(k2) - fences(touched) == want_map, "munmap of 4 pages: %ld fences, want %ld",
          fences(k2) - fences(touched), want_map);
    long want_big = fenced && !g_demand ? 1 : 0;
    CHECK(fences(k3) - fences(k2) == want_big, "mmap of 64 pages: %ld fences, want %ld",
          fences(k3) - fences(k2), want_big);
  }
  CHECK(measured, "50 attempts, each with a timer interrupt or a switch inside the window");
  return true;
}

// ---------------------------------------------------------------- ASIDs
// One link of a fork chain: map a page, fill it with a pattern of our own, fork the next link
// (which does the same), and when it is done check that our page still holds our pattern and
// that no ASID is held twice. Under asid_bits=2..4 (pytest boots usertests so) the chain is
// longer than the ASID space, so the generation rolls over while the links are alive.
int asid_chain_link(long depth) {
  // Iterative, not recursive: each link is a new process that continues this loop, so the
  // chain needs no more stack than one link (CONFIG_USER_STACK_PAGES may be 1).
  for (;;) {
    long a = mmap(nullptr, PAGE, RW);
    if (a < 0) return 90;
    long* page = (long*)a;
    long mark = getpid() * 1000003;
    for (int i = 0; i < 512; i++) page[i] = mark + i;
    if (depth > 0) {
      long pid = fork();
      if (pid == 0) {
        depth--;
        continue;  // the child is the next link
      }
      if (pid > 0) {
        int st = 0;
        if (waitpid(pid, &st, 0) != pid) return 91;
        if (st != 0) return st;
      } else if (pid != -EAGAIN && pid != -ENOMEM) {  // a full table (small NPROC) ends the chain
        return 92;
      }
    }
    // Short-lived processes die and free their ASIDs while we are alive.
    for (int k = 0; k < 3; k++) {
      long pid = fork();
      if (pid == 0) {
        for (int i = 0; i < 512; i++) page[i] = -1;  // our copy only
        exit(0);
      }
      if (pid > 0) waitpid(pid, nullptr, 0);
      yield();
    }
    for (int i = 0; i < 512; i++)
      if (page[i] != mark + i) return 93;
    if (g_diag && diag(DIAG_ASID_CHECK, 0) != 0) return 94;
    return 0;
  }
}

TEST(asid_chain) {
  constexpr int LINKS = 40;
  KernelStats s0 = get_stats();
  long st = run_child(asid_chain_link, LINKS);
  CHECK(st == 0, "fork chain of %d links ended with status %ld (90s: see asid_chain_link)", LINKS, st);
  // The same through exec: each exec builds a new address space and destroys the old one.
  const char* args[] = {"usertests", "--child-asid-chain", "20", nullptr};
  EXPECT(exec_in_child("usertests", args), 0);
  KernelStats s1 = get_stats();
  printf("  asid_chain: %lu usable ASID bits, generation %lu -> %lu, %lu rollovers in all\n", s1.asid_bits,
         s0.asid_generation, s1.asid_generation, s1.asid_rollovers);
  // 3 ASIDs (2 bits) to 15 (4 bits) cannot serve 40 live links and 120 short-lived processes
  // without rolling over; with none in use there are no generations.
  if (s1.asid_bits > 0 && s1.asid_bits <= 4)
    CHECK(s1.asid_rollovers > s0.asid_rollovers, "no rollover with %lu ASID bits", s1.asid_bits);
  if (s1.asid_bits == 0) EXPECT(s1.asid_rollovers, 0);
  CHECK(s1.asid_generation == s1.asid_rollovers + 1, "generation %lu after %lu rollovers", s1.asid_generation,
        s1.asid_rollovers);
  if (g_diag) EXPECT(diag(DIAG_ASID_CHECK, 0), 0);
  return true;
}

}  // namespace
