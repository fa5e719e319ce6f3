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

// References per frame of the window's RAM, kept only when fork can share frames. A u16: at
// most NPROC (<= 256) address spaces map one frame.
constexpr u64 REF_FRAMES = config::fork_cow ? layout::WINDOW_RAM / layout::PAGE_SIZE : 1;
u16 refs[REF_FRAMES];
static_assert(config::nproc < 65535, "a u16 counts the sharers of a frame");

u16& refs_of(PhysPageNum ppn) { return refs[ppn.value - (layout::RAM_BASE >> 12)]; }

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
  if (config::fork_cow) refs_of(PhysPageNum(ppn)) = 1;
  return PhysPageNum(ppn);
}

void share(PhysPageNum ppn) {
  if (config::fork_cow) refs_of(ppn)++;
}

void release(PhysPageNum ppn) {
  if (config::fork_cow && --refs_of(ppn) != 0) return;
  free(ppn);
}

bool shared(PhysPageNum ppn) { return config::fork_cow && refs_of(ppn) > 1; }

void free(PhysPageNum ppn) {
  if (config::fork_cow) refs_of(ppn) = 0;
  link_of(ppn.value) = free_head;
  free_head = ppn.value;
  free_frames++;
}

u64 free_count() { return free_frames; }
u64 total_count() { return total_frames; }

}  // namespace frames
