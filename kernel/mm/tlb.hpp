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

// ASIDs: the number of usable ASID bits is probed at boot. With CONFIG_ASID off, or on hardware
// with no ASID bits, every address space uses ASID 0 and satp writes are followed by full
// flushes (in the generated trap/switch code).
void probe_asid_bits();
bool asids_enabled();
u16 alloc_asid();
// The address space with this ASID is gone: drop its entries (ASIDs are reused).
void release_asid(u16 asid);

}  // namespace tlb
