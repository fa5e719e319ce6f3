// bench_shootdown [iters]: the cost of munmap when the address space is live on other harts.
// The process has one thread on hart 0 that maps `pages` pages, touches each (so that every
// page has a translation to remove), and unmaps them, and `remote` threads pinned to harts
// 1..remote that spin in user mode on the same address space (so that their TLBs may hold its
// translations and the kernel must fence them). remote = 0..online-1, pages = 1, 16, 256.
//
// insns_per_op: hart 0's rdinstret delta per munmap (the unmap, the local fence, and sending
// and waiting for the remote fences). Under -icount rdinstret is the machine's count and the
// harts run in turn, so the wait includes every instruction of the remote harts' turns (their
// spinning and their fence handlers): an upper bound set by QEMU's turn length. Extra keys per munmap, from stats(): remote_fences
// (shootdown requests sent), ipis (IPIs sent), shootdowns (operations that needed a remote
// fence). Modelled cycles come from the [bench_shootdown.tlb] runs (region = the munmap only).
//
//! [bench_shootdown]
//! regions = "1120 + 8 * (0, 1, 2 for 1, 16, 256 pages) + remote (1120..1143)"
//! arguments = "iters (200)"
//! op = "`munmap` of `pages` touched pages with threads on `remote` other harts"
//! params = "`pages` (1, 16, 256), `remote` (0..online-1); extra `remote_fences`, `ipis`, `shootdowns` per op"
//! checks = "every page reads back its pattern before the unmap"
//! args = ["200"]
//! quick = ["10"]
//! lines = 3
//! harts = true
//! wall = false
//! [bench_shootdown.tlb]
//! args = ["20"]
//! quick = ["4"]
#include "harts.hpp"

constexpr int REGION = 1120;
constexpr long PAGE = 4096;

struct Spinner {
  long hart;
  volatile long* ready;
  volatile long* stop;
  long touched;
};

// Spin in user mode on the shared address space until told to stop (writing a page of its
// own stack each round keeps a user translation of this space live on its hart).
static long spinner(void* arg) {
  auto* s = (Spinner*)arg;
  pin(s->hart);
  atomic_add(s->ready, 1);
  volatile long local = 0;
  while (atomic_load(s->stop) == 0) local = local + 1;
  s->touched = local;
  return 0;
}

static void one_point(long pages, long remote, long iters) {
  static volatile long ready, stop;
  ready = 0;
  stop = 0;
  static Spinner sp[MAX_HARTS];
  long tids[MAX_HARTS];
  for (long r = 0; r < remote; r++) {
    sp[r] = Spinner{r + 1, &ready, &stop, 0};
    tids[r] = spawn(spinner, &sp[r]);
  }
  while (atomic_load(&ready) < remote) yield();
  uint64_t insns = 0, fences = 0, ipis = 0, downs = 0;
  Counters c0 = self_counters();
  uint64_t t0 = rdtime();
  for (long i = 0; i < iters; i++) {
    long a = mmap(nullptr, (size_t)(pages * PAGE), uapi::PROT_READ | uapi::PROT_WRITE);
    if (a < 0) bench_fail("mmap of %ld pages = %ld", pages, a);
    for (long p = 0; p < pages; p++) *(volatile long*)(a + p * PAGE) = p ^ i;
    for (long p = 0; p < pages; p++)
      if (*(volatile long*)(a + p * PAGE) != (p ^ i)) bench_fail("page %ld lost its value", p);
    KernelStats s0 = all_stats();
    uint64_t i0 = rdinstret();
    region_begin<REGION>((int)(8 * (pages >= 256 ? 2 : pages >= 16 ? 1 : 0) + remote));
    long r = munmap((void*)a, (size_t)(pages * PAGE));
    TLB_REGION_END();
    uint64_t i1 = rdinstret();
    KernelStats s1 = all_stats();
    if (r != 0) bench_fail("munmap = %ld", r);
    insns += i1 - i0;
    fences += s1.remote_fences_sent - s0.remote_fences_sent;
    ipis += s1.ipis_sent - s0.ipis_sent;
    downs += s1.tlb_shootdowns - s0.tlb_shootdowns;
  }
  uint64_t t1 = rdtime();
  Counters c1 = self_counters();
  atomic_store(&stop, 1);
  for (long r = 0; r < remote; r++) join_ok(tids[r]);
  // Counters and time span the whole loop (mmap, touches, stats calls): per op they show what a
  // map-touch-unmap round costs; insns_per_op is the munmap alone.
  Deltas d;
  d.ns = (int64_t)ticks_to_ns(t1 - t0);
  d.insns = (int64_t)insns;
  d.satp = (int64_t)(c1.satp_writes - c0.satp_writes);
  d.sfence = (int64_t)(sfences(c1) - sfences(c0));
  d.traps = (int64_t)(c1.traps - c0.traps);
  d.switches = (int64_t)(c1.context_switches - c0.context_switches);
  char params[48], extra[160], f[32], ip[32], dn[32];
  snprintf(params, sizeof params, "{\"pages\":%ld,\"remote\":%ld}", pages, remote);
  fmt_per_op(f, sizeof f, (int64_t)fences, (uint64_t)iters);
  fmt_per_op(ip, sizeof ip, (int64_t)ipis, (uint64_t)iters);
  fmt_per_op(dn, sizeof dn, (int64_t)downs, (uint64_t)iters);
  snprintf(extra, sizeof extra, ",\"remote_fences\":%s,\"ipis\":%s,\"shootdowns\":%s", f, ip, dn);
  bench_report_deltas("bench_shootdown", params, (uint64_t)iters, (uint64_t)iters, d, extra);
}

int main(int argc, char** argv) {
  long iters = bench_arg(argc, argv, 1, 200);
  bench_init();
  long n = harts_online();
  pin(0);
  const long sizes[] = {1, 16, 256};
  for (long remote = 0; remote < n && remote < MAX_HARTS; remote++)
    for (long pages : sizes) one_point(pages, remote, iters);
  bench_mem();
  return 0;
}
