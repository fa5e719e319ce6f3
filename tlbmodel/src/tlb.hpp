// One TLB structure (any size, associativity and replacement policy, tree-PLRU included) and
// the Sv39 constants and page-table entry bits the model shares.
#pragma once

#include <cstddef>
#include <cstdint>
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

}  // namespace tlbm
