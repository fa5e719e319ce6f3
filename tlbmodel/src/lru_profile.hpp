// Stack distances of a fully associative LRU L1 at every size at once (lru_profile=on).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>
#include "presets.hpp"

namespace tlbm {

// ------------------------------------------------------------------ LRU stack distances
// Every size of a fully associative LRU L1 at once (Mattson's stack algorithm): an LRU stack
// holds the translations a fully associative L1 of unbounded size would hold, most recent on
// top, keyed exactly as a Tlb keys its entries (VPN at the leaf's level, the level, G, and the
// ASID tag when ASIDs are on). LRU has the inclusion property: an N-entry LRU L1 holds the top
// N of the stack. An access that finds its translation at depth d (0 = top) is therefore a
// hit for every N > d and a miss for every N <= d; one that does not find it (first use, or
// removed by a flush) misses at every size. Flushes remove entries with the same predicates
// as Tlb::flush_*, so a flushed translation's next use is "not present".
//
// A flushed entry leaves a hole where it was, not a gap that closes: an N-entry L1 that held
// it now has a free entry, and the entries below it in the stack (evicted from that L1 long
// ago) must not come back. Holes count in the depth. The L1 fills a free entry before it
// evicts (Tlb keeps free entries at the tail), so a miss consumes the topmost hole above the
// translation's old place (for the sizes that hold that hole it fills it, for the others it
// evicts as usual), and the translation's old place becomes a hole in its turn (the sizes that
// held it keep the same entries and one free entry). Without a hole above, an access is the
// usual move to the top. Holes below every entry change nothing and are dropped.
//
// Depth is found in O(log n) by the Bennett-Kruskal method: each live translation keeps the
// time stamp of its last use, a Fenwick tree counts live stamps (per 64-stamp block, with a
// bitmap inside the block), and the depth of stamp t is the number of live stamps after t. Stamps are renumbered (compacted) when they run out, in
// time linear in the live entries, amortised O(1) per access.
//
// Exactness (docs/tlbmodel.md "LRU profile"): the profile equals an N-entry fully associative
// LRU L1 whenever each VA matches at most one live translation (true unless a guest changes
// a mapping without a fence) and faulting accesses find their entry on top or nowhere; an
// access that breaks the second condition is counted in `inexact`.
class LruStack {
 public:
  static constexpr uint32_t kNotPresent = ~0u;
  explicit LruStack(bool asid_on) : asid_on_(asid_on) { reset_tree(1024); }

  // A use of the translation (vpn at level, G, asid tag); returns its depth before the use, or
  // kNotPresent (then it is pushed). The translation is on top afterwards.
  uint32_t use(uint64_t vpn, uint8_t level, bool global, uint16_t asid);
  // The depth of the most recent live translation matching va in address space asid, or
  // kNotPresent; with touch, that translation moves to the top.
  uint32_t use_va(uint64_t va, uint16_t asid, bool touch);

  size_t flush_all();
  size_t flush_asid(uint16_t asid);
  size_t flush_va(uint64_t va);
  size_t flush_va_asid(uint64_t va, uint16_t asid);
  size_t flush_nonglobal();
  size_t size() const { return live_; }
  size_t holes() const { return holes_.size(); }

 private:
  struct Node {
    uint64_t key = 0;   // as Tlb::key_of
    uint64_t vpn = 0;
    uint32_t stamp = 0;
    int va_prev = -1, va_next = -1;  // the list of live translations of one (level, vpn)
    uint16_t asid = 0;
    uint8_t level = 0;
    bool global = false;
  };
  // Open addressing with linear probing and backward-shift deletion: uint64 key -> int.
  class FlatMap {
   public:
    FlatMap() : slots_(64) {}
    int find(uint64_t k) const;
    void put(uint64_t k, int v);
    void erase(uint64_t k);
    void clear() { slots_.assign(64, Slot{}); used_ = 0; }
   private:
    static constexpr uint64_t kEmpty = ~0ull;
    struct Slot {  // key and value side by side: one cache line per probe
      uint64_t key = kEmpty;
      int val = -1;
    };
    size_t slot(uint64_t k) const { return size_t((k * 0x9e3779b97f4a7c15ull) >> 20) & (slots_.size() - 1); }
    void grow();
    std::vector<Slot> slots_;
    size_t used_ = 0;
  };
  uint64_t key_of(uint64_t vpn, uint8_t level, bool global, uint16_t asid) const {
    const uint64_t a = (global || !asid_on_) ? 0 : asid;
    return (uint64_t(level) << 44) | (uint64_t(global) << 43) | (a << 27) | (vpn & ((1u << 27) - 1));
  }
  static uint64_t va_key(uint64_t vpn, uint8_t level) {
    return (uint64_t(level) << 44) | (vpn & ((1u << 27) - 1));
  }
  // items (entries and holes) above the node
  uint32_t depth(const Node& n) const { return uint32_t(live_ + holes_.size() - prefix(n.stamp)); }
  void consume_top_hole();
  void put_on_top(int idx);
  // fills: the use refills the sizes that missed (consumes the topmost hole above it)
  void to_top(int idx, bool fills);
  void remove(int idx);
  template <class Pred> size_t remove_if(Pred pred);
  template <class Pred> size_t remove_va_if(uint64_t va, Pred pred);
  uint32_t new_stamp();
  void reset_tree(size_t cap);
  void add(uint32_t t, int v);
  size_t prefix(uint32_t t) const;

  bool asid_on_;
  std::vector<Node> nodes_;
  std::vector<int> free_;
  FlatMap by_key_, by_va_;   // exact key -> node; (level, vpn) -> first node of its list
  static constexpr int kHole = -2;  // in a renumbering: a hole, not a node
  size_t cap_ = 0;               // stamps 1..cap_ are available before a renumbering
  std::vector<uint64_t> bits_;   // bit t-1: stamp t holds an entry or a hole
  std::vector<int32_t> btree_;   // Fenwick tree of the items per 64-stamp block
  std::vector<uint32_t> holes_;  // stamps of the holes, a max-heap (the topmost is consumed)
  uint32_t clock_ = 0;
  size_t live_ = 0;
};

// A histogram of stack distances, exact up to kCap - 1; kCap and above in one overflow bucket.
struct DistanceHist {
  static constexpr uint32_t kCap = 4096;
  uint64_t accesses = 0, not_present = 0, overflow = 0;
  std::vector<uint64_t> exact = std::vector<uint64_t>(1, 0);  // exact[d]: accesses at depth d
                                                              // (grown on demand)
  void count_top() {  // depth 0, the most frequent case
    accesses++;
    exact[0]++;
  }
  void count(uint32_t d) {
    accesses++;
    if (d == LruStack::kNotPresent) {
      not_present++;
    } else if (d >= kCap) {
      overflow++;
    } else {
      if (d >= exact.size()) exact.resize(d + 1, 0);
      exact[d]++;
    }
  }
  void add(const DistanceHist& o);
  // Misses of an n-entry fully associative LRU L1 (n <= kCap; n = 0 means unbounded).
  uint64_t misses(uint32_t n) const;
};

// One L1 side's profile: its stack and what it needs to follow the primary model's accesses.
// The plugin calls it beside Mmu (same accesses, same flushes, same satp writes).
//
// Accesses are queued and applied to the stacks in batches: interleaved with QEMU's own work
// each stack update would find the stacks out of the caches; a batch of them runs with hot
// caches. A histogram's counts do not depend on their order, only the stacks' updates do,
// and those keep their order (a flush or a faulting look-up applies the queue first). Call
// drain() before reading the histograms, inexact() or the stacks.
class LruProfile {
 public:
  explicit LruProfile(const Config& cfg)
      : cfg_(cfg), side_{Side(cfg.asid_on()), Side(cfg.asid_on())} {}
  // An access translated by an entry (vpn at level, G) in the current address space.
  void access(bool ifetch, uint64_t vpn, uint8_t level, bool global, uint16_t asid, DistanceHist& h) {
    Side& s = side_[ifetch];
    s.last = {vpn, level, global, asid};
    s.top_is_last = true;
    s.have_last = true;
    pending_[npending_++] = {vpn, &h, asid, level, uint8_t((ifetch ? 1 : 0) | (global ? 2 : 0))};
    if (npending_ == kBatch) drain();
  }
  // An access to the page of this side's previous access, with no flush in between (the
  // plugin's fast path): depth 0, unless a faulting lookup moved another entry to the top.
  void repeat(bool ifetch, DistanceHist& h) {
    Side& s = side_[ifetch];
    if (__builtin_expect(s.top_is_last || !s.have_last, 1)) {
      h.count_top();
      return;
    }
    access(ifetch, s.last.vpn, s.last.level, s.last.global, s.last.asid, h);
  }
  // A page-faulting access (Mmu::fault_access): looked up, never filled.
  void fault(bool ifetch, uint64_t va, uint16_t asid, DistanceHist& h);
  void sfence(bool has_va, uint64_t va, bool has_asid, uint64_t asid);
  void satp_flush();  // the primary's satp_flush removed non-global entries
  void drain();       // applies the queued accesses
  uint64_t inexact() const { return inexact_; }
  const LruStack& stack(bool ifetch) const { return side_[ifetch].stack; }

 private:
  struct Last {
    uint64_t vpn = 0;
    uint8_t level = 0;
    bool global = false;
    uint16_t asid = 0;
  };
  struct Side {
    explicit Side(bool asid_on) : stack(asid_on) {}
    LruStack stack;
    Last last;
    bool have_last = false, top_is_last = false;
  };
  struct Pending {
    uint64_t vpn;
    DistanceHist* hist;
    uint16_t asid;
    uint8_t level;
    uint8_t side_global;  // bit 0: instruction side, bit 1: G
  };
  static constexpr size_t kBatch = 512;
  Config cfg_;
  Side side_[2];  // [0] data, [1] instructions
  uint64_t inexact_ = 0;
  Pending pending_[kBatch];
  size_t npending_ = 0;
};

}  // namespace tlbm
