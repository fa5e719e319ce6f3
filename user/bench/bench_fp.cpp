// bench_fp clean|dirty [rounds]: what lazy FP saves at a context switch (docs/design.md "User
// FP"). Two processes yield to each other `rounds` times each (default 1000): with `clean` they
// never touch an FP register, with `dirty` each loads its own f0-f31 before every yield and
// stores them after it (checked: a switch must not mix them up). Per switch (the machine's
// switches during the ping-pong, fork and reap included): ns and instructions (meaningful
// under -icount); extra keys: the switches, FP saves and FP loads the kernel counted. Lazy FP
// means 0 saves when clean and at least one save per round when dirty; anything else fails.
// Not measured by the harness (no BenchSpec): run it by hand, e.g. `init=bench_fp dirty 2000`.
#include "bench.hpp"

namespace {

constexpr int NF = 32;

// Loads f0-f31 from `in`, yields, stores f0-f31 into `out`: one asm block, so no compiled code
// runs between the load and the store. Not inlined: its prologue saves the callee-saved FP
// registers (the asm clobbers them), which must not happen in a clean run.
__attribute__((noinline)) void yield_with_fp(const uint64_t* in, uint64_t* out) {
  asm volatile(
      ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
      "fld f\\n, 8*\\n(%0)\n"
      ".endr\n"
      "li a7, %2\n"
      "ecall\n"
      ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
      "fsd f\\n, 8*\\n(%1)\n"
      ".endr\n"
      :
      : "r"(in), "r"(out), "i"(uapi::SYS_yield)
      : "a0", "a7", "memory", "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10",
        "f11", "f12", "f13", "f14", "f15", "f16", "f17", "f18", "f19", "f20", "f21", "f22", "f23",
        "f24", "f25", "f26", "f27", "f28", "f29", "f30", "f31");
}

// One side of the ping-pong; returns the rounds whose FP registers came back wrong.
long ping_pong(bool dirty, long rounds, uint64_t tag) {
  uint64_t in[NF], out[NF];
  for (int r = 0; r < NF; r++) in[r] = (tag << 56) | (uint64_t)(r + 1) * 0x10001;
  long bad = 0;
  for (long i = 0; i < rounds; i++) {
    if (!dirty) {
      yield();
      continue;
    }
    yield_with_fp(in, out);
    uint64_t diff = 0;  // word by word: memcmp's byte loop would dwarf the switch
    for (int r = 0; r < NF; r++) diff |= in[r] ^ out[r];
    if (diff) bad++;
  }
  return bad;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || (strcmp(argv[1], "clean") != 0 && strcmp(argv[1], "dirty") != 0))
    bench_fail("usage: bench_fp clean|dirty [rounds]");
  const bool dirty = strcmp(argv[1], "dirty") == 0;
  const long rounds = bench_arg(argc, argv, 2, 1000);
  bench_init();

  KernelStats a, b;
  if (stats(&a) != 0) bench_fail("stats() failed");
  Sample sa, sb;
  bench_begin(sa);
  long pid = fork();
  if (pid == 0) exit(ping_pong(dirty, rounds, 0xb2) == 0 ? 0 : 1);
  if (pid < 0) bench_fail("fork failed: %ld", pid);
  long bad = ping_pong(dirty, rounds, 0xb1);
  int st = -2;
  waitpid(pid, &st, 0);
  bench_end(sb);
  if (stats(&b) != 0) bench_fail("stats() failed");

  const uint64_t switches = b.global.context_switches - a.global.context_switches;
  const uint64_t saves = b.fp_saves - a.fp_saves, loads = b.fp_restores - a.fp_restores;
  if (bad || st != 0)
    bench_fail("bench_fp: FP registers wrong after a switch (parent %ld rounds, child status %d)",
               bad, st);
  if (switches < (uint64_t)rounds)
    bench_fail("bench_fp: only %lu switches in %ld rounds", switches, rounds);
  if (dirty && saves < (uint64_t)rounds)
    bench_fail("bench_fp: %lu FP saves in %lu switches of FP-dirty processes, want >= %ld", saves,
               switches, rounds);
  if (!dirty && saves != 0)
    bench_fail("bench_fp: %lu FP saves in %lu switches of processes that never used FP, want 0",
               saves, switches);

  char params[64], extra[128];
  snprintf(params, sizeof params, "{\"fp\":\"%s\",\"rounds\":%ld}", dirty ? "dirty" : "clean", rounds);
  snprintf(extra, sizeof extra, ",\"switches\":%lu,\"fp_saves\":%lu,\"fp_loads\":%lu", switches,
           saves, loads);
  bench_report("bench_fp", params, switches, (uint64_t)rounds, sa, sb, extra);
  return 0;
}
