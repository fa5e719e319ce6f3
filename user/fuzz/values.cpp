// Hostile values: pointers, lengths, (pointer, length) ranges, descriptors and allocation
// sizes, each drawn from the seeded generator.
#include "fuzz.hpp"

namespace fuzz {

long Fuzzer::any_ptr() {
  switch (rng.below(26)) {
    case 0: return 0;
    case 1: return 1 + rng.below(PAGE - 1);
    case 2: return SCRATCH + rng.below(SCRATCH_PAGES * PAGE);       // valid, maybe misaligned
    case 3: return SCRATCH + rng.below(SCRATCH_PAGES) * PAGE;       // valid, aligned
    case 4: return SCRATCH_END - 1 - rng.below(64);                 // straddles the end
    case 5: return SCRATCH_END;                                     // just past it
    case 6: return (long)&any_ptr_text_marker;                      // text (read-only)
    case 7: return (long)RODATA_WORDS + rng.below(64);              // rodata (read-only)
    case 8: return ARENA + rng.below(ARENA_PAGES) * PAGE + (rng.chance(4) ? rng.below(PAGE) : 0);
    case 9: return nmaps ? maps[rng.below(nmaps)] + rng.below(PAGE) : UNMAPPED;
    case 10: return USER_TOP - 1 - rng.below(PAGE);                 // top of user space
    case 11: return USER_TOP;
    case 12: return STACK_TOP;                                      // above the stack
    case 13: return STACK_TOP - 17 * PAGE + rng.below(PAGE);        // the stack guard page
    case 14: return KERNEL_HALF + rng.below(PAGE);
    case 15: return KERNEL_IMAGE + rng.below(1 << 20);
    case 16: return kslot + rng.below(2 << 20);                     // this process's kernel window
    case 17: return kaddr;                                          // kernel data every call reads
    case 18: return TRAMPOLINE + rng.below(PAGE);
    case 19: {
      static const long nc[] = {0x0000008000000000, (long)0x8000000000000000ul,
                                (long)0xffffff8000000000ul, 0x7fffffffffffffff,
                                0x0000004000000000 + PAGE, (long)0xffffffbfffffffffl,
                                0x00007ffffffff000};
      return nc[rng.below(7)];
    }
    case 20: return -1 - rng.below(PAGE);
    case 21: return junk();
    case 22: return heap_end() - 1 - rng.below(PAGE);               // straddles the break
    case 23: return KERNEL_HIGH;
    case 24: return UNMAPPED + rng.below(PAGE);
    default: return SCRATCH + PAGE * 8;                             // valid, middle
  }
}

long Fuzzer::any_len() {
  switch (rng.below(18)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return rng.below(16);
    case 3: return rng.below(PAGE);
    case 4: return PAGE;
    case 5: return PAGE + 1;
    case 6: return rng.below(17) * PAGE;
    case 7: return 65536;
    case 8: return 65537;
    case 9: return 1l << 31;
    case 10: return 1l << 32;
    case 11: return -1;
    case 12: return -rng.below(PAGE);
    case 13: return (long)(1ul << 63);
    case 14: return USER_TOP;
    case 15: return 0x100000000l + rng.below(16);   // low 32 bits small
    case 16: return junk();
    default: return 8;
  }
}

void Fuzzer::any_range(long& p, long& n) {
  p = any_ptr();
  switch (rng.below(8)) {
    case 0: n = (long)(0 - (uint64_t)p) + rng.below(4 * PAGE); break;   // wraps
    case 1: n = SCRATCH_END - p + 1 + rng.below(PAGE); break;           // runs off scratch
    default: n = any_len();
  }
}

long Fuzzer::any_fd() {
  static const long fds[] = {0, 1, 2, 3, -1, 1l << 32, (1l << 32) + 1, 0x7fffffff, 1000};
  return rng.chance(8) ? junk() : fds[rng.below(9)];
}

long Fuzzer::alloc_len() {
  switch (rng.below(10)) {
    case 0: return 0;
    case 1: return 1 + rng.below(PAGE);
    case 2: return (1 + rng.below(4)) * PAGE + rng.below(2);
    case 3: return (1 + rng.below(16)) * PAGE;
    case 4: return (1l << 33) + rng.below(1l << 40);   // >= 8 GiB: more than any RAM here
    case 5: return -rng.below(4 * PAGE);
    case 6: return (long)(1ul << 63);
    case 7: return USER_TOP;
    case 8: return 0x7ffffffffffff000;
    default: return PAGE;
  }
}

long Fuzzer::other_fd() {
  static const long fds[] = {-1, NFD, NFD + 1, 1l << 32, (1l << 32) + 3, 0x7fffffff};
  return rng.chance(2) ? 3 + rng.below(NFD - 3) : (rng.chance(4) ? junk() : fds[rng.below(6)]);
}

long Fuzzer::bad_ptr() {
  static const long bad[] = {1, 0xfff, USER_TOP, KERNEL_HALF, KERNEL_IMAGE, TRAMPOLINE,
                             (long)0x8000000000000000ul, 0x0000008000000000, -8};
  return rng.chance(6) ? kslot : bad[rng.below(9)];
}

}  // namespace fuzz
