#include "mmu.hpp"

#include <algorithm>
#include <cstdio>

namespace tlbm {

// ------------------------------------------------------------------ CostModel
double CostModel::cycles(const Counters& c) const {
  return double(c.insns) * cpi + double(c.traps_from_u) * trap_entry + double(c.srets) * trap_exit +
         double(c.satp_writes) * satp_write + double(c.sfence_all) * sfence_all +
         double(c.sfence_asid) * sfence_asid + double(c.sfence_va) * sfence_va +
         double(c.sfence_va_asid) * sfence_va_asid +
         double(c.l2i_hits + c.l2d_hits) * l2_hit + double(c.walk_refs) * walk_ref_mem +
         double(c.walk_cache_hits) * walk_ref_cache;
}

void Counters::add(const Counters& o) {
  // Counters is a plain block of uint64_t fields.
  static_assert(sizeof(Counters) % sizeof(uint64_t) == 0, "Counters must hold only uint64_t");
  auto* d = reinterpret_cast<uint64_t*>(this);
  auto* s = reinterpret_cast<const uint64_t*>(&o);
  for (size_t i = 0; i < sizeof(Counters) / sizeof(uint64_t); i++) d[i] += s[i];
}

// ------------------------------------------------------------------ Mmu
Mmu::Mmu(const Config& cfg, const Shadow* mem)
    : cfg_(cfg),
      mem_(mem),
      l1i_(cfg.l1i, cfg.repl, cfg.seed, cfg.asid_on()),
      l1d_(cfg.l1d, cfg.repl, cfg.seed * 3 + 1, cfg.asid_on()) {
  if (cfg.l1i_super.present())
    l1i_super_ = std::make_unique<Tlb>(cfg.l1i_super, cfg.repl, cfg.seed * 5 + 3, cfg.asid_on());
  if (cfg.l1d_super.present())
    l1d_super_ = std::make_unique<Tlb>(cfg.l1d_super, cfg.repl, cfg.seed * 11 + 4, cfg.asid_on());
  if (cfg.l2.present()) l2_ = std::make_unique<Tlb>(cfg.l2, cfg.repl, cfg.seed * 7 + 2, cfg.asid_on());
  if (cfg.walk_cache) wc_ = std::make_unique<WalkCache>(cfg.walk_cache, cfg.repl);
}

size_t Mmu::flush_each(size_t (Tlb::*fn)()) {
  size_t n = (l1i_.*fn)() + (l1d_.*fn)();
  if (l1i_super_) n += ((*l1i_super_).*fn)();
  if (l1d_super_) n += ((*l1d_super_).*fn)();
  if (l2_) n += ((*l2_).*fn)();
  return n;
}

bool Mmu::set_satp(uint64_t satp, Counters& c) {
  c.satp_changes++;
  const uint64_t mode = satp >> 60;
  sv39_ = mode == 8;
  const uint64_t root = (satp & kPpnMask) << 12;
  // A core with N ASID bits holds only the low N bits of satp.ASID (the rest read back as 0).
  asid_ = uint16_t((satp >> 44) & 0xffff) & cfg_.asid_mask();
  bool flushed = false;
  if (!cfg_.asid_on() && sv39_ && have_root_ && root != root_ && cfg_.satp_flush) {
    c.entries_flushed += flush_each(&Tlb::flush_nonglobal);
    if (wc_) wc_->flush();
    c.satp_flushes++;
    flushed = true;
  }
  if (sv39_) {
    root_ = root;
    have_root_ = true;
  }
  satp_ = satp;
  gen_++;
  return flushed;
}

// The L1 entry of that side translating va (the 4 KiB array, then the superpage array).
int Mmu::l1_find(bool ifetch, uint64_t va, Tlb** which) {
  Tlb& main = ifetch ? l1i_ : l1d_;
  int idx = main.find(va, asid_);
  if (idx >= 0) {
    *which = &main;
    return idx;
  }
  Tlb* sup = (ifetch ? l1i_super_ : l1d_super_).get();
  if (sup && (idx = sup->find(va, asid_)) >= 0) {
    *which = sup;
    return idx;
  }
  return -1;
}

WalkResult Mmu::walk(bool ifetch, uint64_t va, Counters& c) {
  const WalkResult w = walk_sv39(*mem_, root_, va, wc_.get());
  c.walks++;
  c.walk_refs += w.refs;
  c.walk_cache_hits += w.cache_hits;
  (ifetch ? c.walk_refs_i : c.walk_refs_d) += w.refs;
  if (!w.ok) c.walk_faults++;
  return w;
}

AccessResult Mmu::access(bool ifetch, uint64_t va, Counters& c) {
  const uint64_t va39 = va & kVaMask;
  Fast& fast = ifetch ? fi_ : fd_;
  Tlb* l1 = nullptr;
  int idx = l1_find(ifetch, va, &l1);
  if (idx >= 0) {
    l1->touch(idx, va);
    const Entry& e = l1->at(idx);
    set_fast(fast, e);
    return {true, e.pa_base + (va39 - e.va_base()), e.flags, e.level};
  }
  (ifetch ? c.l1i_misses : c.l1d_misses)++;
  Translation t;
  bool have = false, after_flush = false;
  if (l2_) {
    const int j = l2_->find(va, asid_);
    if (j >= 0) {
      l2_->touch(j, va);
      const Entry& e = l2_->at(j);
      t.vpn = e.vpn;
      t.pa_base = e.pa_base;
      t.level = e.level;
      t.flags = e.flags;
      have = true;
      (ifetch ? c.l2i_hits : c.l2d_hits)++;
    } else {
      (ifetch ? c.l2i_misses : c.l2d_misses)++;
    }
  }
  if (!have) {
    const WalkResult w = walk(ifetch, va, c);
    if (!w.ok) {
      AccessResult fail;
      fail.pte_addr = w.pte_addr;
      fail.pte = w.pte;
      return fail;
    }
    t = w.t;
    if (l2_ && (t.level == 0 || !cfg_.l2_4k_only)) {
      l2_->insert(t, asid_, va, &after_flush);
      if (after_flush) c.l2_misses_after_flush++;
    }
  }
  Tlb* sup = (ifetch ? l1i_super_ : l1d_super_).get();
  l1 = (t.level > 0 && sup) ? sup : (ifetch ? &l1i_ : &l1d_);
  idx = l1->insert(t, asid_, va, &after_flush);
  if (after_flush) (ifetch ? c.l1i_misses_after_flush : c.l1d_misses_after_flush)++;
  const Entry& e = l1->at(idx);
  set_fast(fast, e);
  return {true, e.pa_base + (va39 - e.va_base()), e.flags, e.level};
}

bool Mmu::fault_access(bool ifetch, uint64_t va, Counters& c) {
  (ifetch ? c.fault_lookups_i : c.fault_lookups_d)++;
  Tlb* l1 = nullptr;
  const int idx = l1_find(ifetch, va, &l1);
  if (idx >= 0) {
    l1->touch(idx, va);
    return true;
  }
  (ifetch ? c.l1i_misses : c.l1d_misses)++;
  if (l2_) {
    const int j = l2_->find(va, asid_);
    if (j >= 0) {
      l2_->touch(j, va);
      (ifetch ? c.l2i_hits : c.l2d_hits)++;
      return true;
    }
    (ifetch ? c.l2i_misses : c.l2d_misses)++;
  }
  walk(ifetch, va, c);  // nothing is filled, whatever the walk found
  return false;
}

void Mmu::sfence(bool has_va, uint64_t va, bool has_asid, uint64_t asid, Counters& c) {
  // rs2's ASID as the core holds it (its low asid_bits bits)
  const uint16_t a = uint16_t(asid & 0xffff) & cfg_.asid_mask();
  size_t n = 0;
  auto each = [&](auto&& fn) {
    n += fn(l1i_) + fn(l1d_);
    if (l1i_super_) n += fn(*l1i_super_);
    if (l1d_super_) n += fn(*l1d_super_);
    if (l2_) n += fn(*l2_);
  };
  if (!has_va && !has_asid) {
    each([](Tlb& t) { return t.flush_all(); });
    c.sfence_all++;
  } else if (!has_va) {
    each([&](Tlb& t) { return t.flush_asid(a); });
    c.sfence_asid++;
  } else if (!has_asid) {
    each([&](Tlb& t) { return t.flush_va(va); });
    c.sfence_va++;
  } else {
    each([&](Tlb& t) { return t.flush_va_asid(va, a); });
    c.sfence_va_asid++;
  }
  // Non-leaf entries: the walk cache is not ASID-tagged, so every fence without an address
  // empties it (rocket-chip PTW does the same); a fence with an address orders only the leaf
  // entry of that address (privileged spec), and leaves it.
  if (!has_va && wc_) wc_->flush();
  c.entries_flushed += n;
  gen_++;
}

int Mmu::peek(bool ifetch, uint64_t va) {
  Tlb* l1 = nullptr;
  int idx = l1_find(ifetch, va, &l1);
  if (idx >= 0) return l1->at(idx).flags;
  if (l2_) {
    idx = l2_->find(va, asid_);
    if (idx >= 0) return l2_->at(idx).flags;
  }
  return -1;
}

}  // namespace tlbm
