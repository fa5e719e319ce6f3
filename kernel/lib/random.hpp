// Random numbers for kernel layout randomization.
#pragma once

#include "dev/fdt.hpp"

namespace rng {

// Seed from every source the machine offers (see docs/scheme3.md): the device tree's
// /chosen/rng-seed (or kaslr-seed), the Zkr `seed` CSR when the CPU has it and the firmware
// lets S-mode read it, and timer jitter. Returns a short description of the sources used.
const char* init(const BootInfo& info);
// 64 fresh bits; the timer is mixed in at every call.
u64 next();
// A uniform value in [0, n).
u64 below(u64 n);

}  // namespace rng
