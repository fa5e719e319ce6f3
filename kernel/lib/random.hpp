// Random numbers for kernel layout randomization: a ChaCha20 generator with fast key erasure.
//
// The key is derived from every entropy source the machine offers (see docs/scheme3.md); each
// output block replaces the key with its first half and hands out only the second half, so
// neither an output nor anything derived from it reveals the state that produces the next one.
#pragma once

#include "lib/types.hpp"

namespace rng {

// The entropy the machine offers, as the boot code found it (dev/fdt.hpp's BootInfo; passed in
// so that lib/ does not depend on dev/).
struct Sources {
  const u8* seed;    // the device tree's /chosen/rng-seed (at most 64 bytes are used)
  size_t seed_len;
  bool has_zkr;      // the CPU has the Zkr `seed` CSR
};

// Seed from `sources`: the rng-seed bytes, the Zkr `seed` CSR when the CPU has it and the
// firmware lets S-mode read it, and timer jitter. Returns a short description of the sources.
const char* init(const Sources& sources);
// Seed from `seed` alone (boot argument kaslr_seed=N): the same draws on every boot.
const char* init_fixed(u64 seed);
// 64 random bits.
u64 next();
// A uniform value in [0, n), n > 0.
u64 below(u64 n);

}  // namespace rng
