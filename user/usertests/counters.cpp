// usertests: event counters.
#include "framework.hpp"

namespace {

TEST(counters) {
  if (!g_counters) return counters_read_zero("counters");
  constexpr long N = 1000;
  long pid = getpid();
  KernelStats a = get_stats();
  long sum = 0;
  for (long i = 0; i < N; i++) sum += getpid();
  KernelStats b = get_stats();
  CHECK(sum == N * pid, "sum of getpid = %ld", sum);
  long syscalls = (long)(b.self.syscalls - a.self.syscalls);
  long traps = (long)(b.self.traps - a.self.traps);
  long irqs = (long)(b.self.interrupts - a.self.interrupts);
  long satp = (long)(b.self.satp_writes - a.self.satp_writes);
  long switches = (long)(b.self.context_switches - a.self.context_switches);
  long sfence = (long)(b.self.sfence_all + b.self.sfence_asid + b.self.sfence_addr -
                       a.self.sfence_all - a.self.sfence_asid - a.self.sfence_addr);
  printf("  counters over %ld getpid: syscalls %ld traps %ld interrupts %ld satp %ld switches %ld "
         "sfence %ld\n", N, syscalls, traps, irqs, satp, switches, sfence);
  EXPECT(syscalls, N + 1);  // the getpids and the second stats
  EXPECT(traps, syscalls + irqs);
  CHECK(b.global.syscalls - a.global.syscalls >= (uint64_t)syscalls, "global syscalls grew less");
  if (g_scheme == 1) {
    CHECK(satp == 2 * traps, "scheme 1: %ld satp writes for %ld traps, want 2 per trap", satp, traps);
  } else {
    CHECK(satp == switches, "scheme %ld: %ld satp writes for %ld switches, want equal", g_scheme,
          satp, switches);
  }
  return true;
}

// Two processes pass the CPU back and forth with yield.
struct Deltas {
  long switches, satp, traps;
};
Deltas yield_loop(int n) {
  KernelStats a = get_stats();
  for (int i = 0; i < n; i++) yield();
  KernelStats b = get_stats();
  return {(long)(b.self.context_switches - a.self.context_switches),
          (long)(b.self.satp_writes - a.self.satp_writes), (long)(b.self.traps - a.self.traps)};
}

// 0 if the deltas are right for this scheme, else a bit mask of what is wrong.
int check_deltas(const Deltas& d) {
  int bad = 0;
  if (d.switches < 900) bad |= 1;
  if (g_scheme != 1 && d.satp != d.switches) bad |= 2;
  if (g_scheme == 1 && d.satp != 2 * d.traps) bad |= 4;
  return bad;
}

TEST(pingpong) {
  if (!g_counters) return counters_read_zero("pingpong");
  constexpr int N = 1000;
  // Both on hart 0: with several harts online they would otherwise run side by side and a
  // yield would find nothing else to switch to (the test is about the switch's counters).
  EXPECT(sched_pin(0), 0);
  long pid = fork();
  CHECK(pid >= 0, "fork = %ld", pid);
  if (pid == 0) {
    if (sched_pin(0) != 0) exit(8);
    Deltas d = yield_loop(N);
    int bad = check_deltas(d);
    if (bad)
      printf("  pingpong child: switches %ld satp %ld traps %ld\n", d.switches, d.satp, d.traps);
    exit(bad);
  }
  Deltas d = yield_loop(N);
  int st = -2;
  EXPECT(waitpid(pid, &st, 0), pid);
  EXPECT(sched_pin(-1), 0);
  printf("  pingpong parent: %d yields, switches %ld satp %ld traps %ld\n", N, d.switches, d.satp,
         d.traps);
  int bad = check_deltas(d);
  CHECK(bad == 0, "parent deltas wrong (mask %d: 1 too few switches, 2 satp != switches, "
        "4 satp != 2 * traps)", bad);
  CHECK(st == 0, "child deltas wrong (status %d, same mask)", st);
  return true;
}

}  // namespace
