// gen N [SEED]: print N pseudo-random numbers (0..999999999), one per line, zero-padded to nine
// digits: the first stage of the `gen | sort | wc` pipeline workload. Deterministic per SEED.
#include "user.hpp"

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000;
  uint64_t x = argc > 2 ? (uint64_t)atol(argv[2]) * 0x9e3779b97f4a7c15ull + 1 : 88172645463325252ull;
  static char out[4096];
  size_t used = 0;
  for (long i = 0; i < n; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift64
    used += (size_t)snprintf(out + used, sizeof out - used, "%09lu\n", (unsigned long)(x % 1000000000));
    if (used > sizeof out - 16) {
      if (write(1, out, used) != (long)used) return 1;
      used = 0;
    }
  }
  if (used && write(1, out, used) != (long)used) return 1;
  return 0;
}
