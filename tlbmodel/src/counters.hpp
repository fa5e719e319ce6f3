// The model's event counters and the cost model that turns them into modelled cycles.
#pragma once

#include <cstdint>

namespace tlbm {

// ------------------------------------------------------------------ counters
// One block per (region, mode). All fields are event counts; derived values (hits of the
// instruction side, totals) are computed when the report is written.
struct Counters {
  uint64_t insns = 0;                  // instructions executed
  uint64_t insns_translated = 0;       // of which with Sv39 on, in S or U mode
  uint64_t loads = 0, stores = 0;      // translated data accesses
  uint64_t untranslated = 0;           // data accesses with no Sv39 translation (bare or M)
  uint64_t l1i_lookups = 0;            // ITLB lookups (one per TB and page, see docs)
  uint64_t l1i_misses = 0, l1d_misses = 0;
  uint64_t l2i_hits = 0, l2i_misses = 0, l2d_hits = 0, l2d_misses = 0;
  uint64_t walks = 0, walk_refs = 0, walk_faults = 0;  // walk_refs: memory references
  uint64_t walk_refs_i = 0, walk_refs_d = 0;
  uint64_t walk_cache_hits = 0;        // walk levels served by the page-walk cache (no reference)
  uint64_t page_crossings = 0;         // data accesses spanning two pages: a second DTLB access
  uint64_t fault_lookups_i = 0, fault_lookups_d = 0;  // page-faulting accesses (seen at the trap)
  uint64_t traps_from_u = 0, srets = 0;  // trap entries from U mode, sret executed
  uint64_t l1i_misses_after_flush = 0, l1d_misses_after_flush = 0, l2_misses_after_flush = 0;
  uint64_t sfence_all = 0, sfence_asid = 0, sfence_va = 0, sfence_va_asid = 0;
  uint64_t satp_writes = 0, satp_changes = 0, satp_flushes = 0;
  uint64_t entries_flushed = 0;
  uint64_t mismatches = 0;
  uint64_t checked_data = 0, checked_fetch = 0, unchecked_data = 0, unchecked_fetch = 0;
  uint64_t user_kernel_probes = 0, user_hits_on_kernel_entries = 0;

  void add(const Counters& o);
};

// Cycle costs of the modelled events (docs/tlbmodel.md "Cost model"). "Modelled cycles" are
// computed from counted events with these constants, never measured.
struct CostModel {
  double cpi = 1;               // cycles per instruction, TLB effects excluded
  double trap_entry = 0;        // a trap from U into S (the hardware's part)
  double trap_exit = 0;         // an sret
  double satp_write = 0;        // a csrw satp (pipeline flush)
  double sfence_all = 0, sfence_asid = 0, sfence_va = 0, sfence_va_asid = 0;
  double l2_hit = 0;            // an L1 miss served by the L2 TLB
  double walk_ref_mem = 0;      // a page-walk memory reference
  double walk_ref_cache = 0;    // a walk level served by the page-walk cache
  double cycles(const Counters& c) const;
};

}  // namespace tlbm
