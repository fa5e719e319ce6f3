#include "lib/random.hpp"

#include "arch/riscv.hpp"

// Read the Zkr seed CSR. If the firmware does not grant S-mode access the instruction traps;
// kernel_trap recognises seed_probe_insn, skips it and sets probe_faulted.
asm(R"(
    .section .text
    .globl read_seed_csr
    .globl seed_probe_insn
    .balign 4
read_seed_csr:
    li a0, 0
seed_probe_insn:
    csrrw a0, 0x015, zero
    ret
)");
extern "C" u64 read_seed_csr();
extern "C" volatile int probe_faulted;

namespace {

u64 state = 0x853c49e6748fea9bull;
u64 calls = 0;

u64 mix(u64 z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void absorb(u64 v) { state = mix(state ^ v); }

// Up to `samples` 16-bit entropy samples from the seed CSR; false if it is not readable.
bool absorb_zkr(int samples) {
  int got = 0;
  for (int tries = 0; tries < 1000 && got < samples; tries++) {
    probe_faulted = 0;
    u64 v = read_seed_csr();
    if (probe_faulted) return false;
    u64 opst = (v >> 30) & 3;
    if (opst == 2) {  // ES16: 16 bits of entropy in bits 15:0
      absorb(v & 0xffff);
      got++;
    } else if (opst == 3) {  // DEAD
      return false;
    }
  }
  return got > 0;
}

}  // namespace

namespace rng {

const char* init(const BootInfo& info) {
  bool dt = info.rng_seed_len > 0;
  for (size_t i = 0; i + 8 <= info.rng_seed_len; i += 8) {
    u64 v;
    memcpy(&v, info.rng_seed + i, 8);
    absorb(v);
  }
  bool zkr = info.has_zkr && absorb_zkr(16);
  absorb(riscv::rdtime());
  if (dt && zkr) return "device-tree rng-seed + Zkr seed CSR + timer jitter";
  if (dt) return "device-tree rng-seed + timer jitter";
  if (zkr) return "Zkr seed CSR + timer jitter";
  return "timer jitter only (weak: no rng-seed, no Zkr)";
}

u64 next() {
  absorb(riscv::rdtime() ^ (++calls << 32));
  return state;
}

u64 below(u64 n) {
  // Rejection sampling: no modulo bias.
  u64 limit = ~0ull - (~0ull % n);
  for (;;) {
    u64 v = next();
    if (v < limit) return v % n;
  }
}

}  // namespace rng
