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

// Other harts: fence [start, end) of `asid` (end = 0: the whole ASID; all: every address space)
// on the harts of `logical_mask` other than this one, and return once they have. SBI RFENCE
// (remote_sfence_vma_asid) with CONFIG_SHOOTDOWN_RFENCE; with CONFIG_SHOOTDOWN_IPI a request
// posted to each hart plus an SBI IPI, each hart fencing itself in its handler. Counted per hart
// (tlb_shootdowns, remote_fences_sent, ipis_sent).
void shootdown(u32 logical_mask, u64 start, u64 end, u16 asid, bool all = false);

}  // namespace tlb
