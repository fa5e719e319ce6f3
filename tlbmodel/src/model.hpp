// The TLB model proper: TLB structures, the Sv39 walker over a shadow of guest RAM, the
// hierarchy (L1 ITLB + L1 DTLB + optional shared L2) and its counters. Nothing here depends on
// QEMU: tests/unit/test_model.cpp drives it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace tlbm {

constexpr uint64_t kVaMask = (1ull << 39) - 1;  // Sv39: 39 significant VA bits
constexpr uint64_t kPpnMask = (1ull << 44) - 1;
constexpr uint64_t kKernelHalf = 0xffffffc000000000ull;  // first VA of the upper half
constexpr uint64_t kNoPa = ~0ull;

inline constexpr unsigned page_shift(unsigned level) { return 12 + 9 * level; }

enum PteBits : uint8_t {
  PTE_V = 1, PTE_R = 2, PTE_W = 4, PTE_X = 8, PTE_U = 16, PTE_G = 32, PTE_A = 64, PTE_D = 128
};

enum class Repl : uint8_t { Lru, Fifo, Random, Plru };
const char* repl_name(Repl r);

// Tree pseudo-LRU over n ways (n >= 1, any n): the left subtree of a node over n ways covers
// the largest power of two below n, the right one the rest (the shape rocket-chip's PseudoLRU
// uses). One bit per inner node, 0: the victim is on the left, 1: on the right. A use points
// every node on the way's path away from it. `bits` holds 2 * 2^ceil(log2 n) bits of state.
struct PlruTree {
  static uint32_t nodes_for(uint32_t n);
  static void touch(uint8_t* bits, uint32_t n, uint32_t way);
  static uint32_t victim(const uint8_t* bits, uint32_t n);
};

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

// ------------------------------------------------------------------ one TLB structure
struct Translation {
  uint64_t vpn = 0;      // (va & kVaMask) >> page_shift(level)
  uint64_t pa_base = 0;  // physical address of the first byte of the page
  uint8_t level = 0;     // 0: 4 KiB, 1: 2 MiB, 2: 1 GiB
  uint8_t flags = 0;     // PTE bits 7..0 (V R W X U G A D)
};

struct Entry {
  uint64_t vpn = 0;
  uint64_t pa_base = 0;
  uint64_t fill_id = 0;  // unique per fill: validates the lookup cache
  int next = -1;         // hash-chain link
  uint16_t asid = 0;
  uint8_t level = 0;
  uint8_t flags = 0;
  bool valid = false;
  bool global() const { return flags & PTE_G; }
  uint64_t va_base() const { return vpn << page_shift(level); }
  uint64_t size() const { return 1ull << page_shift(level); }
};

struct Geometry {
  uint32_t entries = 0;   // 0 with infinite = unbounded
  uint32_t ways = 0;      // 0: fully associative
  bool infinite = false;
  static Geometry fa(uint32_t n) { return {n, 0, false}; }
  static Geometry sa(uint32_t n, uint32_t w) { return {n, w, false}; }
  bool present() const { return infinite || entries > 0; }
  std::string describe() const;
};

class Tlb {
 public:
  Tlb(const Geometry& g, Repl repl, uint64_t seed, bool asid_on);

  // Index of an entry translating va (any 64-bit VA; only the low 39 bits count) in address
  // space asid, or -1. Changes no replacement state.
  int find(uint64_t va, uint16_t asid);
  // Records a use of entry idx (LRU bookkeeping) for an access to va.
  void touch(int idx, uint64_t va);
  // Fills a translation for address space asid, evicting per the replacement policy.
  // *after_flush tells whether this translation had been removed by a flush and not refilled.
  int insert(const Translation& t, uint16_t asid, uint64_t va, bool* after_flush);
  const Entry& at(int idx) const { return slots_[idx]; }

  size_t flush_all();
  size_t flush_asid(uint16_t asid);             // non-global entries of asid
  size_t flush_va(uint64_t va);                 // entries translating va: every ASID, globals too
  size_t flush_va_asid(uint64_t va, uint16_t asid);  // non-global entries translating va in asid
  size_t flush_nonglobal();                     // every non-global entry

  size_t valid_count() const;
  const Geometry& geometry() const { return geo_; }

 private:
  bool matches(const Entry& e, uint64_t va39, uint16_t asid) const {
    return e.valid && (va39 >> page_shift(e.level)) == e.vpn &&
           (!asid_on_ || e.global() || e.asid == asid);
  }
  uint64_t key_of(uint64_t vpn, uint8_t level, bool global, uint16_t asid) const;
  uint64_t key_of(const Entry& e) const { return key_of(e.vpn, e.level, e.global(), e.asid); }
  size_t bucket_of(uint64_t vpn, unsigned level) const {
    return size_t(((vpn + (uint64_t(level) << 40)) * 0x9e3779b97f4a7c15ull) >> bucket_shift_);
  }
  void link(int idx);
  void unlink(int idx);
  void rehash(size_t buckets);
  void remember(uint64_t va39, int idx);
  void kill(int idx);
  template <class Pred> size_t flush_if(Pred pred);
  template <class Pred> size_t flush_va_if(uint64_t va, Pred pred);
  uint64_t rand_next();

  Geometry geo_;
  Repl repl_;
  bool asid_on_;
  uint32_t sets_ = 1, ways_ = 1, set_mask_ = 0;  // set_mask_: sets_ - 1 when a power of two
  bool sets_pow2_ = true;
  uint64_t fills_ = 0, rng_;
  std::vector<Entry> slots_;
  // Finite TLBs: per set, a list from most to least recently used (LRU) or filled (FIFO);
  // free entries sit at the tail, so the tail is always the victim. O(1) use, fill, eviction.
  std::vector<int> prev_, next_;
  std::vector<int> head_, tail_;
  // Tree-PLRU: per set, PlruTree state, and the number of valid ways (the lowest-numbered
  // invalid way is filled first while there is one, as rocket-chip and openc910 do).
  std::vector<uint8_t> plru_;
  uint32_t plru_stride_ = 0;
  std::vector<uint32_t> set_live_;
  void to_head(int idx);
  void to_tail(int idx);
  void list_remove(int idx, size_t set);
  size_t set_of_slot(int idx) const { return ways_shift_ >= 0 ? size_t(idx) >> ways_shift_ : size_t(idx) / ways_; }
  int ways_shift_ = 0;  // log2(ways_) when a power of two, else -1
  // Every valid entry is on the chain of the bucket of its (level, vpn): a miss costs at most
  // three short chain walks, whatever the size.
  std::vector<int> bucket_;
  unsigned bucket_shift_ = 60;
  uint32_t level_count_[3] = {0, 0, 0};
  size_t live_ = 0;
  std::vector<int> free_;  // infinite TLBs: free slots
  // translations removed by a flush and not refilled since (keys)
  std::unordered_set<uint64_t> flushed_;
  // direct-mapped lookup cache: 4 KiB VPN -> slot
  struct Slot {
    uint64_t vpage = ~0ull;
    uint64_t fill_id = 0;
    int idx = 0;
  };
  static constexpr unsigned kCache = 256;
  Slot cache_[kCache];
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

// ------------------------------------------------------------------ the hierarchy
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

struct Config {
  std::string preset = "u54";
  Geometry l1i{32, 0, false}, l1d{32, 0, false}, l2{128, 1, false};
  Geometry l1i_super{}, l1d_super{};  // separate superpage arrays of the L1s (none: shared)
  Repl repl = Repl::Lru;
  uint64_t seed = 1;
  unsigned asid_bits = 16;      // ASID bits the model tags entries with (0: no ASIDs)
  unsigned core_asid_bits = 16; // the preset's core implements this many
  bool satp_flush = false;      // the core flushes non-global entries when a satp write changes
                                // the root without ASIDs (the spec does not; off everywhere)
  uint32_t walk_cache = 0;      // entries of the non-leaf page-walk cache (0: none)
  bool l2_4k_only = false;      // the L2 is refilled with 4 KiB leaves only (rocket-chip PTW)
  CostModel cost;
  bool asid_on() const { return asid_bits > 0; }
  uint16_t asid_mask() const { return asid_bits >= 16 ? 0xffff : uint16_t((1u << asid_bits) - 1); }
  // Applies a preset by name; false when unknown.
  bool apply_preset(const std::string& name);
};
// Preset names, in the order the docs list them.
extern const char* const kPresetNames[];
extern const size_t kPresetCount;

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
