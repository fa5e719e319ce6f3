#include "model.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdio>

namespace tlbm {

const char* repl_name(Repl r) {
  switch (r) {
    case Repl::Lru: return "lru";
    case Repl::Fifo: return "fifo";
    case Repl::Random: return "random";
    case Repl::Plru: return "plru";
  }
  return "?";
}

// ------------------------------------------------------------------ PlruTree
// Nodes are numbered as a heap (root 1, children 2i and 2i+1) over the unbalanced tree.
static uint32_t plru_left(uint32_t n) {  // ways in the left subtree of a node over n > 1 ways
  uint32_t p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

uint32_t PlruTree::nodes_for(uint32_t n) {
  uint32_t p = 1;
  while (p < n) p *= 2;
  return 2 * p;
}

void PlruTree::touch(uint8_t* bits, uint32_t n, uint32_t way) {
  uint32_t node = 1, lo = 0;
  while (n > 1) {
    const uint32_t left = plru_left(n);
    if (way < lo + left) {
      bits[node] = 1;  // used on the left: the next victim is on the right
      node = 2 * node;
      n = left;
    } else {
      bits[node] = 0;
      node = 2 * node + 1;
      lo += left;
      n -= left;
    }
  }
}

uint32_t PlruTree::victim(const uint8_t* bits, uint32_t n) {
  uint32_t node = 1, lo = 0;
  while (n > 1) {
    const uint32_t left = plru_left(n);
    if (!bits[node]) {
      node = 2 * node;
      n = left;
    } else {
      node = 2 * node + 1;
      lo += left;
      n -= left;
    }
  }
  return lo;
}

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

// ------------------------------------------------------------------ Geometry
std::string Geometry::describe() const {
  if (infinite) return "infinite";
  if (entries == 0) return "none";
  char buf[64];
  if (ways == 0 || ways == entries)
    std::snprintf(buf, sizeof buf, "%u entries, fully associative", entries);
  else if (ways == 1)
    std::snprintf(buf, sizeof buf, "%u entries, direct-mapped", entries);
  else
    std::snprintf(buf, sizeof buf, "%u entries, %u-way", entries, ways);
  return buf;
}

// ------------------------------------------------------------------ Tlb
Tlb::Tlb(const Geometry& g, Repl repl, uint64_t seed, bool asid_on)
    : geo_(g), repl_(repl), asid_on_(asid_on), rng_(seed ? seed : 0x9e3779b97f4a7c15ull) {
  size_t buckets = 1024;
  if (!g.infinite) {
    ways_ = (g.ways == 0 || g.ways > g.entries) ? g.entries : g.ways;
    if (ways_ == 0) ways_ = 1;
    sets_ = g.entries / ways_;
    if (sets_ == 0) sets_ = 1;
    sets_pow2_ = (sets_ & (sets_ - 1)) == 0;
    set_mask_ = sets_ - 1;
    ways_shift_ = -1;
    for (int b = 0; b < 31; b++)
      if ((1u << b) == ways_) ways_shift_ = b;
    slots_.resize(size_t(sets_) * ways_);
    prev_.assign(slots_.size(), -1);
    next_.assign(slots_.size(), -1);
    head_.assign(sets_, -1);
    tail_.assign(sets_, -1);
    for (size_t set = 0; set < sets_; set++) {
      const int first = int(set * ways_);
      for (uint32_t w = 0; w < ways_; w++) {
        const int i = first + int(w);
        prev_[i] = w ? i - 1 : -1;
        next_[i] = w + 1 < ways_ ? i + 1 : -1;
      }
      head_[set] = first;
      tail_[set] = first + int(ways_) - 1;
    }
    buckets = 16;
    while (buckets < 2 * slots_.size()) buckets *= 2;
    if (repl_ == Repl::Plru) {
      plru_stride_ = PlruTree::nodes_for(ways_);
      plru_.assign(size_t(sets_) * plru_stride_, 0);
    }
    set_live_.assign(sets_, 0);
  }
  rehash(buckets);
}

uint64_t Tlb::key_of(uint64_t vpn, uint8_t level, bool global, uint16_t asid) const {
  uint64_t a = (global || !asid_on_) ? 0 : asid;
  return (uint64_t(level) << 44) | (uint64_t(global) << 43) | (a << 27) | (vpn & ((1u << 27) - 1));
}

uint64_t Tlb::rand_next() {
  // xorshift64*: deterministic for a given seed
  rng_ ^= rng_ >> 12;
  rng_ ^= rng_ << 25;
  rng_ ^= rng_ >> 27;
  return rng_ * 0x2545f4914f6cdd1dull;
}

void Tlb::rehash(size_t buckets) {
  unsigned bits = 0;
  while ((size_t(1) << bits) < buckets) bits++;
  bucket_shift_ = 64 - bits;
  bucket_.assign(size_t(1) << bits, -1);
  for (size_t i = 0; i < slots_.size(); i++)
    if (slots_[i].valid) {
      size_t b = bucket_of(slots_[i].vpn, slots_[i].level);
      slots_[i].next = bucket_[b];
      bucket_[b] = int(i);
    }
}

void Tlb::list_remove(int idx, size_t set) {
  if (prev_[idx] >= 0) next_[prev_[idx]] = next_[idx]; else head_[set] = next_[idx];
  if (next_[idx] >= 0) prev_[next_[idx]] = prev_[idx]; else tail_[set] = prev_[idx];
}

void Tlb::to_head(int idx) {
  const size_t set = set_of_slot(idx);
  if (head_[set] == idx) return;
  list_remove(idx, set);
  prev_[idx] = -1;
  next_[idx] = head_[set];
  prev_[head_[set]] = idx;
  head_[set] = idx;
}

void Tlb::to_tail(int idx) {
  const size_t set = set_of_slot(idx);
  if (tail_[set] == idx) return;
  list_remove(idx, set);
  next_[idx] = -1;
  prev_[idx] = tail_[set];
  next_[tail_[set]] = idx;
  tail_[set] = idx;
}

void Tlb::link(int idx) {
  Entry& e = slots_[idx];
  const size_t b = bucket_of(e.vpn, e.level);
  e.next = bucket_[b];
  bucket_[b] = idx;
  level_count_[e.level]++;
  live_++;
}

void Tlb::unlink(int idx) {
  Entry& e = slots_[idx];
  int* p = &bucket_[bucket_of(e.vpn, e.level)];
  while (*p != idx) p = &slots_[*p].next;
  *p = e.next;
  e.next = -1;
  level_count_[e.level]--;
  live_--;
}

void Tlb::remember(uint64_t va39, int idx) {
  Slot& s = cache_[(va39 >> 12) & (kCache - 1)];
  s.vpage = va39 >> 12;
  s.idx = idx;
  s.fill_id = slots_[idx].fill_id;
}

int Tlb::find(uint64_t va, uint16_t asid) {
  const uint64_t va39 = va & kVaMask;
  const Slot& s = cache_[(va39 >> 12) & (kCache - 1)];
  if (s.vpage == (va39 >> 12) && size_t(s.idx) < slots_.size()) {
    const Entry& e = slots_[s.idx];
    if (e.fill_id == s.fill_id && matches(e, va39, asid)) return s.idx;
  }
  for (unsigned lvl = 0; lvl < 3; lvl++) {
    if (!level_count_[lvl]) continue;
    const uint64_t vpn = va39 >> page_shift(lvl);
    for (int i = bucket_[bucket_of(vpn, lvl)]; i >= 0; i = slots_[i].next) {
      const Entry& e = slots_[i];
      if (e.vpn == vpn && e.level == lvl && (!asid_on_ || e.global() || e.asid == asid)) {
        remember(va39, i);
        return i;
      }
    }
  }
  return -1;
}

void Tlb::touch(int idx, uint64_t va) {
  if (!geo_.infinite) {
    if (repl_ == Repl::Lru) {
      to_head(idx);
    } else if (repl_ == Repl::Plru) {
      const size_t set = set_of_slot(idx);
      PlruTree::touch(&plru_[set * plru_stride_], ways_, uint32_t(idx - int(set * ways_)));
    }
  }
  remember(va & kVaMask, idx);
}

int Tlb::insert(const Translation& t, uint16_t asid, uint64_t va, bool* after_flush) {
  const bool global = t.flags & PTE_G;
  const uint16_t a = asid_on_ ? asid : 0;
  *after_flush = !flushed_.empty() && flushed_.erase(key_of(t.vpn, t.level, global, a)) > 0;

  int idx = -1;
  if (geo_.infinite) {
    // The same translation may already be here (a stale one, under another flag set): reuse.
    for (int i = bucket_[bucket_of(t.vpn, t.level)]; i >= 0; i = slots_[i].next) {
      const Entry& e = slots_[i];
      if (e.vpn == t.vpn && e.level == t.level && e.global() == global && e.asid == a) {
        idx = i;
        break;
      }
    }
    if (idx >= 0) {
      unlink(idx);
    } else if (!free_.empty()) {
      idx = free_.back();
      free_.pop_back();
    } else {
      idx = int(slots_.size());
      slots_.emplace_back();
      if (slots_.size() * 2 > bucket_.size()) rehash(bucket_.size() * 2);
    }
  } else {
    const size_t set = sets_pow2_ ? (t.vpn & set_mask_) : (t.vpn % sets_);
    const int first = int(set * ways_);
    if (repl_ == Repl::Plru) {
      idx = -1;
      if (set_live_[set] < ways_) {
        for (uint32_t w = 0; w < ways_ && idx < 0; w++)
          if (!slots_[first + int(w)].valid) idx = first + int(w);
      }
      if (idx < 0) idx = first + int(PlruTree::victim(&plru_[set * plru_stride_], ways_));
      PlruTree::touch(&plru_[set * plru_stride_], ways_, uint32_t(idx - first));
    } else {
      idx = tail_[set];  // a free entry if there is one, else the least recently used/filled
      if (repl_ == Repl::Random && slots_[idx].valid) idx = first + int(rand_next() % ways_);
    }
    if (slots_[idx].valid) unlink(idx); else set_live_[set]++;
    to_head(idx);
  }
  Entry& e = slots_[idx];
  e.vpn = t.vpn;
  e.pa_base = t.pa_base;
  e.level = t.level;
  e.flags = t.flags;
  e.asid = a;
  e.valid = true;
  e.fill_id = ++fills_;
  link(idx);
  remember(va & kVaMask, idx);
  return idx;
}

void Tlb::kill(int idx) {
  unlink(idx);
  slots_[idx].valid = false;
  if (geo_.infinite) {
    free_.push_back(idx);
  } else {
    to_tail(idx);
    set_live_[set_of_slot(idx)]--;
  }
}

template <class Pred>
size_t Tlb::flush_if(Pred pred) {
  size_t n = 0;
  if (live_ == 0) return 0;
  for (size_t i = 0; i < slots_.size(); i++) {
    Entry& e = slots_[i];
    if (e.valid && pred(e)) {
      flushed_.insert(key_of(e));
      kill(int(i));
      n++;
    }
  }
  return n;
}

size_t Tlb::flush_all() {
  return flush_if([](const Entry&) { return true; });
}

size_t Tlb::flush_asid(uint16_t asid) {
  return flush_if([&](const Entry& e) { return !e.global() && (!asid_on_ || e.asid == asid); });
}

// Entries translating va can only be on three hash chains.
template <class Pred>
size_t Tlb::flush_va_if(uint64_t va, Pred pred) {
  const uint64_t va39 = va & kVaMask;
  int victims[64];
  size_t n = 0, total = 0;
  for (unsigned lvl = 0; lvl < 3; lvl++) {
    if (!level_count_[lvl]) continue;
    const uint64_t vpn = va39 >> page_shift(lvl);
    bool again = true;
    while (again) {  // more than 64 matches (many ASIDs) take several rounds
      again = false;
      n = 0;
      for (int i = bucket_[bucket_of(vpn, lvl)]; i >= 0; i = slots_[i].next) {
        const Entry& e = slots_[i];
        if (e.vpn == vpn && e.level == lvl && pred(e)) {
          if (n == 64) {
            again = true;
            break;
          }
          victims[n++] = i;
        }
      }
      for (size_t k = 0; k < n; k++) {
        flushed_.insert(key_of(slots_[victims[k]]));
        kill(victims[k]);
      }
      total += n;
    }
  }
  return total;
}

size_t Tlb::flush_va(uint64_t va) {
  return flush_va_if(va, [](const Entry&) { return true; });
}

size_t Tlb::flush_va_asid(uint64_t va, uint16_t asid) {
  return flush_va_if(va, [&](const Entry& e) { return !e.global() && (!asid_on_ || e.asid == asid); });
}

size_t Tlb::flush_nonglobal() {
  return flush_if([](const Entry& e) { return !e.global(); });
}

size_t Tlb::valid_count() const { return live_; }

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

// ------------------------------------------------------------------ Config
// The presets. docs/tlbmodel.md "Presets" gives the source of every number or marks it as an
// assumption; harness/tlb.py keeps a copy of the ASID widths (checked by a test).
namespace {
struct PresetDef {
  const char* name;
  Geometry l1i, l1d, l1i_super, l1d_super, l2;
  Repl repl;
  uint32_t walk_cache;
  bool l2_4k_only;
  unsigned asid_bits;
  CostModel cost;
};
const Geometry kNone{};
const Geometry kInf{0, 0, true};
// CostModel: cpi, trap_entry, trap_exit, satp_write, sfence_all, sfence_asid, sfence_va,
// sfence_va_asid, l2_hit, walk_ref_mem, walk_ref_cache
const PresetDef kPresets[] = {
    // SiFive U54 in the FU540: Rocket-derived in-order, 5 stages.
    {"u54", Geometry::fa(32), Geometry::fa(32), Geometry::fa(4), Geometry::fa(4),
     Geometry::sa(128, 1), Repl::Plru, 8, true, 0,
     {1, 5, 5, 5, 5, 5, 5, 5, 4, 20, 1}},
    // SiFive U74 in the JH7110: in-order dual-issue, 8 stages.
    {"u74", Geometry::fa(40), Geometry::fa(40), kNone, kNone, kNone, Repl::Plru, 8, true, 0,
     {1, 8, 8, 8, 8, 8, 8, 8, 4, 20, 1}},
    // T-Head C906: in-order, 5 stages.
    {"c906", Geometry::fa(10), Geometry::fa(10), kNone, kNone, Geometry::sa(512, 4), Repl::Plru,
     0, false, 16, {1, 5, 5, 5, 5, 5, 5, 5, 4, 20, 1}},
    // T-Head C910: out-of-order, 12 stages.
    {"c910", Geometry::fa(32), Geometry::fa(16), kNone, Geometry::fa(1), Geometry::sa(1024, 4),
     Repl::Plru, 0, false, 16, {1, 12, 12, 12, 12, 12, 12, 12, 4, 20, 1}},
    // rocket-chip defaults (RocketCoreParams, ICacheParams/DCacheParams, PTW).
    {"rocket", Geometry::fa(32), Geometry::fa(32), Geometry::fa(4), Geometry::fa(4), kNone,
     Repl::Plru, 8, true, 0, {1, 5, 5, 5, 5, 5, 5, 5, 4, 20, 1}},
    // XiangShan Kunminghu: out-of-order.
    {"xiangshan", Geometry::fa(48), Geometry::fa(48), kNone, kNone, Geometry::sa(256, 4),
     Repl::Plru, 24, true, 16, {0.5, 15, 15, 15, 15, 15, 15, 15, 4, 20, 1}},
    // Unbounded L1s: only compulsory misses and misses caused by flushes.
    {"ideal", kInf, kInf, kNone, kNone, kNone, Repl::Lru, 0, false, 16,
     {1, 0, 0, 0, 0, 0, 0, 0, 0, 20, 1}},
};
}  // namespace

const char* const kPresetNames[] = {"u54", "u74", "c906", "c910", "rocket", "xiangshan", "ideal"};
const size_t kPresetCount = sizeof kPresets / sizeof kPresets[0];
static_assert(sizeof kPresetNames / sizeof kPresetNames[0] == sizeof kPresets / sizeof kPresets[0]);

bool Config::apply_preset(const std::string& name) {
  for (const PresetDef& p : kPresets) {
    if (name != p.name) continue;
    preset = name;
    l1i = p.l1i;
    l1d = p.l1d;
    l1i_super = p.l1i_super;
    l1d_super = p.l1d_super;
    l2 = p.l2;
    repl = p.repl;
    walk_cache = p.walk_cache;
    l2_4k_only = p.l2_4k_only;
    asid_bits = core_asid_bits = p.asid_bits;
    satp_flush = false;
    cost = p.cost;
    return true;
  }
  return false;
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

namespace tlbm {

// ------------------------------------------------------------------ LruStack::FlatMap
int LruStack::FlatMap::find(uint64_t k) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = slot(k);; i = (i + 1) & mask) {
    if (slots_[i].key == k) return slots_[i].val;
    if (slots_[i].key == kEmpty) return -1;
  }
}

void LruStack::FlatMap::grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  used_ = 0;
  for (const Slot& e : old)
    if (e.key != kEmpty) put(e.key, e.val);
}

void LruStack::FlatMap::put(uint64_t k, int v) {
  if (2 * (used_ + 1) > slots_.size()) grow();  // load factor at most 1/2: short probes
  const size_t mask = slots_.size() - 1;
  for (size_t i = slot(k);; i = (i + 1) & mask) {
    if (slots_[i].key == k) {
      slots_[i].val = v;
      return;
    }
    if (slots_[i].key == kEmpty) {
      slots_[i] = {k, v};
      used_++;
      return;
    }
  }
}

void LruStack::FlatMap::erase(uint64_t k) {
  const size_t mask = slots_.size() - 1;
  size_t i = slot(k);
  while (slots_[i].key != k) {
    if (slots_[i].key == kEmpty) return;
    i = (i + 1) & mask;
  }
  // Backward-shift deletion: move later members of the probe run into the hole, so that no
  // tombstones are needed and every probe stops at the first empty slot.
  for (size_t j = (i + 1) & mask; slots_[j].key != kEmpty; j = (j + 1) & mask) {
    const size_t home = slot(slots_[j].key);
    // slots_[j] may fill the hole at i when its home is not cyclically in (i, j]
    const bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = Slot{};
  used_--;
}

// Bits set in x. Inline SWAR: __builtin_popcountll becomes a libgcc call without -mpopcnt,
// and the host build must not assume the host's instruction set.
static inline int popcount64(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return int((x * 0x0101010101010101ull) >> 56);
}

void LruStack::reset_tree(size_t cap) {
  cap_ = cap;  // a multiple of 64
  bits_.assign(cap / 64, 0);
  btree_.assign(cap / 64 + 1, 0);
}

void LruStack::add(uint32_t t, int v) {
  const size_t p = t - 1;
  if (v > 0) bits_[p >> 6] |= 1ull << (p & 63); else bits_[p >> 6] &= ~(1ull << (p & 63));
  for (size_t i = (p >> 6) + 1; i < btree_.size(); i += i & (~i + 1)) btree_[i] += v;
}

size_t LruStack::prefix(uint32_t t) const {
  const size_t p = t - 1, block = p >> 6;
  int64_t s = popcount64(bits_[block] & ((2ull << (p & 63)) - 1));
  for (size_t i = block; i > 0; i -= i & (~i + 1)) s += btree_[i];
  return size_t(s);
}

uint32_t LruStack::new_stamp() {
  if (clock_ >= cap_) {
    // Out of stamps: renumber the live items 1..n in their order, dropping the holes below
    // every entry, in a tree with room for at least as many new uses again (so compactions
    // cost O(1) per use, amortised).
    // (stamp, node or kHole) of every item, oldest first; O(n log n) once per >= n uses
    std::vector<std::pair<uint32_t, int>> items;
    items.reserve(live_ + holes_.size());
    for (size_t i = 0; i < nodes_.size(); i++)
      if (nodes_[i].stamp) items.emplace_back(nodes_[i].stamp, int(i));
    for (uint32_t h : holes_) items.emplace_back(h, kHole);
    std::sort(items.begin(), items.end());
    std::vector<int> order;
    order.reserve(items.size());
    bool seen_entry = false;
    for (const auto& [t, v] : items) {
      if (v >= 0) seen_entry = true;
      if (v >= 0 || seen_entry) order.push_back(v);
    }
    size_t cap = 1024;
    while (cap < 2 * (order.size() + 1)) cap *= 2;
    reset_tree(cap);
    holes_.clear();
    for (size_t i = 0; i < order.size(); i++) {
      const uint32_t t = uint32_t(i + 1);
      if (order[i] >= 0) nodes_[order[i]].stamp = t; else holes_.push_back(t);
      bits_[i >> 6] |= 1ull << (i & 63);
    }
    // linear-time construction of the block tree: each node's sum pushed to its parent
    for (size_t i = 1; i < btree_.size(); i++) {
      btree_[i] += popcount64(bits_[i - 1]);
      const size_t parent = i + (i & (~i + 1));
      if (parent < btree_.size()) btree_[parent] += btree_[i];
    }
    std::make_heap(holes_.begin(), holes_.end());
    clock_ = uint32_t(order.size());
  }
  return ++clock_;
}

void LruStack::consume_top_hole() {
  std::pop_heap(holes_.begin(), holes_.end());
  const uint32_t h = holes_.back();
  holes_.pop_back();
  add(h, -1);
}

void LruStack::put_on_top(int idx) {
  const uint32_t t = new_stamp();  // may renumber: read stamps only after it
  nodes_[idx].stamp = t;
  add(t, +1);
}

void LruStack::to_top(int idx, bool fills) {
  const uint32_t old = nodes_[idx].stamp;
  if (old == clock_) return;  // already on top
  if (fills && !holes_.empty() && holes_.front() > old) {
    // a hole above: the sizes that miss fill it, and the old place becomes a hole
    consume_top_hole();
    holes_.push_back(old);
    std::push_heap(holes_.begin(), holes_.end());
  } else {
    add(old, -1);
  }
  nodes_[idx].stamp = 0;  // off the stack until put_on_top (a renumbering must skip it)
  put_on_top(idx);
}

uint32_t LruStack::use(uint64_t vpn, uint8_t level, bool global, uint16_t asid) {
  const uint64_t key = key_of(vpn, level, global, asid);
  int idx = by_key_.find(key);
  if (idx >= 0) {
    const uint32_t d = nodes_[idx].stamp == clock_ ? 0 : depth(nodes_[idx]);
    to_top(idx, true);
    return d;
  }
  if (!holes_.empty()) consume_top_hole();  // every size misses: those with a free entry fill it
  if (!free_.empty()) {
    idx = free_.back();
    free_.pop_back();
  } else {
    idx = int(nodes_.size());
    nodes_.emplace_back();
  }
  Node& n = nodes_[idx];
  n.key = key;
  n.vpn = vpn & ((1u << 27) - 1);
  n.level = level;
  n.global = global;
  n.asid = (global || !asid_on_) ? 0 : asid;
  n.va_prev = -1;
  const uint64_t vk = va_key(n.vpn, level);
  n.va_next = by_va_.find(vk);
  if (n.va_next >= 0) nodes_[n.va_next].va_prev = idx;
  by_va_.put(vk, idx);
  by_key_.put(key, idx);
  live_++;
  put_on_top(idx);
  return kNotPresent;
}

uint32_t LruStack::use_va(uint64_t va, uint16_t asid, bool touch) {
  const uint64_t va39 = va & kVaMask;
  int best = -1;
  for (unsigned lvl = 0; lvl < 3; lvl++) {
    const uint64_t vpn = va39 >> page_shift(lvl);
    for (int i = by_va_.find(va_key(vpn, uint8_t(lvl))); i >= 0; i = nodes_[i].va_next) {
      const Node& n = nodes_[i];
      if ((!asid_on_ || n.global || n.asid == asid) && (best < 0 || n.stamp > nodes_[best].stamp))
        best = i;
    }
  }
  if (best < 0) return kNotPresent;
  const uint32_t d = depth(nodes_[best]);
  if (touch) to_top(best, false);  // a lookup that fills nothing: no hole is consumed
  return d;
}

void LruStack::remove(int idx) {
  Node& n = nodes_[idx];
  // its place becomes a hole (counted in the tree as before)
  holes_.push_back(n.stamp);
  std::push_heap(holes_.begin(), holes_.end());
  by_key_.erase(n.key);
  if (n.va_next >= 0) nodes_[n.va_next].va_prev = n.va_prev;
  if (n.va_prev >= 0) {
    nodes_[n.va_prev].va_next = n.va_next;
  } else {
    const uint64_t vk = va_key(n.vpn, n.level);
    if (n.va_next >= 0) by_va_.put(vk, n.va_next); else by_va_.erase(vk);
  }
  n.va_prev = n.va_next = -1;
  n.stamp = 0;
  free_.push_back(idx);
  live_--;
}

template <class Pred>
size_t LruStack::remove_if(Pred pred) {
  size_t k = 0;
  for (size_t i = 0; i < nodes_.size() && live_ > 0; i++) {
    if (nodes_[i].stamp && pred(nodes_[i])) {  // stamp 0: a free node
      remove(int(i));
      k++;
    }
  }
  return k;
}

template <class Pred>
size_t LruStack::remove_va_if(uint64_t va, Pred pred) {
  const uint64_t va39 = va & kVaMask;
  size_t k = 0;
  for (unsigned lvl = 0; lvl < 3; lvl++) {
    const uint64_t vpn = va39 >> page_shift(lvl);
    for (int i = by_va_.find(va_key(vpn, uint8_t(lvl))); i >= 0;) {
      const int next = nodes_[i].va_next;
      if (pred(nodes_[i])) {
        remove(i);
        k++;
      }
      i = next;
    }
  }
  return k;
}

size_t LruStack::flush_all() {
  const size_t n = live_;
  nodes_.clear();
  free_.clear();
  by_key_.clear();
  by_va_.clear();
  holes_.clear();  // nothing below the holes: an empty stack is the same
  reset_tree(1024);
  clock_ = 0;
  live_ = 0;
  return n;
}

size_t LruStack::flush_asid(uint16_t asid) {
  return remove_if([&](const Node& n) { return !n.global && (!asid_on_ || n.asid == asid); });
}

size_t LruStack::flush_va(uint64_t va) {
  return remove_va_if(va, [](const Node&) { return true; });
}

size_t LruStack::flush_va_asid(uint64_t va, uint16_t asid) {
  return remove_va_if(va, [&](const Node& n) { return !n.global && (!asid_on_ || n.asid == asid); });
}

size_t LruStack::flush_nonglobal() {
  return remove_if([](const Node& n) { return !n.global; });
}

// ------------------------------------------------------------------ DistanceHist
void DistanceHist::add(const DistanceHist& o) {
  accesses += o.accesses;
  not_present += o.not_present;
  overflow += o.overflow;
  if (o.exact.size() > exact.size()) exact.resize(o.exact.size(), 0);
  for (size_t d = 0; d < o.exact.size(); d++) exact[d] += o.exact[d];
}

uint64_t DistanceHist::misses(uint32_t n) const {
  if (n == 0) return not_present;
  uint64_t m = not_present + overflow;
  for (size_t d = n; d < exact.size(); d++) m += exact[d];
  return m;
}

// ------------------------------------------------------------------ LruProfile
void LruProfile::drain() {
  for (size_t i = 0; i < npending_; i++) {
    const Pending& p = pending_[i];
    p.hist->count(side_[p.side_global & 1].stack.use(p.vpn, p.level, p.side_global & 2, p.asid));
  }
  npending_ = 0;
}

void LruProfile::fault(bool ifetch, uint64_t va, uint16_t asid, DistanceHist& h) {
  drain();
  Side& s = side_[ifetch];
  // A real N-entry L1 touches the entry only when it holds it (N > d) and fills nothing: the
  // stack can follow the sizes above d only (moving it up), so a fault that finds its entry
  // below the top makes the smaller sizes inexact.
  const uint32_t d = s.stack.use_va(va, asid, true);
  if (d != LruStack::kNotPresent && d > 0) {
    inexact_++;
    s.top_is_last = false;
  }
  h.count(d);
}

void LruProfile::sfence(bool has_va, uint64_t va, bool has_asid, uint64_t asid) {
  const uint16_t a = uint16_t(asid & 0xffff) & cfg_.asid_mask();  // as Mmu::sfence
  drain();
  for (Side& s : side_) {
    if (!has_va && !has_asid) s.stack.flush_all();
    else if (!has_va) s.stack.flush_asid(a);
    else if (!has_asid) s.stack.flush_va(va);
    else s.stack.flush_va_asid(va, a);
    s.top_is_last = false;
  }
}

void LruProfile::satp_flush() {
  drain();
  for (Side& s : side_) {
    s.stack.flush_nonglobal();
    s.top_is_last = false;
  }
}

}  // namespace tlbm
