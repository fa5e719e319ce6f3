// usertests: time, stats, programs, bench_echo, diag.
#include "framework.hpp"

namespace {

TEST(time) {
  long t0 = get_time_ns();
  CHECK(t0 > 0, "get_time = %ld", t0);
  long prev = t0;
  for (int i = 0; i < 1000; i++) {
    long t = get_time_ns();
    CHECK(t >= prev, "time went backwards: %ld then %ld", prev, t);
    prev = t;
  }
  long a = get_time_ns();
  EXPECT(sleep_ns(10 * MS), 0);
  long b = get_time_ns();
  CHECK(b - a >= 10 * MS, "sleep(10 ms) returned after %ld ns", b - a);
  a = get_time_ns();
  EXPECT(sleep_ns(50 * MS), 0);
  b = get_time_ns();
  CHECK(b - a >= 50 * MS, "sleep(50 ms) returned after %ld ns", b - a);
  EXPECT(sleep_ns(0), 0);
  EXPECT(sleep_ns(1), 0);
  EXPECT(sleep_ns(-1), -EINVAL);
  EXPECT(sleep_ns((long)(1ul << 63)), -EINVAL);
  // get_time is the timebase in nanoseconds: it advances like rdtime scaled by timebase_hz.
  KernelStats s = get_stats();
  CHECK(s.timebase_hz > 0, "timebase_hz = %lu", s.timebase_hz);
  // Each get_time is bracketed by two rdtime reads, so the check is an ordering, not a
  // tolerance: a host that stalls the guest between two reads cannot make it fail.
  uint64_t hz = s.timebase_hz;
  auto to_ns = [hz](uint64_t ticks) {  // no 128-bit division: libgcc's is hard-float
    return (long)(ticks / hz * 1000000000u + ticks % hz * 1000000000u / hz);
  };
  uint64_t r0 = rdtime();
  long g0 = get_time_ns();
  uint64_t r1 = rdtime();
  sleep_ns(30 * MS);
  uint64_t r2 = rdtime();
  long g1 = get_time_ns();
  uint64_t r3 = rdtime();
  // g1 - g0 lies between the shortest and the longest rdtime span around it (1 ns of slack
  // each way for the integer conversion).
  long lo = to_ns(r2 - r1), hi = to_ns(r3 - r0);
  CHECK(g1 - g0 >= lo - 1 && g1 - g0 <= hi + 1,
        "30 ms by get_time = %ld ns, by rdtime between %ld and %ld ns", g1 - g0, lo, hi);
  CHECK(lo >= 30 * MS, "sleep(30 ms) lasted %ld ns by rdtime", lo);
  return true;
}

// ---------------------------------------------------------------- stats, programs, bench_echo, diag
TEST(stats) {
  KernelStats s;
  memset(&s, 0xff, sizeof s);
  EXPECT(stats(&s), 0);
  CHECK(s.scheme >= 1 && s.scheme <= 3, "scheme = %lu", s.scheme);
  CHECK(s.asid_enabled <= 1, "asid_enabled = %lu", s.asid_enabled);
  CHECK(s.timebase_hz > 0, "timebase_hz = %lu", s.timebase_hz);
  CHECK(s.frames_total > 0 && s.frames_free <= s.frames_total, "frames %lu free of %lu",
        s.frames_free, s.frames_total);
  if (!g_counters) return counters_read_zero("stats");
  CHECK(s.self.syscalls >= 1 && s.self.traps >= s.self.syscalls, "self: %lu traps, %lu syscalls",
        s.self.traps, s.self.syscalls);
  CHECK(s.global.syscalls >= s.self.syscalls && s.global.traps >= s.self.traps,
        "global counters smaller than our own");
  EXPECT(s.self.faults, 0);
  CHECK(s.self.pt_pages >= 1 && s.self.pt_pages_kernel <= s.self.pt_pages,
        "pt_pages %lu, of which kernel %lu", s.self.pt_pages, s.self.pt_pages_kernel);
  CHECK(s.self.context_switches >= 1, "we run, so we were switched in at least once");
  for (const BadPtr& b : BAD_PTRS) {
    long r = stats((KernelStats*)b.addr);
    CHECK(r == -EFAULT, "stats(%s) = %ld, want -EFAULT", b.what, r);
  }
  EXPECT(stats((KernelStats*)text_addr()), -EFAULT);
  EXPECT(stats((KernelStats*)rodata_addr()), -EFAULT);
  long e = edge_page();
  EXPECT(stats((KernelStats*)(e + PAGE - 8)), -EFAULT);
  return true;
}

bool has_name(const char* list, long n, const char* name) {
  for (long i = 0; i < n; i += (long)strlen(list + i) + 1)
    if (strcmp(list + i, name) == 0) return true;
  return false;
}

TEST(programs) {
  static char buf[4096];
  memset(buf, 0, sizeof buf);
  long n = programs(buf, sizeof buf - 1);
  CHECK(n > 0 && n < (long)sizeof buf, "programs = %ld", n);
  const char* names[] = {"sh", "usertests", "echo", "kaslr_probe", "bench_null", "bench_copy",
                         "bench_ctx", "bench_tlb", "bench_fork", "bench_exec", "bench_mmap",
                         "bench_timer"};
  for (const char* name : names) CHECK(has_name(buf, n, name), "'%s' missing from the list", name);
  EXPECT(programs(buf, 0), n);  // nothing copied, the total still reported
  char small[8];
  memset(small, 0x55, sizeof small);
  EXPECT(programs(small, 3), n);
  CHECK(memcmp(small, buf, 3) == 0 && small[3] == 0x55, "programs(buf, 3) copied the wrong bytes");
  for (const BadPtr& b : BAD_PTRS) {
    long r = programs((char*)b.addr, 16);
    CHECK(r == -EFAULT, "programs(%s, 16) = %ld, want -EFAULT", b.what, r);
  }
  EXPECT(programs((char*)text_addr(), 16), -EFAULT);
  long e = edge_page();
  EXPECT(programs((char*)(e + PAGE - 4), 16), -EFAULT);
  return true;
}

TEST(bench_echo) {
  constexpr long MAX = 65536;
  long in = mmap(nullptr, MAX + PAGE, RW);
  long out = mmap(nullptr, MAX + PAGE, RW);
  CHECK(in > 0 && out > 0, "mmap = %ld, %ld", in, out);
  for (long i = 0; i < MAX + PAGE; i++) ((char*)in)[i] = (char)(i * 7 + 3);
  const long sizes[] = {0, 1, 7, 8, 4095, 4096, 4097, 12345, MAX};
  for (long n : sizes) {
    memset((void*)out, 0, MAX + PAGE);
    long r = bench_echo((void*)in, (void*)out, (size_t)n);
    CHECK(r == n, "bench_echo(%ld) = %ld", n, r);
    CHECK(memcmp((void*)in, (void*)out, (size_t)n) == 0, "bench_echo(%ld) copied wrong bytes", n);
    CHECK(((char*)out)[n] == 0, "bench_echo(%ld) wrote past the end", n);
  }
  // Unaligned buffers.
  memset((void*)out, 0, MAX);
  EXPECT(bench_echo((char*)in + 3, (char*)out + 5, 1000), 1000);
  CHECK(memcmp((char*)in + 3, (char*)out + 5, 1000) == 0, "unaligned bench_echo copied wrong bytes");
  // Bad lengths.
  EXPECT(bench_echo((void*)in, (void*)out, MAX + 1), -EINVAL);
  EXPECT(bench_echo((void*)in, (void*)out, ~0ul), -EINVAL);
  EXPECT(bench_echo((void*)in, (void*)out, 1ul << 40), -EINVAL);
  // Bad pointers on either side.
  for (const BadPtr& b : BAD_PTRS) {
    long r = bench_echo((void*)b.addr, (void*)out, 16);
    CHECK(r == -EFAULT, "bench_echo(in %s) = %ld, want -EFAULT", b.what, r);
    r = bench_echo((void*)in, (void*)b.addr, 16);
    CHECK(r == -EFAULT, "bench_echo(out %s) = %ld, want -EFAULT", b.what, r);
  }
  EXPECT(bench_echo((void*)in, (void*)text_addr(), 16), -EFAULT);
  long e = edge_page();
  EXPECT(bench_echo((void*)(e + PAGE - 8), (void*)out, 16), -EFAULT);
  EXPECT(bench_echo((void*)in, (void*)(e + PAGE - 8), 16), -EFAULT);
  return true;
}

TEST(diag) {
  if (!g_diag) {
    // The hardened build: every operation, valid or not, fails the same way.
    for (long op = -1; op <= DIAG_PRIVATE_GLOBALS + 1; op++) EXPECT(diag(op, 0), -ENOSYS);
    printf("  diag: compiled out (CONFIG_DIAG=n): every operation fails with ENOSYS\n");
    return true;
  }
  const long bad_ops[] = {0, DIAG_PRIVATE_GLOBALS + 1, 10, -1, 1000, 1l << 40};
  for (long op : bad_ops) {
    long r = diag(op, 0);
    CHECK(r == -EINVAL, "diag(%ld) = %ld, want -EINVAL", op, r);
  }
  KernelStats s = get_stats();
  EXPECT(diag(DIAG_PT_PAGES, 0), s.self.pt_pages);
  long slot = diag(DIAG_KERNEL_SLOT, 0);
  long ka = diag(DIAG_KERNEL_ADDR, 0);
  long bits = diag(DIAG_SLOT_ENTROPY_MILLIBITS, 0);
  printf("  diag: scheme %ld, kernel slot %#lx, kernel address %#lx, slot entropy %ld.%03ld bits\n",
         g_scheme, slot, ka, bits / 1000, bits % 1000);
  CHECK(bits >= 0, "slot entropy = %ld", bits);
  // User pages and unmapped addresses are not kernel mappings, nor is any non-canonical
  // address (bits 63..39 differ from bit 38), even one whose low bits name a kernel mapping.
  EXPECT(diag(DIAG_IS_KERNEL_MAPPED, (long)&s), 0);
  EXPECT(diag(DIAG_IS_KERNEL_MAPPED, ka), g_scheme == 1 ? 0 : 1);  // scheme 1 maps no kernel data
  EXPECT(diag(DIAG_IS_KERNEL_MAPPED, ka & 0x7fffffffffffffffl), 0);
  EXPECT(diag(DIAG_IS_KERNEL_MAPPED, ka ^ (1l << 40)), 0);
  EXPECT(diag(DIAG_IS_KERNEL_MAPPED, 0x0000008000000000l), 0);
  EXPECT(diag(DIAG_ASID_CHECK, 0), 0);
  EXPECT(diag(DIAG_RUNQ_CHECK, 0), 0);
  EXPECT(diag(DIAG_IS_KERNEL_MAPPED, 0x10000), 0);
  EXPECT(diag(DIAG_IS_KERNEL_MAPPED, UNMAPPED), 0);
  EXPECT(diag(DIAG_IS_KERNEL_MAPPED, 0), 0);
  if (g_scheme == 1) {
    // The process's table holds no kernel window.
    EXPECT(diag(DIAG_IS_KERNEL_MAPPED, ka), 0);
    EXPECT(bits, 0);
  } else {
    CHECK(slot < 0 && slot >= (long)KERNEL_HALF && slot % MEGA == 0, "slot %#lx not a 2 MiB-aligned kernel VA", slot);
    CHECK(ka >= slot && ka - slot < (2l << 30), "kernel address %#lx outside the window at %#lx", ka, slot);
    EXPECT(diag(DIAG_IS_KERNEL_MAPPED, ka), 1);
    EXPECT(diag(DIAG_IS_KERNEL_MAPPED, slot), 1);
    // Scheme 2: a fixed window (0 bits), or one slot per boot with CONFIG_KASLR_BOOT.
    if (g_scheme == 2) CHECK(bits == 0 || bits >= 10000, "scheme 2 slot entropy %ld millibits", bits);
    if (g_scheme == 3) CHECK(bits >= 10000, "scheme 3 slot entropy only %ld millibits", bits);
  }
  return true;
}

}  // namespace
