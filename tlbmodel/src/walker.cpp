#include "walker.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdio>

namespace tlbm {

// ------------------------------------------------------------------ WalkCache
WalkCache::WalkCache(uint32_t entries, Repl repl)
    : tags_(entries, 0), stamp_(entries, 0), valid_(entries, false), plru_on_(repl == Repl::Plru) {
  plru_.assign(PlruTree::nodes_for(entries ? entries : 1), 0);
}

void WalkCache::use(uint32_t i) {
  stamp_[i] = ++clock_;
  if (plru_on_) PlruTree::touch(plru_.data(), size(), i);
}

bool WalkCache::lookup(uint64_t pte_pa) {
  for (uint32_t i = 0; i < size(); i++)
    if (valid_[i] && tags_[i] == pte_pa) {
      use(i);
      return true;
    }
  return false;
}

void WalkCache::insert(uint64_t pte_pa) {
  if (size() == 0) return;
  uint32_t v = size();
  for (uint32_t i = 0; i < size() && v == size(); i++)
    if (!valid_[i]) v = i;  // the lowest-numbered free entry first
  if (v == size()) {
    if (plru_on_) {
      v = PlruTree::victim(plru_.data(), size());
    } else {
      v = 0;
      for (uint32_t i = 1; i < size(); i++)
        if (stamp_[i] < stamp_[v]) v = i;
    }
  }
  tags_[v] = pte_pa;
  valid_[v] = true;
  use(v);
}

size_t WalkCache::flush() {
  size_t n = 0;
  for (uint32_t i = 0; i < size(); i++) {
    n += valid_[i];
    valid_[i] = false;
  }
  return n;
}

size_t WalkCache::valid_count() const {
  size_t n = 0;
  for (bool v : valid_) n += v;
  return n;
}

// ------------------------------------------------------------------ Shadow
Shadow::~Shadow() {
  if (mem_) munmap(mem_, size_);
}

bool Shadow::init(uint64_t base, uint64_t size) {
  // Try the requested size, then smaller ones (a machine with strict overcommit may refuse).
  for (uint64_t sz = size; sz >= (64ull << 20); sz /= 2) {
    void* p = mmap(nullptr, sz, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) {
      mem_ = static_cast<uint8_t*>(p);
      base_ = base;
      size_ = sz;
      return true;
    }
  }
  return false;
}

// ------------------------------------------------------------------ walker
WalkResult walk_sv39(const Shadow& mem, uint64_t root_pa, uint64_t va, WalkCache* wc) {
  WalkResult r;
  // Bits 63..39 must equal bit 38.
  const uint64_t top = va >> 38;
  if (top != 0 && top != (1ull << 26) - 1) return r;
  uint64_t table = root_pa;
  uint8_t inherited_g = 0;
  for (int lvl = 2; lvl >= 0; lvl--) {
    const uint64_t idx = (va >> page_shift(unsigned(lvl))) & 511;
    uint64_t pte = 0;
    r.pte_addr = table + idx * 8;
    // Only non-leaf entries are ever in the walk cache: a hit there is a valid pointer.
    const bool cached = wc && lvl > 0 && wc->lookup(r.pte_addr);
    if (cached) r.cache_hits++; else r.refs++;
    if (!mem.read64(r.pte_addr, &pte)) return r;
    r.pte = pte;
    if (!(pte & PTE_V) || (!(pte & PTE_R) && (pte & PTE_W))) return r;
    const uint64_t ppn = (pte >> 10) & kPpnMask;
    if (pte & (PTE_R | PTE_X)) {
      const uint64_t low = (1ull << (9 * lvl)) - 1;
      if (ppn & low) return r;  // misaligned superpage
      r.ok = true;
      r.t.level = uint8_t(lvl);
      r.t.vpn = (va & kVaMask) >> page_shift(unsigned(lvl));
      r.t.pa_base = ppn << 12;
      r.t.flags = uint8_t(pte & 0xff) | inherited_g;
      return r;
    }
    if (lvl == 0) return r;  // a pointer at level 0
    inherited_g |= uint8_t(pte & PTE_G);
    if (wc && !cached) wc->insert(r.pte_addr);
    table = ppn << 12;
  }
  return r;
}

}  // namespace tlbm
