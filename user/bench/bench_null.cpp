// bench_null [iters]: the null system call. A loop of getpid calls; the cost of one trap into
// the kernel and back, which is where the schemes differ most (scheme 1 writes satp twice).
// Extra key: roundtrip_insns, the instructions of one bare ecall round trip (no loop, no
// wrapper), meaningful under -icount.
//
// The harness's declaration of this benchmark (harness/benchspec.py reads it; TOML after `//!`):
//! [bench_null]
//! regions = "1"
//! arguments = "iters (100000)"
//! op = "`getpid`"
//! params = "`{}`; extra `roundtrip_insns`"
//! checks = "sum of pids"
//! args = ["100000"]
//! quick = ["2000"]
//! [bench_null.tlb]
//! args = ["2000"]
//! quick = ["200"]
#include "bench.hpp"

constexpr int REGION = 1;

// Instructions retired from one rdinstret to the next with a getpid ecall between them: the
// ecall, the kernel's whole round trip including sret, and the first rdinstret. The smallest
// of several tries, in case a timer interrupt lands in one.
static uint64_t roundtrip_insns() {
  uint64_t best = ~0ul;
  for (int i = 0; i < 16; i++) {
    uint64_t before, after;
    asm volatile(
        "li a7, %2\n"
        "rdinstret %0\n"
        "ecall\n"
        "rdinstret %1\n"
        : "=&r"(before), "=&r"(after)
        : "i"(uapi::SYS_getpid)
        : "a0", "a7", "memory");
    if (after - before < best) best = after - before;
  }
  return best;
}

int main(int argc, char** argv) {
  long iters = bench_arg(argc, argv, 1, 100000);
  bench_init();
  long pid = getpid();
  for (long i = 0; i < 1000; i++) getpid();  // warm up

  Sample a, b;
  long sum = 0;
  bench_begin(a);
  TLB_REGION_BEGIN(REGION);
  for (long i = 0; i < iters; i++) sum += getpid();
  TLB_REGION_END();
  bench_end(b);

  if (sum != iters * pid) bench_fail("bench_null: sum of getpid = %ld, want %ld", sum, iters * pid);
  char extra[64];
  snprintf(extra, sizeof extra, ",\"roundtrip_insns\":%lu", roundtrip_insns());
  bench_report("bench_null", "{}", iters, iters, a, b, extra);
  bench_mem();
  return 0;
}
