// Memory churn: mmap (fixed and kernel-chosen), munmap (whole, split, invalid, wrapping) and
// sbrk within its bounds.
#include "fuzz.hpp"

namespace fuzz {

void Fuzzer::f_mmap() {
  long addr;
  switch (rng.below(10)) {
    case 0: case 1: case 2: addr = nmaps < MAX_MAPS ? 0 : ARENA; break;
    case 3: case 4: case 5: addr = ARENA + rng.below(ARENA_PAGES) * PAGE; break;
    case 6: addr = ARENA + rng.below(ARENA_PAGES) * PAGE + 1 + rng.below(PAGE - 1); break;
    case 7: addr = USER_TOP - (1 + rng.below(4)) * PAGE; break;
    case 8: addr = STACK_TOP - PAGE; break;   // overlaps the stack
    default: addr = any_ptr();
  }
  long len = alloc_len();
  // Valid-looking fixed addresses outside the arena get at most 4 pages (memory bound).
  if (addr != 0 && (addr < ARENA || addr >= ARENA + ARENA_PAGES * PAGE) && len > 4 * PAGE &&
      len < (1l << 33))
    len = 4 * PAGE;
  long prot = rng.chance(10) ? junk() : rng.below(16);
  long r = call(SYS_mmap, addr, len, prot, junk(), junk(), junk());
  if (r >= 0) {
    if ((r & (PAGE - 1)) || r >= (long)USER_TOP || (addr != 0 && r != addr))
      oddity("mmap address", SYS_mmap, addr, len, prot, r);
  }
  // Every mmap(0) takes a slot, failed or not (a failure under another process's memory
  // use must not change the later calls): a failed one holds an unmapped address.
  if (addr == 0 && nmaps < MAX_MAPS) {
    maps[nmaps] = r >= 0 ? r : UNMAPPED + nmaps * PAGE;
    map_pages[nmaps++] = len > 0 && len < (1l << 33) ? (len + PAGE - 1) / PAGE : 1;
  }
}

void Fuzzer::f_munmap() {
  long addr, len;
  switch (rng.below(12)) {
    case 0: case 1:
      if (nmaps) {
        int i = (int)rng.below(nmaps);
        addr = maps[i];
        len = map_pages[i] * PAGE;
        maps[i] = maps[--nmaps];
        map_pages[i] = map_pages[nmaps];
        break;
      }
      [[fallthrough]];
    case 2:  // a split: one page from the middle of a mapping
      if (nmaps) {
        int i = (int)rng.below(nmaps);
        addr = maps[i] + rng.below(map_pages[i]) * PAGE;
        len = PAGE;
        break;
      }
      [[fallthrough]];
    case 3: case 4:
      addr = ARENA + rng.below(ARENA_PAGES) * PAGE;
      len = (1 + rng.below(8)) * PAGE - rng.below(2);
      break;
    case 5: addr = 0x10000; len = PAGE; break;                       // the image: EINVAL
    case 6: addr = brk0 & ~(PAGE - 1); len = 2 * PAGE; break;         // the heap: EINVAL
    case 7: addr = STACK_TOP - PAGE; len = PAGE; break;               // the stack: EINVAL
    case 8: addr = ARENA; len = (long)(0 - (uint64_t)ARENA) + PAGE * rng.below(4); break;  // wraps
    case 9: addr = ARENA; len = USER_TOP - ARENA; break;              // reaches the stack: EINVAL
    default: any_range(addr, len);
  }
  long r = call(SYS_munmap, addr, len, junk(), junk(), junk(), junk());
  if ((uint64_t)addr + (uint64_t)len < (uint64_t)addr && len != 0 && r == 0)
    oddity("munmap of a wrapping range", SYS_munmap, addr, len, 0, r);
  if (addr == STACK_TOP - PAGE && r == 0) oddity("munmap of the stack", SYS_munmap, addr, len, 0, r);
}

void Fuzzer::f_sbrk() {
  long inc;
  long cur = heap_end();
  calls++;  // the sbrk(0)
  long used = (cur - brk0) / PAGE;
  switch (rng.below(10)) {
    case 0: case 1: case 2:
      inc = used < HEAP_MAX_PAGES ? rng.below(8 * PAGE) : -rng.below(8 * PAGE);
      break;
    case 3: case 4: inc = -rng.below(cur - brk0 + 1); break;        // shrink, valid
    case 5: inc = -(cur - brk0) - 1 - rng.below(PAGE); break;        // below the start: EINVAL
    case 6: inc = (long)(1ul << 63); break;
    case 7: inc = 0x7fffffffffffffff; break;
    case 8: inc = (1l << 37) + rng.below(1l << 30); break;           // past the heap limit
    default:
      inc = rng.chance(400) ? (1l << 30) : 0;                        // beyond free memory (rare)
  }
  long r = call(SYS_sbrk, inc, junk(), junk());
  if (r >= 0 && r != cur) oddity("sbrk old break", SYS_sbrk, inc, cur, 0, r);
}

}  // namespace fuzz
