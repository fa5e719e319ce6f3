#include "tlb.hpp"

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

}  // namespace tlbm
