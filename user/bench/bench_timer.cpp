// bench_timer [spin]: the cost of timer interrupts. A pure user-mode spin of a known number
// of instructions (2 per iteration, default 100M iterations) with no system calls; every
// timer interrupt during it is a trap into the kernel (plus, in scheme 1, two satp writes).
//
// One op here is one timer interrupt: iters = interrupts taken during the spin, ns_per_op =
// time between interrupts, insns_per_op = instructions the kernel added per interrupt, i.e.
// (instructions retired during the spin - the spin's own instructions) / interrupts, and the
// counters per interrupt. Extra keys: interrupts_per_sec, extra_insns_per_interrupt (the same
// as insns_per_op) and spin_insns.
//
// The harness's declaration of this benchmark (harness/benchspec.py reads it; TOML after `//!`):
//! [bench_timer]
//! regions = "22"
//! arguments = "spin iterations (100000000)"
//! op = "one timer interrupt during a pure user spin"
//! params = "`spin`; extra `interrupts_per_sec`, `extra_insns_per_interrupt`, `spin_insns`"
//! checks = "interrupts seen"
//! args = []
//! quick = []
//! wall = false
#include "bench.hpp"

constexpr int REGION = 22;

// Exactly 1 + 2 * n instructions (n >= 1): the loop is written in assembly so that the
// expected user instruction count is known.
static void spin(long n) {
  asm volatile(
      "mv t0, %0\n"
      "1: addi t0, t0, -1\n"
      "bnez t0, 1b\n"
      :
      : "r"(n)
      : "t0");
}

int main(int argc, char** argv) {
  long n = bench_arg(argc, argv, 1, 100000000);
  bench_init();
  spin(1000);  // warm up

  Sample a, b;
  bench_begin(a);
  TLB_REGION_BEGIN(REGION);
  spin(n);
  TLB_REGION_END();
  bench_end(b);

  Deltas d = bench_deltas(a, b);
  int64_t interrupts = (int64_t)(b.c.interrupts - a.c.interrupts);
  int64_t user_insns = 1 + 2 * n + 2;  // the spin and the two region markers
  if (interrupts <= 0)
    bench_fail("bench_timer: no timer interrupt during %ld ns of spinning (spin %ld)", (long)d.ns, n);
  if (d.insns < user_insns)
    bench_fail("bench_timer: %ld instructions retired, fewer than the spin's %ld", (long)d.insns,
               (long)user_insns);

  // Report per interrupt; the extra instructions are the kernel's (and any other work's).
  Deltas per = d;
  per.insns = d.insns - user_insns;
  char rate[32], extra_insns[32], extra[160];
  fmt_per_op(rate, sizeof rate, interrupts * 1000000000l, (uint64_t)(d.ns > 0 ? d.ns : 1));
  fmt_per_op(extra_insns, sizeof extra_insns, per.insns, (uint64_t)interrupts);
  snprintf(extra, sizeof extra,
           ",\"interrupts_per_sec\":%s,\"extra_insns_per_interrupt\":%s,\"spin_insns\":%ld", rate,
           extra_insns, (long)user_insns);
  char params[48];
  snprintf(params, sizeof params, "{\"spin\":%ld}", n);
  bench_report_deltas("bench_timer", params, (uint64_t)interrupts, (uint64_t)interrupts, per, extra);
  printf("bench_timer: %s timer interrupts per second, %s extra instructions per interrupt\n",
         rate, extra_insns);
  bench_mem();
  return 0;
}
