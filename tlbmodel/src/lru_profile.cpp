#include "lru_profile.hpp"

#include <algorithm>
#include <cstdio>

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
