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
  // Hart ids of the enabled cpu nodes (/cpus/cpu@N, status absent or "okay"), in tree order;
  // ids may be sparse. At most MAX_HARTS_LISTED are kept.
  static constexpr int MAX_HARTS_LISTED = 32;
  u64 hart_ids[MAX_HARTS_LISTED] = {};
  int harts_listed = 0;
};

// Parse the flattened device tree at `fdt` (a kernel-visible pointer). False if it is not one.
bool parse_fdt(const void* fdt, BootInfo& info);
