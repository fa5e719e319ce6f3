// Size-class heap. Each class has a doubly linked free list through the free blocks (by KPtr);
// a block's class is kept in an 8-byte header in front of it. Pages come from the frame
// allocator and go back to it when their last block is freed, except that each class keeps at
// most one empty page (so a steady alloc/free pattern does not take and zero a frame each time).
#include "mm/heap.hpp"

#include "lib/log.hpp"
#include "mm/frame.hpp"

namespace {

constexpr int CLASSES = 9;  // 16 .. 4096 (block size including the header)
struct FreeBlock {
  KPtr<FreeBlock> next, prev;  // 16 bytes: fits the smallest block
};
static_assert(sizeof(FreeBlock) <= 16, "a free block's links must fit the smallest class");
KPtr<FreeBlock> free_lists[CLASSES];
int empty_pages[CLASSES];  // pages of the class whose blocks are all free (0 or 1)
u64 in_use = 0;
u64 pages = 0;

// Live blocks per frame of the window's RAM (only frames the heap holds are ever non-zero): a
// page whose count drops to 0 can be handed back. At most 256 blocks (16 B) fit a page.
constexpr u64 WINDOW_FRAMES = layout::WINDOW_RAM / layout::PAGE_SIZE;
u16 live_blocks[WINDOW_FRAMES];

constexpr size_t class_size(int c) { return 16ul << c; }

int class_for(size_t n) {
  for (int c = 0; c < CLASSES; c++)
    if (n + 8 <= class_size(c)) return c;
  return -1;
}

u64 frame_index(const void* p) { return (virt_to_phys(p).value - layout::RAM_BASE) / layout::PAGE_SIZE; }

void push(int c, FreeBlock* b) {
  b->prev = KPtr<FreeBlock>();
  b->next = free_lists[c];
  if (b->next) b->next->prev = b;
  free_lists[c] = b;
}

void unlink(int c, FreeBlock* b) {
  if (b->prev) b->prev->next = b->next;
  else free_lists[c] = b->next;
  if (b->next) b->next->prev = b->prev;
}

bool refill(int c) {
  auto frame = frames::alloc_zeroed();
  if (!frame.ok()) return false;
  pages++;
  empty_pages[c]++;
  u8* page = phys_to_virt<u8>(frame.value().addr());
  for (size_t off = 0; off + class_size(c) <= layout::PAGE_SIZE; off += class_size(c))
    push(c, reinterpret_cast<FreeBlock*>(page + off));
  return true;
}

// The page of class c whose last block was just freed: keep it if it is the class's only empty
// page, else unlink its blocks and give the frame back.
void page_emptied(int c, u8* page) {
  if (empty_pages[c] == 0) {
    empty_pages[c] = 1;
    return;
  }
  for (size_t off = 0; off + class_size(c) <= layout::PAGE_SIZE; off += class_size(c))
    unlink(c, reinterpret_cast<FreeBlock*>(page + off));
  frames::free(virt_to_phys(page).page());
  pages--;
}

}  // namespace

namespace heap {

void* alloc(size_t n) {
  int c = class_for(n);
  if (c < 0) return nullptr;
  if (!free_lists[c] && !refill(c)) return nullptr;
  FreeBlock* b = free_lists[c].get();
  unlink(c, b);
  if (live_blocks[frame_index(b)]++ == 0) empty_pages[c]--;
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
  push(c, b);
  in_use -= class_size(c);
  if (--live_blocks[frame_index(b)] == 0)
    page_emptied(c, reinterpret_cast<u8*>(align_down<u64>(reinterpret_cast<u64>(b), layout::PAGE_SIZE)));
}

u64 bytes_in_use() { return in_use; }
u64 pages_held() { return pages; }

}  // namespace heap
