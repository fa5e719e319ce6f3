// The kernel heap: power-of-two size classes from 16 B to 4 KiB (a whole frame), carved out of
// frames; a page whose blocks are all free goes back to the frame allocator (one per class is kept).
#pragma once

#include "mm/kview.hpp"

namespace heap {

inline constexpr size_t MAX_ALLOC = 4096 - 8;  // one frame minus the block header
// nullptr when out of memory or when n > MAX_ALLOC.
void* alloc(size_t n);
void free(void* p);
u64 bytes_in_use();
u64 pages_held();

}  // namespace heap
