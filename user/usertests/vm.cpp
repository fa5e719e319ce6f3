// usertests: demand paging and copy-on-write.
#include "framework.hpp"

namespace {

long self_counter(uint64_t Counters::*field) {
  KernelStats s = get_stats();
  return (long)(s.self.*field);
}

// After fork, parent and child each see only their own writes, whether fork copied the pages
// or shares them copy-on-write; with copy-on-write the first write to each shared page is one
// resolved fault in the writer, and only the pages written get copies.
TEST(cow_isolation) {
  long before = mem_mark();
  constexpr long PAGES = 16;
  long a = mmap(nullptr, PAGES * PAGE, RW);
  CHECK(a > 0, "mmap = %ld", a);
  for (long p = 0; p < PAGES; p++) *(volatile long*)(a + p * PAGE) = 100 + p;
  int up[2], down[2];
  EXPECT(pipe(up) | pipe(down), 0);
  long pid = fork();
  if (pid == 0) {
    char go;
    long c0 = self_counter(&Counters::cow_faults);
    for (long p = 0; p < PAGES; p += 2) *(volatile long*)(a + p * PAGE) = 200 + p;  // 8 pages
    long c1 = self_counter(&Counters::cow_faults);
    if (write(up[1], "w", 1) != 1 || read(down[0], &go, 1) != 1) exit(2);
    for (long p = 0; p < PAGES; p++) {  // the parent has written the odd pages meanwhile
      long want = p % 2 ? 100 + p : 200 + p;
      if (*(volatile long*)(a + p * PAGE) != want) exit(3);
    }
    if (g_counters && g_cow && c1 - c0 != PAGES / 2) exit(4);
    if (g_counters && !g_cow && c1 != c0) exit(5);
    exit(0);
  }
  CHECK(pid > 0, "fork = %ld", pid);
  char c;
  EXPECT(read(up[0], &c, 1), 1);
  long p0 = self_counter(&Counters::cow_faults);
  for (long p = 1; p < PAGES; p += 2) *(volatile long*)(a + p * PAGE) = 300 + p;
  long p1 = self_counter(&Counters::cow_faults);
  if (g_counters) EXPECT(p1 - p0, g_cow ? PAGES / 2 : 0);  // one copy per page written, no more
  for (long p = 0; p < PAGES; p++) {
    long want = p % 2 ? 300 + p : 100 + p;
    CHECK(*(volatile long*)(a + p * PAGE) == want, "parent page %ld = %ld, want %ld", p,
          *(volatile long*)(a + p * PAGE), want);
  }
  EXPECT(write(down[1], "g", 1), 1);
  int st = -1;
  EXPECT(waitpid(pid, &st, 0), pid);
  EXPECT(st, 0);
  EXPECT(close(up[0]) | close(up[1]) | close(down[0]) | close(down[1]), 0);
  EXPECT(munmap((void*)a, PAGES * PAGE), 0);
  EXPECT(mem_mark(), before);
  return true;
}

// Demand paging: mmap costs no frames, the first touch of each page is one resolved fault, a
// second touch none; with eager population the frames are taken at mmap.
TEST(demand_paging) {
  constexpr long PAGES = 32;
  long free0 = (long)get_stats().frames_free;
  long f0 = self_counter(&Counters::page_faults);
  long a = mmap(nullptr, PAGES * PAGE, RW);
  CHECK(a > 0, "mmap = %ld", a);
  long free1 = (long)get_stats().frames_free;
  if (g_demand) CHECK(free0 - free1 <= 1, "mmap on demand took %ld frames", free0 - free1);
  else CHECK(free0 - free1 >= PAGES, "eager mmap took only %ld frames", free0 - free1);
  for (long p = 0; p < PAGES; p++) CHECK(*(volatile long*)(a + p * PAGE) == 0, "page %ld not zero", p);
  for (long p = 0; p < PAGES; p++) *(volatile long*)(a + p * PAGE + 8) = p;
  long f1 = self_counter(&Counters::page_faults);
  if (g_counters) EXPECT(f1 - f0, g_demand ? PAGES : 0);
  // The kernel's own accesses page in too: write() from a never-touched page.
  long b = mmap(nullptr, 2 * PAGE, RW);
  CHECK(b > 0, "mmap = %ld", b);
  int fds[2];
  EXPECT(pipe(fds), 0);
  EXPECT(write(fds[1], (void*)(b + PAGE - 4), 8), 8);  // straddles two untouched pages
  char got[8];
  EXPECT(read(fds[0], got, 8), 8);
  for (char ch : got) CHECK(ch == 0, "untouched memory read through write() is not zero");
  EXPECT(read(fds[0], (void*)(b + 4), 0), 0);
  EXPECT(write(fds[1], "abcdefgh", 8), 8);
  EXPECT(read(fds[0], (void*)(b + PAGE - 4), 8), 8);  // the kernel writes to untouched pages
  CHECK(memcmp((void*)(b + PAGE - 4), "abcdefgh", 8) == 0, "read() into untouched pages");
  EXPECT(close(fds[0]) | close(fds[1]), 0);
  EXPECT(munmap((void*)a, PAGES * PAGE) | munmap((void*)b, 2 * PAGE), 0);
  return true;
}

// Demand paging: touching more than there is kills the toucher with a message, and every
// frame comes back.
TEST(demand_oom) {
  if (!g_demand) {
    printf("  demand_oom: eager population refuses such a mapping at mmap (see mmap_enomem)\n");
    return true;
  }
  long before = mem_mark();
  long st = run_child([](long) {
    long pages = (long)get_stats().frames_free + 64;
    long a = mmap(nullptr, pages * PAGE, RW);
    if (a < 0) return 2;
    for (long p = 0; p < pages; p++) *(volatile long*)(a + p * PAGE) = p;
    return 0;  // not reached: the kernel ran out of frames first
  }, 0);
  EXPECT(st, -1);
  EXPECT(mem_mark(), before);
  return true;
}

// Issue 16 bug 7: munmap, fork and exit of a huge untouched (demand-paged) area walk the page
// table and skip the absent subtrees, instead of visiting every page (120 GiB: 31 million pages,
// about 0.9 s per call before). Counted in instructions (rdinstret counts the kernel's too):
// exact under `usertests --icount`; without -icount rdinstret is QEMU's host tick counter, so
// the bound is only checked there.
constexpr long HUGE_AREA = 120l << 30;
constexpr uint64_t HUGE_WALK_MAX_INSNS = 2000000;  // before: more than 31 million pages x ~20

int exit_with_huge_area(long) {
  long a = mmap(nullptr, HUGE_AREA, RW);
  if (a <= 0) return 1;
  *(volatile long*)(a + HUGE_AREA / 2) = 1;  // one touched page in the middle
  return 0;  // exit releases the area
}

TEST(huge_untouched_area) {
  if (!g_demand) {
    printf("  huge_untouched_area: memory is eager (a 120 GiB area cannot be mapped): not reachable here\n");
    return true;
  }
  long before = mem_mark();
  long a = mmap(nullptr, HUGE_AREA, RW);
  CHECK(a > 0, "mmap of 120 GiB on demand = %ld", a);
  *(volatile long*)(a + HUGE_AREA / 2) = 7;  // one present page among 31 million
  uint64_t t0 = rdinstret();
  long pid = fork();
  uint64_t fork_insns = rdinstret() - t0;
  if (pid == 0) exit(*(volatile long*)(a + HUGE_AREA / 2) == 7 ? 0 : 1);
  CHECK(pid > 0, "fork with a 120 GiB area = %ld", pid);
  int st = 0;
  EXPECT(waitpid(pid, &st, 0), pid);
  EXPECT(st, 0);
  t0 = rdinstret();
  EXPECT(munmap((void*)a, HUGE_AREA), 0);
  uint64_t munmap_insns = rdinstret() - t0;
  t0 = rdinstret();
  EXPECT(run_child(exit_with_huge_area, 0), 0);
  uint64_t exit_insns = rdinstret() - t0;
  printf("  huge_untouched_area: fork %lu, munmap %lu, a child's map+touch+exit %lu %s\n", fork_insns,
         munmap_insns, exit_insns, g_icount ? "instructions" : "(host ticks: not under -icount)");
  if (g_icount) {
    CHECK(fork_insns < HUGE_WALK_MAX_INSNS, "fork took %lu instructions", fork_insns);
    CHECK(munmap_insns < HUGE_WALK_MAX_INSNS, "munmap took %lu instructions", munmap_insns);
    CHECK(exit_insns < 3 * HUGE_WALK_MAX_INSNS, "fork+exit took %lu instructions", exit_insns);
  }
  EXPECT(mem_mark(), before);
  return true;
}

// Issue 16 bug 9: the kernel heap gives its pages back. Many one-page areas (one heap node
// each) take heap pages; once they are unmapped, the heap holds what it held before, plus at
// most one spare empty page per size class. Before, every page stayed in the heap for good.
constexpr long HEAP_AREAS = 6000;
constexpr long HEAP_SPARE_MAX = 9;  // size classes 16 B .. 4 KiB

TEST(heap_returns_frames) {
  long before = mem_mark();
  uint64_t heap0 = get_stats().heap_pages;
  // Every other page, so that no two areas touch (each is its own node).
  for (long i = 0; i < HEAP_AREAS; i++)
    CHECK(mmap((void*)(FIXED + 2 * i * PAGE), PAGE, RW) == FIXED + 2 * i * PAGE, "mmap %ld failed", i);
  uint64_t heap1 = get_stats().heap_pages;
  for (long i = 0; i < HEAP_AREAS; i++) EXPECT(munmap((void*)(FIXED + 2 * i * PAGE), PAGE), 0);
  uint64_t heap2 = get_stats().heap_pages;
  printf("  heap_returns_frames: heap pages %lu, with %ld areas %lu, after munmap %lu\n", heap0,
         HEAP_AREAS, heap1, heap2);
  CHECK(heap1 > heap0 + HEAP_SPARE_MAX, "%ld areas took only %lu heap pages", HEAP_AREAS, heap1 - heap0);
  CHECK(heap2 <= heap0 + HEAP_SPARE_MAX, "the heap kept %lu of %lu pages", heap2 - heap0, heap1 - heap0);
  EXPECT(mem_mark(), before);
  return true;
}

}  // namespace
