// The hierarchy: L1 ITLB + L1 DTLB (+ optional superpage arrays and a shared L2) and the
// page-walk cache, fed one access at a time, with fences and satp writes.
#pragma once

#include <memory>
#include "counters.hpp"
#include "presets.hpp"
#include "tlb.hpp"
#include "walker.hpp"

namespace tlbm {

struct AccessResult {
  bool ok = false;      // false: the walk found no valid leaf
  uint64_t pa = kNoPa;
  uint8_t flags = 0;
  uint8_t level = 0;    // the page level of the entry that translated it
  uint64_t pte_addr = kNoPa, pte = 0;  // when !ok: the entry where the walk stopped
};

class Mmu {
 public:
  Mmu(const Config& cfg, const Shadow* mem);

  // satp value observed (after a write). Counts into c. Returns true when it flushed entries
  // (satp_flush).
  bool set_satp(uint64_t satp, Counters& c);
  bool sv39() const { return sv39_; }
  uint64_t satp() const { return satp_; }
  uint16_t asid() const { return asid_; }

  // A translated access by the current address space.
  AccessResult access(bool ifetch, uint64_t va, Counters& c);
  // An access that raised a page fault (seen at the trap): looked up like any access, walked on
  // a miss, but nothing is filled. Returns true when an L1 or L2 entry translated it.
  bool fault_access(bool ifetch, uint64_t va, Counters& c);

  // Fast paths: the last entry used by each side, valid until anything may have invalidated it.
  bool fast_d(uint64_t va, uint64_t* pa) const {
    uint64_t off = (va & kVaMask) - fd_.base;
    if (fd_.gen == gen_ && off < fd_.size) {
      *pa = fd_.pa + off;
      return true;
    }
    return false;
  }
  bool fast_i(uint64_t va, uint64_t* pa) const {
    uint64_t off = (va & kVaMask) - fi_.base;
    if (fi_.gen == gen_ && off < fi_.size) {
      *pa = fi_.pa + off;
      return true;
    }
    return false;
  }

  // The size of the page the fast path of that side covers (its last entry).
  uint64_t fast_size(bool ifetch) const { return (ifetch ? fi_ : fd_).size; }

  // sfence.vma: rs1 == x0 means no address, rs2 == x0 means no ASID.
  void sfence(bool has_va, uint64_t va, bool has_asid, uint64_t asid, Counters& c);

  // Would an access to va by the current address space hit an entry (L1 of that side, then L2)?
  // Changes nothing. Returns the entry's PTE flags, or -1 on a miss.
  int peek(bool ifetch, uint64_t va);

  const Config& config() const { return cfg_; }
  Tlb& l1i() { return l1i_; }
  Tlb& l1d() { return l1d_; }
  Tlb* l2() { return l2_.get(); }
  WalkCache* walk_cache() { return wc_.get(); }

 private:
  struct Fast {
    uint64_t base = 0, size = 0, pa = 0, gen = ~0ull;
  };
  size_t flush_each(size_t (Tlb::*fn)());
  int l1_find(bool ifetch, uint64_t va, Tlb** which);
  WalkResult walk(bool ifetch, uint64_t va, Counters& c);
  void set_fast(Fast& f, const Entry& e) {
    f.base = e.va_base();
    f.size = e.size();
    f.pa = e.pa_base;
    f.gen = gen_;
  }

  Config cfg_;
  const Shadow* mem_;
  Tlb l1i_, l1d_;
  std::unique_ptr<Tlb> l1i_super_, l1d_super_, l2_;
  std::unique_ptr<WalkCache> wc_;
  uint64_t satp_ = 0;
  bool sv39_ = false;
  uint16_t asid_ = 0;
  uint64_t root_ = 0;
  bool have_root_ = false;
  uint64_t gen_ = 0;
  Fast fi_, fd_;
};

}  // namespace tlbm
