// ASIDs with generations (the allocator design Linux uses on arm64 and riscv, for one hart).
//
// An address space holds a Tag: the ASID it was given and the generation it was given in. A tag
// of the current generation is valid; any other tag is stale and is replaced the next time the
// address space is loaded. When a generation runs out of ASIDs it rolls over: the generation
// advances, the whole TLB is flushed once, and every address space re-acquires an ASID on its
// next load. Invariant (checked over the whole process table by diag(DIAG_ASID_CHECK), which
// usertests calls after its fork and exec chains, and under the TLB model by the rollover tests):
// no ASID is held by two address spaces of one generation, and an ASID handed out has no
// entries left in the TLB (it is fresh after a rollover flush, or was flushed when freed).
//
// The width comes from the boot-time probe, lowered by the boot argument asid_bits=N. Fewer
// than 2 usable bits (one hart needs ASID 0 for the kernel, one for the running space at a
// rollover and one to hand out) means no ASIDs: every address space uses ASID 0 and every satp
// write is followed by a full sfence.vma, whatever Kconfig said.
#pragma once

#include "lib/types.hpp"

namespace asid {

struct Tag {
  u64 generation = 0;  // 0: never acquired
  u16 value = 0;
};

// The ASID bits the calling hart's satp implements (each hart probes its own at boot).
unsigned probe_width();
// Boot: use `bits` ASID bits (the fewest any hart implements, lowered by asid_bits=N and
// CONFIG_ASID=n to 0); none when 2^bits < harts + 2 (see init).
void init(unsigned bits);
unsigned bits();        // usable ASID bits (0: ASIDs off)
bool enabled();         // bits() > 0
u64 generation();
u64 rollovers();

// The ASID to put in satp for the address space owning `tag`, about to be loaded. May roll
// the generation over (one full flush). With ASIDs off: 0.
u16 acquire(Tag& tag);
// Must a satp write for this load be followed by a full flush? (ASIDs off.)
inline bool flush_on_load() { return !enabled(); }
// The address space owning `tag` is going away and is not loaded: flush its entries and make
// its ASID available again in this generation.
void release(Tag& tag);

// For the invariant check: does `tag` hold its ASID now (current generation, or kept across
// the last rollover), and is ASID `value` marked held?
bool holds(const Tag& tag);
bool marked_held(u16 value);

}  // namespace asid
