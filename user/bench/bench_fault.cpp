// bench_fault [iters] [kb...]: page faults, in the style of lmbench's lat_pagefault.
//
//   first_touch  mmap kb KiB and touch each page once (default 4 KiB .. 64 MiB by powers of 4):
//                per page. With CONFIG_MEMORY_DEMAND each touch is a fault that maps a zeroed
//                page; with eager population there is no fault (the zeroing happened at mmap,
//                which is inside the timed span too, so the two are comparable per page).
//   cow          a parent touches kb KiB, forks, and the child writes each page: per page, in
//                the child. With CONFIG_FORK_COW each write is a copy-on-write fault.
//   protfault    a child stores to a read-only page and is killed; the parent measures fork +
//                fault + kill + waitpid per op and checks the kill status (the parent survives).
//
// The harness's declaration of this benchmark (harness/benchspec.py reads it; TOML after `//!`):
//! [bench_fault]
//! wall = false  # wall time only for bench_null and bench_ctx (reported, never ranked)
//! regions = "720 + log2(kb/4) first_touch; 740 + log2(kb/4) cow; 760 protfault"
//! arguments = "iters (40), kb... (4 .. 65536)"
//! op = "`first_touch`: mmap and touch each page; `cow`: a forked child writes each page; `protfault`: a child killed by a store to a read-only page"
//! params = "`mode`, `kb`; extra `faults`"
//! checks = "values survive, the kill status"
//! args = ["40", "4", "16", "64", "256", "1024", "4096", "16384", "65536"]
//! quick = ["5", "4", "64", "1024"]
//! lines = 16
//! quick_lines = 7
//! paging = true
#include "bench.hpp"

using namespace uapi;

constexpr int REGION = 720;

static long fault_counter() {
  KernelStats s;
  stats(&s);
  return (long)(s.self.page_faults + s.self.cow_faults);
}

static void first_touch(long kb) {
  long bytes = kb * 1024, pages = bytes / 4096;
  long f0 = fault_counter();
  Sample a, b;
  bench_begin(a);
  region_begin<REGION>(ilog2((unsigned long)(kb / 4)));
  long m = mmap(nullptr, (size_t)bytes, PROT_READ | PROT_WRITE);
  if (m < 0) bench_fail("bench_fault: mmap of %ld KiB failed (%ld)", kb, m);
  for (long p = 0; p < pages; p++) *(volatile long*)(m + p * 4096) = p;
  TLB_REGION_END();
  bench_end(b);
  long faults = fault_counter() - f0;
  for (long p = 0; p < pages; p++)
    if (*(volatile long*)(m + p * 4096) != p) bench_fail("bench_fault: page %ld lost its value", p);
  munmap((void*)m, (size_t)bytes);
  char params[64], extra[48];
  snprintf(params, sizeof params, "{\"mode\":\"first_touch\",\"kb\":%ld}", kb);
  snprintf(extra, sizeof extra, ",\"faults\":%ld", faults);
  bench_report_deltas("bench_fault", params, (uint64_t)pages, (uint64_t)pages, bench_deltas(a, b), extra);
}

static void cow(long kb) {
  long bytes = kb * 1024, pages = bytes / 4096;
  long m = mmap(nullptr, (size_t)bytes, PROT_READ | PROT_WRITE);
  if (m < 0) bench_fail("bench_fault: mmap of %ld KiB failed (%ld)", kb, m);
  for (long p = 0; p < pages; p++) *(volatile long*)(m + p * 4096) = p;
  long pid = fork();
  if (pid < 0) bench_fail("bench_fault: fork failed (%ld)", pid);
  if (pid == 0) {
    long f0 = fault_counter();
    Sample a, b;
    sample_begin(a);
    region_begin<REGION + 20>(ilog2((unsigned long)(kb / 4)));
    for (long p = 0; p < pages; p++) *(volatile long*)(m + p * 4096) = -p;
    TLB_REGION_END();
    bench_end(b);
    long faults = fault_counter() - f0;
    char params[64], extra[48];
    snprintf(params, sizeof params, "{\"mode\":\"cow\",\"kb\":%ld}", kb);
    snprintf(extra, sizeof extra, ",\"faults\":%ld", faults);
    bench_report_deltas("bench_fault", params, (uint64_t)pages, (uint64_t)pages, bench_deltas(a, b), extra);
    exit(0);
  }
  int st = -1;
  if (waitpid(pid, &st, 0) != pid || st != 0) bench_fail("bench_fault: the cow child ended with status %d", st);
  for (long p = 0; p < pages; p++)
    if (*(volatile long*)(m + p * 4096) != p) bench_fail("bench_fault: the child's write reached the parent");
  munmap((void*)m, (size_t)bytes);
}

static void protfault(long iters) {
  long ro = mmap(nullptr, 4096, PROT_READ);
  if (ro < 0) bench_fail("bench_fault: mmap failed (%ld)", ro);
  Sample a, b;
  long bad = 0;
  bench_begin(a);
  TLB_REGION_BEGIN(REGION + 40);
  for (long i = 0; i < iters; i++) {
    long pid = fork();
    if (pid < 0) bench_fail("bench_fault: fork failed (%ld)", pid);
    if (pid == 0) {
      *(volatile long*)ro = 1;  // a store page fault: the kernel kills this child
      exit(0);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid || st != -1) bad++;
  }
  TLB_REGION_END();
  bench_end(b);
  if (bad) bench_fail("bench_fault: %ld children survived a store to a read-only page", bad);
  bench_report("bench_fault", "{\"mode\":\"protfault\"}", iters, iters, a, b);
}

int main(int argc, char** argv) {
  long iters = bench_arg(argc, argv, 1, 40);
  static const long default_kb[] = {4, 16, 64, 256, 1024, 4096, 16384, 65536};
  long kbs[16];
  int n = 0;
  for (int i = 2; i < argc && n < 16; i++) kbs[n++] = bench_arg(argc, argv, i, 4, 4);
  if (n == 0)
    for (long k : default_kb) kbs[n++] = k;
  bench_init();
  for (int i = 0; i < n; i++) first_touch(kbs[i]);
  for (int i = 0; i < n; i++)
    if (kbs[i] <= 16384) cow(kbs[i]);  // parent and child copies of 64 MiB do not fit 128 MiB
  protfault(iters);
  bench_mem();
  return 0;
}
