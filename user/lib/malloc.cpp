// malloc and free: a first-fit free list over sbrk, in the style of K&R.
//
// Every block starts with a 16-byte header (so user pointers are 16-byte aligned) holding the
// block size in header units. Free blocks form a circular list sorted by address, which lets
// free() merge a block with its free neighbours. Memory is never given back to the kernel.
#include "user.hpp"

namespace {

struct Header {
  Header* next;  // next free block (only while free)
  size_t units;  // size of this block, header included, in sizeof(Header) units
};
static_assert(sizeof(Header) == 16, "user pointers must stay 16-byte aligned");

Header base;              // a zero-sized block that anchors the list
Header* freep = nullptr;  // where the last search ended

// At least this many units per sbrk call, so that small allocations do not each trap.
constexpr size_t MIN_GROW_UNITS = 4096 / sizeof(Header);

Header* morecore(size_t units) {
  if (units < MIN_GROW_UNITS) units = MIN_GROW_UNITS;
  // The break starts wherever the image ends; round it up once to the header alignment.
  long brk = sbrk(0);
  if (brk < 0) return nullptr;
  long pad = (long)((16 - (brk & 15)) & 15);
  long p = sbrk(pad + (long)(units * sizeof(Header)));
  if (p < 0) return nullptr;
  Header* h = (Header*)(p + pad);
  h->units = units;
  free(h + 1);
  return freep;
}

}  // namespace

void* malloc(size_t n) {
  if (n == 0) n = 1;
  if (n > (1ul << 40)) return nullptr;  // more than user space: do not overflow the arithmetic
  size_t units = (n + sizeof(Header) - 1) / sizeof(Header) + 1;
  if (freep == nullptr) {
    base.next = freep = &base;
    base.units = 0;
  }
  Header* prev = freep;
  for (Header* p = prev->next;; prev = p, p = p->next) {
    if (p->units >= units) {
      if (p->units == units) {
        prev->next = p->next;
      } else {  // hand out the tail end of the block
        p->units -= units;
        p += p->units;
        p->units = units;
      }
      freep = prev;
      return p + 1;
    }
    if (p == freep) {  // wrapped around: nothing fits
      p = morecore(units);
      if (p == nullptr) return nullptr;
    }
  }
}

void free(void* ptr) {
  if (ptr == nullptr) return;
  Header* b = (Header*)ptr - 1;
  // Find the free block p just before b (the list is sorted; one block wraps around).
  Header* p = freep;
  while (!(b > p && b < p->next)) {
    if (p >= p->next && (b > p || b < p->next)) break;  // b at either end of the arena
    p = p->next;
  }
  if (b + b->units == p->next) {  // merge with the following block
    b->units += p->next->units;
    b->next = p->next->next;
  } else {
    b->next = p->next;
  }
  if (p + p->units == b) {  // merge with the preceding block
    p->units += b->units;
    p->next = b->next;
  } else {
    p->next = b;
  }
  freep = p;
}

// C++ allocation, for programs that use new/delete.
void* operator new(size_t n) { return malloc(n); }
void* operator new[](size_t n) { return malloc(n); }
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }
void operator delete[](void* p, size_t) noexcept { free(p); }
