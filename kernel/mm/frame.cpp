// The frame allocator: a stack of free frames linked through the frames themselves. The link is
// a physical page number, so it means the same thing in every address space.
#include "mm/frame.hpp"

#include "lib/log.hpp"

namespace {

constexpr u64 NONE = 0;
u64 free_head = NONE;  // PPN of the first free frame
u64 free_frames = 0;
u64 total_frames = 0;

u64& link_of(u64 ppn) { return *phys_to_virt<u64>(PhysPageNum(ppn).addr()); }

}  // namespace

namespace frames {

void init(PhysAddr start, PhysAddr end) {
  u64 first = align_up<u64>(start.value, layout::PAGE_SIZE) >> 12;
  u64 last = end.value >> 12;
  // Push in reverse so that allocation starts at low addresses.
  for (u64 ppn = last; ppn-- > first;) free(PhysPageNum(ppn));
  total_frames = free_frames;
}

Result<PhysPageNum> alloc_zeroed() {
  if (free_head == NONE) return Error::NoMemory;
  u64 ppn = free_head;
  free_head = link_of(ppn);
  free_frames--;
  memset(phys_to_virt(PhysPageNum(ppn).addr()), 0, layout::PAGE_SIZE);
  return PhysPageNum(ppn);
}

void free(PhysPageNum ppn) {
  link_of(ppn.value) = free_head;
  free_head = ppn.value;
  free_frames++;
}

u64 free_count() { return free_frames; }
u64 total_count() { return total_frames; }

}  // namespace frames
