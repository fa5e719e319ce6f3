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

// ---------------------------------------------------------------- ChaCha20 (RFC 8439 block function)
constexpr u32 SIGMA[4] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};  // "expand 32-byte k"

constexpr u32 rotl(u32 v, int n) { return (v << n) | (v >> (32 - n)); }

void quarter_round(u32* x, int a, int b, int c, int d) {
  x[a] += x[b], x[d] = rotl(x[d] ^ x[a], 16);
  x[c] += x[d], x[b] = rotl(x[b] ^ x[c], 12);
  x[a] += x[b], x[d] = rotl(x[d] ^ x[a], 8);
  x[c] += x[d], x[b] = rotl(x[b] ^ x[c], 7);
}

// out = ChaCha20(key, counter, nonce): 16 words.
void chacha20_block(const u32 key[8], u32 counter, const u32 nonce[3], u32 out[16]) {
  u32 in[16] = {SIGMA[0], SIGMA[1], SIGMA[2], SIGMA[3], key[0], key[1], key[2], key[3],
                key[4],   key[5],   key[6],   key[7],   counter, nonce[0], nonce[1], nonce[2]};
  u32 x[16];
  memcpy(x, in, sizeof x);
  for (int i = 0; i < 10; i++) {
    quarter_round(x, 0, 4, 8, 12), quarter_round(x, 1, 5, 9, 13);
    quarter_round(x, 2, 6, 10, 14), quarter_round(x, 3, 7, 11, 15);
    quarter_round(x, 0, 5, 10, 15), quarter_round(x, 1, 6, 11, 12);
    quarter_round(x, 2, 7, 8, 13), quarter_round(x, 3, 4, 9, 14);
  }
  for (int i = 0; i < 16; i++) out[i] = x[i] + in[i];
}

// ---------------------------------------------------------------- the generator
u32 key[8];
u64 blocks = 0;    // output blocks produced (the nonce of the next one)
u64 buffer[4];     // the unused second half of the last block
int buffered = 0;

// Fold `words` into the key: key ^= input, then key = first half of ChaCha20(key) under a
// nonce that separates seeding from output. Applied once per source.
void absorb(const u32* words, size_t n) {
  for (size_t i = 0; i < n; i++) key[i % 8] ^= words[i];
  const u32 seeding_nonce[3] = {0xffffffff, 0xffffffff, static_cast<u32>(n)};
  u32 block[16];
  chacha20_block(key, 0, seeding_nonce, block);
  memcpy(key, block, sizeof key);
}

void absorb64(u64 v) {
  u32 w[2] = {static_cast<u32>(v), static_cast<u32>(v >> 32)};
  absorb(w, 2);
}

// Up to `samples` 16-bit entropy samples from the seed CSR; false if it is not readable.
bool absorb_zkr(int samples) {
  u32 got[16] = {};
  int n = 0;
  for (int tries = 0; tries < 1000 && n < samples && n < 16; tries++) {
    probe_faulted = 0;
    u64 v = read_seed_csr();
    if (probe_faulted) return false;
    u64 opst = (v >> 30) & 3;
    if (opst == 2) got[n++] = static_cast<u32>(v & 0xffff);  // ES16: 16 bits in bits 15:0
    else if (opst == 3) return false;                        // DEAD
  }
  if (n) absorb(got, n);
  return n > 0;
}

void reset() {
  memset(key, 0, sizeof key);
  blocks = 0;
  buffered = 0;
}

}  // namespace

namespace rng {

const char* init(const Sources& sources) {
  reset();
  bool dt = sources.seed_len > 0;
  if (dt) {
    u32 words[16] = {};
    size_t len = min<size_t>(sources.seed_len, sizeof words);
    memcpy(words, sources.seed, len);
    absorb(words, (len + 3) / 4);
  }
  bool zkr = sources.has_zkr && absorb_zkr(16);
  absorb64(riscv::rdtime());
  if (dt && zkr) return "device-tree rng-seed + Zkr seed CSR + timer jitter";
  if (dt) return "device-tree rng-seed + timer jitter";
  if (zkr) return "Zkr seed CSR + timer jitter";
  return "timer jitter only (weak: no rng-seed, no Zkr)";
}

const char* init_fixed(u64 seed) {
  reset();
  absorb64(seed);
  return "kaslr_seed= boot argument only (reproducible, not secret)";
}

u64 next() {
  if (buffered == 0) {
    const u32 nonce[3] = {static_cast<u32>(blocks), static_cast<u32>(blocks >> 32), 0};
    u32 block[16];
    chacha20_block(key, 0, nonce, block);
    blocks++;
    memcpy(key, block, sizeof key);  // fast key erasure: the next key never leaves the generator
    memcpy(buffer, block + 8, sizeof buffer);
    memset(block, 0, sizeof block);
    buffered = 4;
  }
  u64 v = buffer[--buffered];
  buffer[buffered] = 0;
  return v;
}

u64 below(u64 n) {
  // Rejection sampling: no modulo bias. Each try succeeds with probability above 1/2, so 64
  // failures in a row (probability below 2^-64) end in a modulo draw instead of a longer loop.
  u64 limit = ~0ull - (~0ull % n);
  for (int tries = 0; tries < 64; tries++) {
    u64 v = next();
    if (v < limit) return v % n;
  }
  return next() % n;
}

}  // namespace rng
