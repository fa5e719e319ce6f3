// usertests: mmap, munmap and sbrk.
#include "framework.hpp"

namespace {

bool all_zero(long addr, long len) {
  for (long i = 0; i < len; i += 8)
    if (*(volatile long*)(addr + i) != 0) return false;
  return true;
}

TEST(mmap_basic) {
  long before = mem_mark();
  long a = mmap(nullptr, PAGE, RW);
  CHECK(a > 0 && a % PAGE == 0 && a < (long)USER_TOP, "mmap(0, 1 page) = %#lx", a);
  CHECK(all_zero(a, PAGE), "fresh mapping not zero-filled");
  memset((void*)a, 0x5a, PAGE);
  CHECK(*(volatile char*)(a + PAGE - 1) == 0x5a, "write did not stick");
  long b = mmap(nullptr, 3 * PAGE, RW);
  CHECK(b > 0 && b % PAGE == 0, "mmap(0, 3 pages) = %#lx", b);
  CHECK(b + 3 * PAGE <= a || b >= a + PAGE, "mappings overlap: %#lx and %#lx", a, b);
  long c = mmap(nullptr, 100, RW);  // rounded up to a page
  CHECK(c > 0, "mmap(0, 100) = %ld", c);
  *(volatile char*)(c + PAGE - 1) = 1;
  long x = mmap(nullptr, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
  CHECK(x > 0, "mmap RWX = %ld", x);
  long r = mmap(nullptr, PAGE, PROT_READ);
  CHECK(r > 0 && all_zero(r, PAGE), "mmap R = %ld", r);
  long rx = mmap(nullptr, PAGE, PROT_READ | PROT_EXEC);
  CHECK(rx > 0, "mmap RX = %ld", rx);
  long xo = mmap(nullptr, PAGE, PROT_EXEC);  // execute-only is a valid subset
  CHECK(xo > 0, "mmap X = %ld", xo);
  EXPECT(munmap((void*)a, PAGE), 0);
  EXPECT(munmap((void*)b, 3 * PAGE), 0);
  EXPECT(munmap((void*)c, 100), 0);
  EXPECT(munmap((void*)x, PAGE), 0);
  EXPECT(munmap((void*)r, PAGE), 0);
  EXPECT(munmap((void*)rx, PAGE), 0);
  EXPECT(munmap((void*)xo, PAGE), 0);
  EXPECT(mem_mark(), before);
  return true;
}

TEST(mmap_zero_fill) {
  // Dirty some frames, give them back, and map again: the new pages must be zero.
  for (int round = 0; round < 3; round++) {
    long a = mmap((void*)FIXED, 16 * PAGE, RW);
    EXPECT(a, FIXED);
    CHECK(all_zero(a, 16 * PAGE), "round %d: mapping not zero-filled", round);
    memset((void*)a, 0xa5, 16 * PAGE);
    EXPECT(munmap((void*)a, 16 * PAGE), 0);
  }
  long a = mmap(nullptr, 32 * PAGE, RW);
  CHECK(a > 0 && all_zero(a, 32 * PAGE), "kernel-placed mapping not zero-filled");
  return true;
}

TEST(mmap_fixed_overlap) {
  EXPECT(mmap((void*)FIXED, 2 * PAGE, RW), FIXED);
  EXPECT(mmap((void*)FIXED, PAGE, RW), -EINVAL);                // the same place
  EXPECT(mmap((void*)(FIXED + PAGE), PAGE, RW), -EINVAL);       // its second page
  EXPECT(mmap((void*)(FIXED - PAGE), 2 * PAGE, RW), -EINVAL);   // straddles its start
  EXPECT(mmap((void*)(FIXED + PAGE), 4 * PAGE, RW), -EINVAL);   // straddles its end
  EXPECT(mmap((void*)(FIXED - 4 * PAGE), 16 * PAGE, RW), -EINVAL);  // covers it
  EXPECT(mmap((void*)(FIXED - PAGE), PAGE, RW), FIXED - PAGE);   // adjacent below is fine
  EXPECT(mmap((void*)(FIXED + 2 * PAGE), PAGE, RW), FIXED + 2 * PAGE);  // and above
  for (long p = FIXED - PAGE; p < FIXED + 3 * PAGE; p += PAGE) *(volatile long*)p = p;
  for (long p = FIXED - PAGE; p < FIXED + 3 * PAGE; p += PAGE)
    CHECK(*(volatile long*)p == p, "page %#lx lost its contents", p);
  // The program image, the data, the heap and the stack are mappings too.
  long data_page = round_down((long)&g_reason, PAGE);
  long stack_page = round_down((long)&data_page, PAGE);
  long brk = sbrk(2 * PAGE);
  CHECK(brk > 0, "sbrk = %ld", brk);
  long heap_page = round_up(brk, PAGE);
  struct {
    long addr;
    const char* what;
  } taken[] = {
      {0x10000, "program text"},
      {round_down(rodata_addr(), PAGE), "read-only data"},
      {data_page, "data"},
      {heap_page, "heap"},
      {stack_page, "stack"},
      {STACK_TOP - PAGE, "stack top"},
  };
  for (auto& t : taken) {
    long r = mmap((void*)t.addr, PAGE, RW);
    CHECK(r == -EINVAL, "mmap over the %s (%#lx) = %ld, want -EINVAL", t.what, t.addr, r);
    r = munmap((void*)t.addr, PAGE);
    CHECK(r == -EINVAL, "munmap of the %s (%#lx) = %ld, want -EINVAL", t.what, t.addr, r);
  }
  // munmap of a range that covers an mmap area and then runs into the stack changes nothing.
  EXPECT(munmap((void*)(STACK_TOP - (1l << 30)), 1l << 30), -EINVAL);
  EXPECT(sbrk(-2 * PAGE), brk + 2 * PAGE);
  EXPECT(munmap((void*)(FIXED - PAGE), 4 * PAGE), 0);
  return true;
}

TEST(mmap_einval) {
  const long unaligned[] = {FIXED + 1, FIXED + 0x800, FIXED + PAGE - 1, 1};
  for (long a : unaligned) {
    long r = mmap((void*)a, PAGE, RW);
    CHECK(r == -EINVAL, "mmap(%#lx) = %ld, want -EINVAL", a, r);
  }
  EXPECT(mmap(nullptr, 0, RW), -EINVAL);
  EXPECT(mmap((void*)FIXED, 0, RW), -EINVAL);
  const int bad_prot[] = {0, PROT_WRITE, PROT_WRITE | PROT_EXEC, 8, 9, 15, 16, -1};
  for (int p : bad_prot) {
    long r = mmap(nullptr, PAGE, p);
    CHECK(r == -EINVAL, "mmap prot %d = %ld, want -EINVAL", p, r);
  }
  // Ranges that leave user space.
  struct {
    long addr, len;
  } outside[] = {
      {(long)USER_TOP - PAGE, 2 * PAGE}, {(long)USER_TOP, PAGE},       {0x3ffffff000, 2 * PAGE},
      {KADDR, PAGE},               {(long)KERNEL_HALF, PAGE},     {TRAMPOLINE, PAGE},
      {TRAMPOLINE, 2 * PAGE},      {-2 * PAGE, 4 * PAGE},
  };
  for (auto& o : outside) {
    long r = mmap((void*)o.addr, (size_t)o.len, RW);
    CHECK(r == -EINVAL, "mmap(%#lx, %#lx) = %ld, want -EINVAL", o.addr, o.len, r);
  }
  EXPECT(munmap((void*)(FIXED + 1), PAGE), -EINVAL);
  EXPECT(munmap((void*)(FIXED + 0x800), PAGE), -EINVAL);
  EXPECT(munmap((void*)FIXED, 0), -EINVAL);
  // Ranges that wrap past 2^64 or start above user space are invalid, not a silent no-op.
  EXPECT(munmap((void*)0xfffffffffffff000ul, 2 * PAGE), -EINVAL);
  EXPECT(munmap((void*)(USER_TOP - PAGE), ~0ul - PAGE), -EINVAL);
  EXPECT(munmap((void*)USER_TOP, PAGE), -EINVAL);
  EXPECT(munmap((void*)(USER_TOP - PAGE), PAGE), 0);  // the last user page: valid, nothing mapped
  return true;
}

TEST(mmap_enomem) {
  long before = mem_mark();
  KernelStats s = get_stats();
  long r = mmap(nullptr, 1ul << 40, RW);
  CHECK(r == -ENOMEM || r == -EINVAL, "mmap(0, 1 TiB) = %ld, want -ENOMEM or -EINVAL", r);
  r = mmap((void*)FIXED, 1ul << 40, RW);
  CHECK(r == -ENOMEM || r == -EINVAL, "mmap(FIXED, 1 TiB) = %ld, want -ENOMEM or -EINVAL", r);
  r = mmap(nullptr, ~0ul - PAGE + 2, RW);  // rounding up would wrap around
  CHECK(r == -ENOMEM || r == -EINVAL, "mmap(0, ~0) = %ld, want -ENOMEM or -EINVAL", r);
  // More pages than there are free frames: fails, and nothing stays mapped.
  // With demand paging such a mapping is allowed (pages come at the first touch).
  long pages = (long)s.frames_free + 256;
  r = mmap(nullptr, pages * PAGE, RW);
  if (g_demand) {
    CHECK(r > 0, "mmap on demand of %ld pages with %lu free = %ld", pages, s.frames_free, r);
    EXPECT(munmap((void*)r, pages * PAGE), 0);
  } else {
    CHECK(r == -ENOMEM, "mmap of %ld pages with %lu free = %ld, want -ENOMEM", pages, s.frames_free, r);
    r = mmap((void*)FIXED, pages * PAGE, RW);
    CHECK(r == -ENOMEM, "mmap(FIXED) of %ld pages = %ld, want -ENOMEM", pages, r);
  }
  EXPECT(mem_mark(), before);
  // Just under the free frames: the pages may fit, but with their page tables they should
  // not. Either way the outcome must be clean: all of it mapped, or nothing.
  s = get_stats();
  pages = (long)s.frames_free - 2;
  r = mmap((void*)FIXED, pages * PAGE, RW);
  CHECK(r == -ENOMEM || r == FIXED, "mmap of all but 2 free frames = %ld", r);
  if (r == FIXED) EXPECT(munmap((void*)FIXED, pages * PAGE), 0);
  EXPECT(mem_mark(), before);
  EXPECT(mmap((void*)FIXED, PAGE, RW), FIXED);  // and the range is still free
  return true;
}


TEST(munmap_partial) {
  long before = mem_mark();
  EXPECT(mmap((void*)FIXED, 3 * PAGE, RW), FIXED);
  for (int i = 0; i < 3; i++) *(volatile long*)(FIXED + i * PAGE) = 100 + i;
  EXPECT(munmap((void*)(FIXED + PAGE), PAGE), 0);  // the middle
  // Both ends still work.
  EXPECT(*(volatile long*)FIXED, 100);
  EXPECT(*(volatile long*)(FIXED + 2 * PAGE), 102);
  *(volatile long*)FIXED = 200;
  *(volatile long*)(FIXED + 2 * PAGE + PAGE - 8) = 202;
  EXPECT_KILLED("touching the unmapped middle page", touch, FIXED + PAGE);
  EXPECT(munmap((void*)(FIXED + PAGE), PAGE), 0);  // again: nothing there, still 0
  // The hole can be mapped again and is zero.
  EXPECT(mmap((void*)(FIXED + PAGE), PAGE, RW), FIXED + PAGE);
  CHECK(all_zero(FIXED + PAGE, PAGE), "remapped hole not zero");
  EXPECT(munmap((void*)FIXED, 3 * PAGE), 0);
  EXPECT(munmap((void*)FIXED, 3 * PAGE), 0);  // double munmap
  EXPECT_KILLED("touching an unmapped range", touch, FIXED);
  // len is rounded up: munmap(addr, 1) removes the whole page.
  EXPECT(mmap((void*)FIXED, 2 * PAGE, RW), FIXED);
  EXPECT(munmap((void*)FIXED, 1), 0);
  EXPECT_KILLED("touching a page unmapped with len 1", touch, FIXED);
  *(volatile long*)(FIXED + PAGE) = 5;  // the second page stays
  // One munmap across several mappings and the gaps between them.
  EXPECT(mmap((void*)(FIXED + 4 * PAGE), PAGE, RW), FIXED + 4 * PAGE);
  EXPECT(mmap((void*)(FIXED + 8 * PAGE), 2 * PAGE, RW), FIXED + 8 * PAGE);
  EXPECT(munmap((void*)FIXED, 1l << 30), 0);
  EXPECT_KILLED("touching a page removed by a large munmap", touch, FIXED + 8 * PAGE);
  EXPECT(munmap((void*)UNMAPPED, 16 * PAGE), 0);  // never mapped: ignored
  EXPECT(mem_mark(), before);
  return true;
}

// Copy a `ret` instruction into a page and call it.
void call_page(long addr) {
  asm volatile("fence.i" ::: "memory");
  ((void (*)())addr)();
}

TEST(mmap_prot) {
  long ro = mmap(nullptr, PAGE, PROT_READ);
  CHECK(ro > 0, "mmap R = %ld", ro);
  EXPECT(*(volatile long*)ro, 0);  // readable
  EXPECT_KILLED("writing to a PROT_READ mapping", poke, ro);
  // The kernel must not write to it either.
  KernelStats s;
  EXPECT(stats((KernelStats*)ro), -EFAULT);
  EXPECT(bench_echo(&s, (void*)ro, 8), -EFAULT);
  int st;
  long pid = fork();
  if (pid == 0) exit(1);
  EXPECT(waitpid(pid, (int*)ro, 0), -EFAULT);
  EXPECT(waitpid(pid, &st, 0), pid);

  long rwx = mmap(nullptr, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
  CHECK(rwx > 0, "mmap RWX = %ld", rwx);
  *(volatile uint32_t*)rwx = RET_INSN;
  call_page(rwx);  // executes and returns

  long rw = mmap(nullptr, PAGE, RW);
  CHECK(rw > 0, "mmap RW = %ld", rw);
  *(volatile uint32_t*)rw = RET_INSN;
  EXPECT_KILLED("executing a mapping without PROT_EXEC", call_page, rw);
  EXPECT_KILLED("executing a PROT_READ mapping", call_page, ro);
  return true;
}

// Mappings are copied by fork: same contents, then independent.
TEST(mmap_fork) {
  EXPECT(mmap((void*)FIXED, 4 * PAGE, RW), FIXED);
  for (int i = 0; i < 4; i++) *(volatile long*)(FIXED + i * PAGE) = 1000 + i;
  long pid = fork();
  CHECK(pid >= 0, "fork = %ld", pid);
  if (pid == 0) {
    for (int i = 0; i < 4; i++)
      if (*(volatile long*)(FIXED + i * PAGE) != 1000 + i) exit(1);
    for (int i = 0; i < 4; i++) *(volatile long*)(FIXED + i * PAGE) = 2000 + i;
    if (munmap((void*)FIXED, PAGE) != 0) exit(2);
    exit(0);
  }
  int st = -2;
  EXPECT(waitpid(pid, &st, 0), pid);
  CHECK(st == 0, "child saw wrong contents or could not munmap (status %d)", st);
  for (int i = 0; i < 4; i++) EXPECT(*(volatile long*)(FIXED + i * PAGE), 1000 + i);
  return true;
}

TEST(mmap_many) {
  constexpr int N = 64;
  long before = mem_mark();
  long addrs[N];
  for (int i = 0; i < N; i++) {
    addrs[i] = mmap(nullptr, PAGE, RW);
    CHECK(addrs[i] > 0, "mmap %d = %ld", i, addrs[i]);
    for (int k = 0; k < i; k++) CHECK(addrs[k] != addrs[i], "mmap returned %#lx twice", addrs[i]);
    *(volatile long*)addrs[i] = i;
  }
  for (int i = 0; i < N; i++) EXPECT(*(volatile long*)addrs[i], i);
  for (int i = 0; i < N; i += 2) EXPECT(munmap((void*)addrs[i], PAGE), 0);
  for (int i = 1; i < N; i += 2) EXPECT(*(volatile long*)addrs[i], i);
  for (int i = 1; i < N; i += 2) EXPECT(munmap((void*)addrs[i], PAGE), 0);
  EXPECT(mem_mark(), before);
  return true;
}

// The number of areas is bounded by memory, not by a fixed table: 600 separate mappings (the
// kernel once stopped at 170), then a munmap that splits one of them, then all unmapped.
TEST(mmap_many_areas) {
  constexpr int N = 600;
  long before = mem_mark();
  int made = 0;
  for (; made < N; made++) {
    long a = mmap((void*)(FIXED + 2l * made * PAGE), PAGE, RW);  // a gap after each: no neighbours
    CHECK(a == FIXED + 2l * made * PAGE, "mmap number %d = %ld", made, a);
    *(volatile long*)a = made;
  }
  long big = mmap((void*)(FIXED + 2l * N * PAGE), 3 * PAGE, RW);
  CHECK(big > 0, "mmap of the area to split = %ld", big);
  EXPECT(munmap((void*)(big + PAGE), PAGE), 0);  // split: areas N + 2
  EXPECT(*(volatile long*)(FIXED + 2l * (N - 1) * PAGE), N - 1);
  EXPECT(munmap((void*)big, 3 * PAGE), 0);
  EXPECT(munmap((void*)FIXED, 2l * N * PAGE), 0);  // one call over all of them and the gaps
  EXPECT(mem_mark(), before);
  return true;
}

// ---------------------------------------------------------------- sbrk
TEST(sbrk) {
  long b0 = sbrk(0);
  // The page holding the break may be shared with our parent (copy-on-write): make it ours
  // before counting, since the test writes to it.
  *(volatile char*)(b0 - 1) = *(volatile char*)(b0 - 1);
  long before = mem_mark();
  CHECK(b0 == g_initial_brk, "sbrk(0) = %#lx, want the initial break %#lx", b0, g_initial_brk);
  // Grow by one page, then ten, and use every byte.
  EXPECT(sbrk(PAGE), b0);
  EXPECT(sbrk(0), b0 + PAGE);
  memset((void*)b0, 1, PAGE);
  EXPECT(sbrk(10 * PAGE), b0 + PAGE);
  EXPECT(sbrk(0), b0 + 11 * PAGE);
  long fresh = round_up(b0 + PAGE, PAGE);  // whole pages that did not exist before
  CHECK(all_zero(fresh, b0 + 11 * PAGE - fresh), "grown heap not zero-filled");
  memset((void*)(b0 + PAGE), 2, 10 * PAGE);
  EXPECT(*(volatile char*)(b0 + 11 * PAGE - 1), 2);
  // Shrink back to where we started.
  EXPECT(sbrk(-11 * PAGE), b0 + 11 * PAGE);
  EXPECT(sbrk(0), b0);
  EXPECT_KILLED("touching the heap after shrinking", touch, round_up(b0, PAGE) + PAGE);
  // Odd sizes move the break byte by byte.
  EXPECT(sbrk(5), b0);
  EXPECT(sbrk(0), b0 + 5);
  *(volatile char*)(b0 + 4) = 9;
  EXPECT(sbrk(-5), b0 + 5);
  EXPECT(sbrk(0), b0);
  // Regrown pages are zero again.
  EXPECT(sbrk(4 * PAGE), b0);
  fresh = round_up(b0, PAGE);
  CHECK(all_zero(fresh, b0 + 4 * PAGE - fresh), "regrown heap not zero-filled");
  EXPECT(sbrk(-4 * PAGE), b0 + 4 * PAGE);
  // Not below the initial break.
  EXPECT(sbrk(-1), -EINVAL);
  EXPECT(sbrk(-PAGE), -EINVAL);
  EXPECT(sbrk((long)(1ul << 63)), -EINVAL);
  EXPECT(sbrk(0), b0);
  // Not more than there is.
  EXPECT(sbrk(1l << 40), -ENOMEM);
  KernelStats s = get_stats();
  long huge = (long)(s.frames_free + 256) * PAGE;
  if (g_demand) {  // allowed on demand: the pages come at the first touch
    EXPECT(sbrk(huge), b0);
    EXPECT(sbrk(-huge), b0 + huge);
  } else {
    EXPECT(sbrk(huge), -ENOMEM);
  }
  EXPECT(sbrk(0), b0);
  EXPECT(mem_mark(), before);
  return true;
}

}  // namespace
