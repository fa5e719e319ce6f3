// TLB maintenance and ASIDs. Every sfence.vma the kernel issues from C++ goes through here, so
// that it is counted (stats) by kind.
#pragma once

#include "lib/types.hpp"

namespace tlb {

void flush_all();
void flush_asid(u16 asid);
void flush_page(u64 va, u16 asid);
// Pages [start, end) of one address space changed: flush them one by one, or the whole ASID
// (everything, without ASIDs) when that is cheaper.
void flush_range(u64 start, u64 end, u16 asid);

}  // namespace tlb
