// Size-class heap. Each class has a free list linked through the free blocks by KPtr; a
// block's class is kept in an 8-byte header in front of it. Pages come from the frame
// allocator and are never returned (the heap only holds small kernel bookkeeping).
#include "mm/heap.hpp"

#include "mm/frame.hpp"

namespace {

constexpr int CLASSES = 9;  // 16 .. 4096 (block size including the header)
struct FreeBlock {
  KPtr<FreeBlock> next;
};
KPtr<FreeBlock> free_lists[CLASSES];
u64 in_use = 0;
u64 pages = 0;

constexpr size_t class_size(int c) { return 16ul << c; }

int class_for(size_t n) {
  for (int c = 0; c < CLASSES; c++)
    if (n + 8 <= class_size(c)) return c;
  return -1;
}

bool refill(int c) {
  auto frame = frames::alloc_zeroed();
  if (!frame.ok()) return false;
  pages++;
  u8* page = phys_to_virt<u8>(frame.value().addr());
  for (size_t off = 0; off + class_size(c) <= layout::PAGE_SIZE; off += class_size(c)) {
    auto* b = reinterpret_cast<FreeBlock*>(page + off);
    b->next = free_lists[c];
    free_lists[c] = b;
  }
  return true;
}

}  // namespace

namespace heap {

void* alloc(size_t n) {
  int c = class_for(n);
  if (c < 0) return nullptr;
  if (!free_lists[c] && !refill(c)) return nullptr;
  FreeBlock* b = free_lists[c].get();
  free_lists[c] = b->next;
  auto* header = reinterpret_cast<u64*>(b);
  *header = c;
  in_use += class_size(c);
  return header + 1;
}

void free(void* p) {
  if (!p) return;
  u64* header = static_cast<u64*>(p) - 1;
  int c = static_cast<int>(*header);
  auto* b = reinterpret_cast<FreeBlock*>(header);
  b->next = free_lists[c];
  free_lists[c] = b;
  in_use -= class_size(c);
}

u64 bytes_in_use() { return in_use; }
u64 pages_held() { return pages; }

}  // namespace heap
