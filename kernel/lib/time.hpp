// Timebase ticks to nanoseconds, exact for any timebase (no per-tick rounding: 24 MHz is not a
// whole number of ns per tick, and above 1 GHz a tick is less than 1 ns). Depends on nothing, so
// a host test compiles it too (harness/tests/test_time_conversion.py).
#pragma once

#include <stdint.h>

// ticks / hz seconds, in ns, split so that no product overflows 64 bits: the whole seconds,
// then the remainder (< hz, times 10^9: fits for any hz below 18.4 GHz). Saturates past 2^64 ns.
constexpr uint64_t ticks_to_ns(uint64_t ticks, uint64_t hz) {
  constexpr uint64_t NS = 1000000000;
  uint64_t secs = ticks / hz, rest = ticks % hz;
  if (secs > UINT64_MAX / NS) return UINT64_MAX;
  return secs * NS + rest * NS / hz;
}

static_assert(ticks_to_ns(10000000, 10000000) == 1000000000, "10 MHz: one second");
static_assert(ticks_to_ns(24000000, 24000000) == 1000000000, "24 MHz: one second, not 1.6 % short");
static_assert(ticks_to_ns(3, 24000000) == 125, "24 MHz: 41.67 ns per tick");
static_assert(ticks_to_ns(2000000000, 2000000000) == 1000000000, "2 GHz: not 0");
static_assert(ticks_to_ns(1, 2000000000) == 0 && ticks_to_ns(3, 2000000000) == 1, "2 GHz: half a ns per tick");
