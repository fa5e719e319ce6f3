// The few device-tree facts the kernel needs, read once at boot.
#pragma once

#include "mm/addr.hpp"

struct BootInfo {
  PhysAddr ram_start;
  u64 ram_size = 0;
  u64 timebase_hz = 10000000;
  char bootargs[256] = {};
  u8 rng_seed[64] = {};
  size_t rng_seed_len = 0;
  bool has_zkr = false;
};

// Parse the flattened device tree at `fdt` (a kernel-visible pointer). False if it is not one.
bool parse_fdt(const void* fdt, BootInfo& info);
