// The Sv39 page-table walker over a shadow of guest RAM, and its page-walk cache.
#pragma once

#include "tlb.hpp"

namespace tlbm {

// ------------------------------------------------------------------ shadow of guest RAM
// A copy of guest physical memory built from the stores the guest makes (and, optionally, the
// bytes of the loaded kernel image). Reserved lazily: untouched pages cost nothing.
class Shadow {
 public:
  Shadow() = default;
  ~Shadow();
  Shadow(const Shadow&) = delete;
  Shadow& operator=(const Shadow&) = delete;
  // Reserves [base, base + size). Returns false when no reservation could be made.
  bool init(uint64_t base, uint64_t size);
  bool contains(uint64_t pa, uint64_t len) const {
    return pa >= base_ && pa - base_ < size_ && len <= size_ - (pa - base_);
  }
  void write(uint64_t pa, const void* src, uint64_t len) {
    if (contains(pa, len)) __builtin_memcpy(mem_ + (pa - base_), src, len);
  }
  bool read64(uint64_t pa, uint64_t* out) const {
    if (!contains(pa, 8)) return false;
    __builtin_memcpy(out, mem_ + (pa - base_), 8);
    return true;
  }
  uint64_t base() const { return base_; }
  uint64_t size() const { return size_; }

 private:
  uint8_t* mem_ = nullptr;
  uint64_t base_ = 0, size_ = 0;
};

// ------------------------------------------------------------------ the Sv39 walker
// A page-walk cache of non-leaf PTEs (rocket-chip's "PTE cache"): fully associative, tagged
// with the physical address of the PTE, never with an ASID; LRU, or tree-PLRU. A hit saves
// that level's memory reference. Values always come from the shadow (the cache decides counts
// only), so a stale cached pointer can never make a translation wrong.
class WalkCache {
 public:
  WalkCache(uint32_t entries, Repl repl);
  uint32_t size() const { return uint32_t(tags_.size()); }
  bool lookup(uint64_t pte_pa);  // true on a hit (and records the use)
  void insert(uint64_t pte_pa);
  size_t flush();
  size_t valid_count() const;

 private:
  void use(uint32_t i);
  std::vector<uint64_t> tags_;
  std::vector<uint64_t> stamp_;  // LRU: last use
  std::vector<bool> valid_;
  std::vector<uint8_t> plru_;
  bool plru_on_;
  uint64_t clock_ = 0;
};

struct WalkResult {
  bool ok = false;
  Translation t;
  uint32_t refs = 0;         // page-table entries read from memory
  uint32_t cache_hits = 0;   // levels whose (non-leaf) entry came from the walk cache
  uint64_t pte_addr = kNoPa; // the last entry read, and its value (diagnostics)
  uint64_t pte = 0;
};
// G on a non-leaf entry makes every mapping below it global (privileged spec, Sv32 "global
// mappings"): the returned leaf flags carry G when any entry on the way had it.
WalkResult walk_sv39(const Shadow& mem, uint64_t root_pa, uint64_t va, WalkCache* wc = nullptr);

}  // namespace tlbm
