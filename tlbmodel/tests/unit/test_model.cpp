// Unit tests of the TLB model without QEMU: known answers for replacement, associativity,
// superpages, ASIDs, the G bit, every sfence.vma form and the Sv39 walker.
// Built by `make -C tlbmodel O=DIR unit`; run by tests/test_unit.py.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "model.hpp"

using namespace tlbm;

static int g_pass = 0, g_fail = 0;
#define CHECK_EQ(a, b)                                                                     \
  do {                                                                                     \
    const long long va_ = (long long)(a), vb_ = (long long)(b);                            \
    if (va_ != vb_) {                                                                      \
      std::printf("  %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, va_, vb_); \
      ok = false;                                                                          \
    }                                                                                      \
  } while (0)

struct Test {
  const char* name;
  bool (*fn)();
};

// A guest memory image with page tables built by hand.
struct Mem {
  Shadow sh;
  uint64_t next = 0x80100000;
  Mem() { sh.init(0x80000000, 64ull << 20); }
  uint64_t table() {
    uint64_t t = next;
    next += 4096;
    return t;
  }
  void set(uint64_t pa, uint64_t v) { sh.write(pa, &v, 8); }
  static uint64_t leaf(uint64_t pa, uint64_t flags) {
    return ((pa >> 12) << 10) | flags | PTE_V | PTE_R | PTE_W | PTE_A | PTE_D;
  }
  static uint64_t ptr(uint64_t pa) { return ((pa >> 12) << 10) | PTE_V; }
};

// Address space: root; 4 KiB pages at 0x40000000 + i*4K -> 0x81000000 + i*4K (U),
// 2 MiB page at 0x40800000 -> 0x82000000, 1 GiB page at 0x100000000 -> 0x80000000,
// global 4 KiB pages at 0xc0000000 + i*4K -> 0x81400000 + i*4K.
struct Space {
  uint64_t root;
  Space(Mem& m, uint64_t user_pa = 0x81000000) {
    root = m.table();
    uint64_t l1 = m.table(), l0 = m.table(), l1k = m.table(), l0k = m.table();
    m.set(root + 1 * 8, Mem::ptr(l1));
    m.set(root + 4 * 8, Mem::leaf(0x80000000, PTE_U));
    m.set(root + 3 * 8, Mem::ptr(l1k));
    m.set(l1 + 0 * 8, Mem::ptr(l0));
    m.set(l1 + 4 * 8, Mem::leaf(0x82000000, PTE_U));
    for (uint64_t i = 0; i < 512; i++) {
      m.set(l0 + i * 8, Mem::leaf(user_pa + i * 4096, PTE_U));
      m.set(l0k + i * 8, Mem::leaf(0x81400000 + i * 4096, PTE_G));
    }
    m.set(l1k, Mem::ptr(l0k));
  }
  uint64_t satp(uint64_t asid) const { return (8ull << 60) | (asid << 44) | (root >> 12); }
};

static uint64_t page(int i) { return 0x40000000ull + uint64_t(i) * 4096; }
static uint64_t kpage(int i) { return 0xc0000000ull + uint64_t(i) * 4096; }

static Config small(uint32_t l1d, uint32_t l2 = 0, uint32_t l2_ways = 0, Repl r = Repl::Lru) {
  Config c;
  c.l1i = {8, 0, false};
  c.l1d = {l1d, 0, false};
  c.l2 = {l2, l2_ways, false};
  c.repl = r;
  return c;
}

// Touch each VA in order; returns the L1 D misses it caused.
static uint64_t run(Mmu& mmu, Counters& c, const std::vector<uint64_t>& vas) {
  const uint64_t before = c.l1d_misses;
  for (uint64_t va : vas) {
    uint64_t pa;
    if (!mmu.fast_d(va, &pa)) mmu.access(false, va, c);
  }
  return c.l1d_misses - before;
}

static std::vector<uint64_t> pages(int k, int passes = 1) {
  std::vector<uint64_t> v;
  for (int p = 0; p < passes; p++)
    for (int i = 0; i < k; i++) v.push_back(page(i));
  return v;
}

static bool t_capacity_lru() {
  bool ok = true;
  for (int k : {4, 8, 9, 16}) {
    Mem m;
    Space s(m);
    Mmu mmu(small(8), &m.sh);
    Counters c;
    mmu.set_satp(s.satp(1), c);
    CHECK_EQ(run(mmu, c, pages(k)), k);
    CHECK_EQ(run(mmu, c, pages(k, 5)), k <= 8 ? 0 : 5 * k);
    CHECK_EQ(c.walk_refs, 3 * c.walks);
  }
  return ok;
}

static bool t_fifo_vs_lru() {
  bool ok = true;
  // A B C D | A E A: LRU keeps A (1 miss), FIFO evicts A for E (2 misses).
  const std::vector<uint64_t> warm = {page(0), page(1), page(2), page(3)};
  const std::vector<uint64_t> rest = {page(0), page(4), page(0)};
  for (Repl r : {Repl::Lru, Repl::Fifo}) {
    Mem m;
    Space s(m);
    Mmu mmu(small(4, 0, 0, r), &m.sh);
    Counters c;
    mmu.set_satp(s.satp(1), c);
    CHECK_EQ(run(mmu, c, warm), 4);
    CHECK_EQ(run(mmu, c, rest), r == Repl::Lru ? 1 : 2);
  }
  return ok;
}

static bool t_random_deterministic() {
  bool ok = true;
  uint64_t first = 0;
  for (int rep = 0; rep < 2; rep++) {
    Mem m;
    Space s(m);
    Config cfg = small(8, 0, 0, Repl::Random);
    cfg.seed = 42;
    Mmu mmu(cfg, &m.sh);
    Counters c;
    mmu.set_satp(s.satp(1), c);
    const uint64_t n = run(mmu, c, pages(12, 20));
    if (rep == 0) {
      first = n;
      // random replacement keeps some of a cyclic set larger than the TLB: fewer than all miss
      if (!(n > 12 && n < 240)) {
        std::printf("  random: %llu misses\n", (unsigned long long)n);
        ok = false;
      }
    } else {
      CHECK_EQ(n, first);
    }
  }
  return ok;
}

static bool t_set_associative_l2() {
  bool ok = true;
  // L1 D of 2 entries, L2 of 16 entries in 4 ways (4 sets). Pages 4 apart share a set.
  for (int k : {4, 5}) {
    Mem m;
    Space s(m);
    Mmu mmu(small(2, 16, 4), &m.sh);
    Counters c;
    mmu.set_satp(s.satp(1), c);
    std::vector<uint64_t> v;
    for (int i = 0; i < k; i++) v.push_back(page(4 * i));
    run(mmu, c, v);
    const Counters before = c;
    for (int p = 0; p < 3; p++) run(mmu, c, v);
    CHECK_EQ(c.l1d_misses - before.l1d_misses, 3 * k);
    CHECK_EQ(c.l2d_hits - before.l2d_hits, k == 4 ? 3 * k : 0);
    CHECK_EQ(c.l2d_misses - before.l2d_misses, k == 4 ? 0 : 3 * k);
  }
  // Different sets do not conflict: 8 pages, consecutive, 2 per set.
  {
    Mem m;
    Space s(m);
    Mmu mmu(small(2, 16, 4), &m.sh);
    Counters c;
    mmu.set_satp(s.satp(1), c);
    run(mmu, c, pages(16));
    const uint64_t walks = c.walks;
    run(mmu, c, pages(16, 2));
    CHECK_EQ(c.walks - walks, 0);
  }
  return ok;
}

static bool t_superpages() {
  bool ok = true;
  Mem m;
  Space s(m);
  Mmu mmu(small(8), &m.sh);
  Counters c;
  mmu.set_satp(s.satp(1), c);
  std::vector<uint64_t> v;
  for (int i = 0; i < 512; i++) v.push_back(0x40800000ull + uint64_t(i) * 4096);
  CHECK_EQ(run(mmu, c, v), 1);
  CHECK_EQ(c.walk_refs, 2);
  v.clear();
  for (int i = 0; i < 8; i++) v.push_back(0x100000000ull + uint64_t(i) * (2u << 20));
  CHECK_EQ(run(mmu, c, v), 1);
  CHECK_EQ(c.walk_refs, 3);
  const AccessResult r = mmu.access(false, 0x100000000ull + 0x1234567, c);
  CHECK_EQ(r.pa, 0x80000000ull + 0x1234567);
  const AccessResult r2 = mmu.access(false, 0x40800000ull + 0x12345, c);
  CHECK_EQ(r2.pa, 0x82000000ull + 0x12345);
  return ok;
}

// A switch away and back. Without ASIDs the kernel fences after each satp write (as sv39lab
// does); the satp write itself flushes nothing.
static bool t_asid_switch() {
  bool ok = true;
  for (int asid_on = 0; asid_on < 2; asid_on++) {
    Mem m;
    Space a(m), b(m, 0x81800000);
    Config cfg = small(16);
    cfg.asid_bits = asid_on ? 16 : 0;
    Mmu mmu(cfg, &m.sh);
    Counters c;
    auto switch_to = [&](uint64_t satp) {
      mmu.set_satp(satp, c);
      if (!asid_on) mmu.sfence(false, 0, false, 0, c);
    };
    switch_to(a.satp(1));
    run(mmu, c, pages(4));
    switch_to(b.satp(2));
    CHECK_EQ(run(mmu, c, pages(4)), 4);
    CHECK_EQ(mmu.access(false, page(1), c).pa, 0x81801000);
    switch_to(a.satp(1));
    CHECK_EQ(run(mmu, c, pages(4)), asid_on ? 0 : 4);
    CHECK_EQ(mmu.access(false, page(1), c).pa, 0x81001000);
    CHECK_EQ(c.satp_flushes, 0);
  }
  return ok;
}

// Privileged spec: a satp write alone orders nothing and flushes nothing. Without ASIDs and
// without a fence the other space's entries stay and translate (stale: A's PAs in B).
// satp_flush=on (no preset's core) flushes the non-global entries on a root change.
static bool t_satp_write_flushes_nothing() {
  bool ok = true;
  for (int flush = 0; flush < 2; flush++) {
    Mem m;
    Space a(m), b(m, 0x81800000);
    Config cfg = small(16);
    cfg.asid_bits = 0;
    cfg.satp_flush = flush;
    Mmu mmu(cfg, &m.sh);
    Counters c;
    mmu.set_satp(a.satp(0), c);
    CHECK_EQ(run(mmu, c, pages(4)), 4);
    run(mmu, c, {kpage(0)});  // a global entry survives either way
    mmu.set_satp(b.satp(0), c);
    CHECK_EQ(c.satp_flushes, flush);
    CHECK_EQ(c.entries_flushed, flush ? 4 : 0);
    CHECK_EQ(run(mmu, c, pages(4)), flush ? 4 : 0);
    CHECK_EQ(mmu.access(false, page(1), c).pa, flush ? 0x81801000 : 0x81001000);
    CHECK_EQ(run(mmu, c, {kpage(0)}), 0);
    // The same root again (a satp write that changes nothing else) never flushes.
    mmu.set_satp(b.satp(0), c);
    CHECK_EQ(c.satp_flushes, flush);
  }
  return ok;
}

// A core with N ASID bits keeps satp.ASID's low N bits: ASIDs 1 and 3 are one tag with 1 bit.
static bool t_asid_width() {
  bool ok = true;
  for (unsigned bits : {1u, 2u}) {
    Mem m;
    Space a(m), b(m, 0x81800000);
    Config cfg = small(16);
    cfg.asid_bits = bits;
    Mmu mmu(cfg, &m.sh);
    Counters c;
    mmu.set_satp(a.satp(1), c);
    run(mmu, c, pages(4));
    mmu.set_satp(b.satp(3), c);
    CHECK_EQ(mmu.asid(), bits == 1 ? 1 : 3);
    CHECK_EQ(run(mmu, c, pages(4)), bits == 1 ? 0 : 4);
    // sfence.vma by ASID 3 is ASID 1 on the 1-bit core
    mmu.set_satp(a.satp(1), c);
    mmu.sfence(false, 0, true, 3, c);
    CHECK_EQ(run(mmu, c, pages(4)), bits == 1 ? 4 : 0);
  }
  return ok;
}

static bool t_sfence_forms() {
  bool ok = true;
  for (int asid_on = 0; asid_on < 2; asid_on++) {
    Mem m;
    Space s(m);
    Config cfg = small(32);
    cfg.asid_bits = asid_on ? 16 : 0;
    Mmu mmu(cfg, &m.sh);
    Counters c;
    mmu.set_satp(s.satp(1), c);
    std::vector<uint64_t> all;  // 4 global kernel pages, 4 non-global user pages
    for (int i = 0; i < 4; i++) all.push_back(kpage(i));
    for (int i = 0; i < 4; i++) all.push_back(page(i));
    CHECK_EQ(run(mmu, c, all), 8);
    mmu.sfence(false, 0, true, 1, c);  // by ASID: globals stay
    CHECK_EQ(run(mmu, c, all), 4);
    CHECK_EQ(c.l1d_misses_after_flush, 4);
    mmu.sfence(true, kpage(0), false, 0, c);  // by address, all ASIDs: the global goes too
    CHECK_EQ(run(mmu, c, all), 1);
    mmu.sfence(true, kpage(0), true, 1, c);  // by address and ASID: globals stay
    CHECK_EQ(run(mmu, c, all), 0);
    mmu.sfence(true, page(0), true, 1, c);
    CHECK_EQ(run(mmu, c, all), 1);
    mmu.sfence(true, page(0), true, 2, c);  // another ASID
    CHECK_EQ(run(mmu, c, all), asid_on ? 0 : 1);
    mmu.sfence(false, 0, true, 2, c);
    CHECK_EQ(run(mmu, c, all), asid_on ? 0 : 4);
    mmu.sfence(false, 0, false, 0, c);  // everything
    CHECK_EQ(run(mmu, c, all), 8);
    CHECK_EQ(c.sfence_all, 1);
    CHECK_EQ(c.sfence_asid, 2);
    CHECK_EQ(c.sfence_va, 1);
    CHECK_EQ(c.sfence_va_asid, 3);
    // An address inside a superpage flushes the whole superpage entry.
    run(mmu, c, {0x40800000});
    mmu.sfence(true, 0x40800000 + 0x1f0000, false, 0, c);
    CHECK_EQ(run(mmu, c, {0x40800000}), 1);
  }
  return ok;
}

static bool t_ideal() {
  bool ok = true;
  Mem m;
  Space s(m);
  Config cfg;
  cfg.apply_preset("ideal");
  Mmu mmu(cfg, &m.sh);
  Counters c;
  mmu.set_satp(s.satp(1), c);
  CHECK_EQ(run(mmu, c, pages(300)), 300);
  CHECK_EQ(run(mmu, c, pages(300, 3)), 0);
  mmu.sfence(true, page(7), false, 0, c);
  CHECK_EQ(run(mmu, c, pages(300)), 1);
  mmu.sfence(false, 0, true, 1, c);
  CHECK_EQ(run(mmu, c, pages(300)), 300);
  CHECK_EQ(c.l1d_misses_after_flush, 301);
  return ok;
}

static bool t_walk_faults() {
  bool ok = true;
  Mem m;
  Space s(m);
  Mmu mmu(small(8), &m.sh);
  Counters c;
  mmu.set_satp(s.satp(1), c);
  CHECK_EQ(mmu.access(false, 0x2000, c).ok, 0);            // root[0] empty: 1 level visited
  CHECK_EQ(c.walk_refs, 1);
  CHECK_EQ(mmu.access(false, 0x8000000000ull, c).ok, 0);   // not canonical
  CHECK_EQ(c.walk_faults, 2);
  // A misaligned 2 MiB leaf is invalid.
  const uint64_t l1 = (([&] {
    uint64_t pte = 0;
    m.sh.read64(s.root + 8, &pte);
    return ((pte >> 10) & kPpnMask) << 12;
  })());
  m.set(l1 + 5 * 8, Mem::leaf(0x82001000, PTE_U));
  CHECK_EQ(mmu.access(false, 0x40a00000, c).ok, 0);
  return ok;
}

static bool t_peek_user_kernel() {
  bool ok = true;
  Mem m;
  Space s(m);
  Mmu mmu(small(8), &m.sh);
  Counters c;
  mmu.set_satp(s.satp(1), c);
  CHECK_EQ(mmu.peek(false, kpage(0)), -1);
  run(mmu, c, {kpage(0)});
  const int f = mmu.peek(false, kpage(0) + 8);
  CHECK_EQ(f >= 0 && !(f & PTE_U), 1);
  CHECK_EQ(mmu.peek(true, kpage(0)), -1);  // the I side has no such entry
  return ok;
}

// Tree-PLRU known answers. 4 ways: A B C D A E B. After A B C D A the tree points away from
// A (left half) and, on the right, away from D: E replaces C. LRU replaces B instead, which
// then misses: LRU 6 misses, PLRU 5. 3 ways (tree: ways 0-1 on the left, 2 on the right):
// A B C A D B: D replaces C (PLRU, 4 misses) or B (LRU, 5 misses).
static bool t_plru() {
  bool ok = true;
  struct Case {
    uint32_t ways;
    std::vector<int> seq;
    uint64_t lru, plru;
  };
  for (const Case& k : {Case{4, {0, 1, 2, 3, 0, 4, 1}, 6, 5}, Case{3, {0, 1, 2, 0, 3, 1}, 5, 4},
                        Case{4, {0, 1, 2, 3, 0, 4, 1, 2}, 7, 6}}) {
    for (Repl r : {Repl::Lru, Repl::Plru}) {
      Mem m;
      Space s(m);
      Mmu mmu(small(k.ways, 0, 0, r), &m.sh);
      Counters c;
      mmu.set_satp(s.satp(1), c);
      std::vector<uint64_t> v;
      for (int i : k.seq) v.push_back(page(i));
      CHECK_EQ(run(mmu, c, v), r == Repl::Lru ? k.lru : k.plru);
    }
  }
  // Set-associative PLRU: 8 entries in 2 ways (4 sets); pages 4 apart share a set. A fill
  // goes to the lowest-numbered invalid way, also after a flush made a hole.
  {
    Mem m;
    Space s(m);
    Config cfg = small(8, 0, 0, Repl::Plru);
    cfg.l1d = Geometry::sa(8, 2);
    Mmu mmu(cfg, &m.sh);
    Counters c;
    mmu.set_satp(s.satp(1), c);
    CHECK_EQ(run(mmu, c, {page(0), page(4), page(0), page(8), page(0), page(4)}), 4);
    // now way 0 holds 0, way 1 holds 4 (used last: the PLRU victim is way 0). A fence frees
    // way 1; 12 fills that hole, not the victim, so 0 still hits.
    mmu.sfence(true, page(4), false, 0, c);
    CHECK_EQ(run(mmu, c, {page(12), page(0)}), 1);
    // 4 replaces 12 (way 1, not used last); then 12 replaces 0 and 0 replaces 4
    CHECK_EQ(run(mmu, c, {page(4), page(12), page(0)}), 3);
  }
  return ok;
}

// The page-walk cache of non-leaf entries (rocket-chip's PTE cache). 4 pages under one level-0
// table: the first walk reads 3 entries and caches the root's and the level-1 pointer; the
// next three read only the leaf. A fence by address keeps the cache; a fence without an
// address empties it. With 1 entry the two pointers evict each other: 3 references per walk.
static bool t_walk_cache() {
  bool ok = true;
  for (Repl r : {Repl::Lru, Repl::Plru}) {
    Mem m;
    Space s(m);
    Config cfg = small(8, 0, 0, r);
    cfg.walk_cache = 8;
    Mmu mmu(cfg, &m.sh);
    Counters c;
    mmu.set_satp(s.satp(1), c);
    CHECK_EQ(run(mmu, c, pages(4)), 4);
    CHECK_EQ(c.walk_refs, 6);
    CHECK_EQ(c.walk_cache_hits, 6);
    CHECK_EQ(mmu.walk_cache()->valid_count(), 2);
    mmu.sfence(true, page(0), true, 1, c);
    run(mmu, c, {page(0)});
    CHECK_EQ(c.walk_refs, 7);
    mmu.sfence(false, 0, true, 1, c);
    CHECK_EQ(mmu.walk_cache()->valid_count(), 0);
    run(mmu, c, {page(0)});
    CHECK_EQ(c.walk_refs, 10);
    // the 2 MiB page shares the root pointer: 1 reference, its leaf
    run(mmu, c, {0x40800000});
    CHECK_EQ(c.walk_refs, 11);
    CHECK_EQ(c.walk_cache_hits, 6 + 2 + 1);
  }
  {
    Mem m;
    Space s(m);
    Config cfg = small(8);
    cfg.walk_cache = 1;
    Mmu mmu(cfg, &m.sh);
    Counters c;
    mmu.set_satp(s.satp(1), c);
    run(mmu, c, pages(4));
    CHECK_EQ(c.walk_refs, 12);
    CHECK_EQ(c.walk_cache_hits, 0);
  }
  return ok;
}

// A separate superpage array: 4 x 4 KiB pages and 2 superpages cycled through a 4-entry L1D
// miss every time when they share it (6 distinct, LRU), and only when cold with a 2-entry
// superpage array beside it. Fences reach the superpage array too.
static bool t_superpage_array() {
  bool ok = true;
  const std::vector<uint64_t> v = {page(0), page(1), page(2), page(3), 0x40800000, 0x100000000};
  for (int sep = 0; sep < 2; sep++) {
    Mem m;
    Space s(m);
    Config cfg = small(4);
    if (sep) cfg.l1d_super = Geometry::fa(2);
    Mmu mmu(cfg, &m.sh);
    Counters c;
    mmu.set_satp(s.satp(1), c);
    CHECK_EQ(run(mmu, c, v), 6);
    CHECK_EQ(run(mmu, c, v), sep ? 0 : 6);
    mmu.sfence(true, 0x40800000 + 0x3000, false, 0, c);
    CHECK_EQ(run(mmu, c, v), sep ? 1 : 6);
    CHECK_EQ(mmu.access(false, 0x40800000 + 0x12345, c).pa, 0x82000000 + 0x12345);
  }
  return ok;
}

// The L2 refilled with 4 KiB leaves only (rocket-chip PTW): a superpage walked again after
// the L1 lost it misses in the L2 too.
static bool t_l2_4k_only() {
  bool ok = true;
  for (int only4k = 0; only4k < 2; only4k++) {
    Mem m;
    Space s(m);
    Config cfg = small(1, 16);
    cfg.l2_4k_only = only4k;
    Mmu mmu(cfg, &m.sh);
    Counters c;
    mmu.set_satp(s.satp(1), c);
    run(mmu, c, {0x40800000, page(0), 0x40800000, page(0)});
    CHECK_EQ(c.l1d_misses, 4);
    CHECK_EQ(c.walks, only4k ? 3 : 2);
    CHECK_EQ(c.l2d_hits, only4k ? 1 : 2);
    CHECK_EQ(mmu.l2()->valid_count(), only4k ? 1 : 2);
  }
  return ok;
}

// G on a non-leaf entry makes every mapping below it global (privileged spec): root[5] points
// with G to a table whose leaves have no G. Those entries survive a fence by ASID and match
// in another ASID; the same leaves under a pointer without G do not.
static bool t_global_nonleaf() {
  bool ok = true;
  for (int g = 0; g < 2; g++) {
    Mem m;
    Space a(m), b(m, 0x81800000);
    const uint64_t l1 = m.table(), l0 = m.table();
    for (uint64_t root : {a.root, b.root}) m.set(root + 5 * 8, Mem::ptr(l1) | (g ? PTE_G : 0));
    m.set(l1, Mem::ptr(l0));
    for (uint64_t i = 0; i < 8; i++) m.set(l0 + i * 8, Mem::leaf(0x83000000 + i * 4096, 0));
    std::vector<uint64_t> v;
    for (uint64_t i = 0; i < 4; i++) v.push_back(0x140000000ull + i * 4096);
    Mmu mmu(small(16), &m.sh);
    Counters c;
    mmu.set_satp(a.satp(1), c);
    CHECK_EQ(run(mmu, c, v), 4);
    CHECK_EQ((mmu.peek(false, v[0]) & PTE_G) != 0, g);
    mmu.sfence(false, 0, true, 1, c);
    CHECK_EQ(run(mmu, c, v), g ? 0 : 4);
    mmu.set_satp(b.satp(2), c);
    CHECK_EQ(run(mmu, c, v), g ? 0 : 4);
    CHECK_EQ(mmu.access(false, v[1] + 8, c).pa, 0x83001008);
  }
  return ok;
}

// A faulting access (seen at the trap) is looked up, walked on a miss, and fills nothing.
static bool t_fault_access() {
  bool ok = true;
  Mem m;
  Space s(m);
  Mmu mmu(small(8, 16), &m.sh);
  Counters c;
  mmu.set_satp(s.satp(1), c);
  // unmapped (root[0] empty): a 1-reference walk each time, nothing cached
  CHECK_EQ(mmu.fault_access(false, 0x2000, c), 0);
  CHECK_EQ(mmu.fault_access(false, 0x2000, c), 0);
  CHECK_EQ(c.fault_lookups_d, 2);
  CHECK_EQ(c.l1d_misses, 2);
  CHECK_EQ(c.l2d_misses, 2);
  CHECK_EQ(c.walks, 2);
  CHECK_EQ(c.walk_refs, 2);
  CHECK_EQ(c.walk_faults, 2);
  // a valid page that faulted (say, for its permissions): walked, still not filled
  CHECK_EQ(mmu.fault_access(false, page(5), c), 0);
  CHECK_EQ(c.walk_refs, 5);
  CHECK_EQ(c.walk_faults, 2);
  CHECK_EQ(run(mmu, c, {page(5)}), 1);
  // once it is in the TLB, a faulting access hits it: no walk
  CHECK_EQ(mmu.fault_access(false, page(5), c), 1);
  CHECK_EQ(c.walks, 4);
  CHECK_EQ(c.fault_lookups_d, 4);
  CHECK_EQ(c.l1i_misses, 0);
  return ok;
}

// Every preset applies, with an ASID width and a cost model.
static bool t_presets() {
  bool ok = true;
  for (size_t i = 0; i < kPresetCount; i++) {
    Config cfg;
    CHECK_EQ(cfg.apply_preset(kPresetNames[i]), 1);
    CHECK_EQ(cfg.asid_bits, cfg.core_asid_bits);
    CHECK_EQ(cfg.cost.cpi > 0, 1);
  }
  Config cfg;
  CHECK_EQ(cfg.apply_preset("no-such-core"), 0);
  cfg.apply_preset("u54");
  CHECK_EQ(cfg.asid_bits, 0);
  cfg.apply_preset("c906");
  CHECK_EQ(cfg.asid_bits, 16);
  return ok;
}

// The cost model on hand-made counts: u54's constants (CPI 1, 5 cycles per trap entry, sret,
// satp write and fence, L2 hit 4, memory walk reference 20, walk-cache hit 1).
static bool t_cost_model() {
  bool ok = true;
  Config cfg;
  cfg.apply_preset("u54");
  Counters c;
  c.insns = 100;
  c.traps_from_u = 2;
  c.srets = 2;
  c.satp_writes = 1;
  c.sfence_all = 1;
  c.sfence_va_asid = 2;
  c.l2d_hits = 3;
  c.walk_refs = 6;
  c.walk_cache_hits = 2;
  CHECK_EQ(cfg.cost.cycles(c), 100 + 10 + 10 + 5 + 5 + 10 + 12 + 120 + 2);
  cfg.apply_preset("xiangshan");
  CHECK_EQ(cfg.cost.cycles(c), 50 + 30 + 30 + 15 + 15 + 30 + 12 + 120 + 2);
  return ok;
}

// --presets: one JSON object per line (name, ASID bits, geometry), read by the Python tests.
static int dump_presets() {
  for (size_t i = 0; i < kPresetCount; i++) {
    Config c;
    c.apply_preset(kPresetNames[i]);
    auto g = [](const Geometry& x) {
      return x.infinite ? std::string("\"inf\"") : std::to_string(x.entries);
    };
    std::printf("{\"name\": \"%s\", \"asid_bits\": %u, \"l1i\": %s, \"l1d\": %s, "
                "\"l1i_super\": %s, \"l1d_super\": %s, \"l2\": %s, \"l2_ways\": %u, "
                "\"walk_cache\": %u, \"repl\": \"%s\", \"l2_4k_only\": %s}\n",
                kPresetNames[i], c.asid_bits, g(c.l1i).c_str(), g(c.l1d).c_str(),
                g(c.l1i_super).c_str(), g(c.l1d_super).c_str(), g(c.l2).c_str(), c.l2.ways,
                c.walk_cache, repl_name(c.repl), c.l2_4k_only ? "true" : "false");
  }
  return 0;
}

// The LRU profile against separate fully associative LRU Tlbs of several sizes (and an
// unbounded one) on a pseudo-random stream of accesses (4 KiB, 2 MiB and global pages, three
// ASIDs) with every sfence.vma form, satp flushes of non-global entries and faulting lookups
// of unmapped VAs: misses(N) from the
// stack-distance histogram must equal each Tlb's miss count, with ASIDs on and off.
static bool t_lru_profile() {
  bool ok = true;
  const uint32_t sizes[] = {1, 2, 3, 5, 8, 13, 32};
  for (bool asid_on : {true, false}) {
    for (uint64_t seed : {1ull, 7ull, 12345ull}) {
      Config cfg;
      cfg.asid_bits = asid_on ? 16 : 0;
      LruProfile prof(cfg);
      DistanceHist hist;
      std::vector<Tlb> tlbs;
      for (uint32_t n : sizes) tlbs.emplace_back(Geometry::fa(n), Repl::Lru, 1, asid_on);
      tlbs.emplace_back(Geometry{0, 0, true}, Repl::Lru, 1, asid_on);
      std::vector<uint64_t> misses(tlbs.size(), 0);
      uint64_t x = seed;
      auto rnd = [&](uint64_t n) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x % n;
      };
      // the translation of a VA: 40 user 4 KiB pages, 4 user 2 MiB pages, 6 global 4 KiB pages
      auto translate = [](uint64_t va, Translation* t) {
        if (va >= 0x40000000 && va < 0x40000000 + 40 * 4096) {
          *t = {(va & kVaMask) >> 12, 0x81000000 + (va - 0x40000000), 0, PTE_V | PTE_R};
        } else if (va >= 0x40800000 && va < 0x40800000 + (4ull << 21)) {
          *t = {(va & kVaMask) >> 21, 0x82000000 + ((va - 0x40800000) & ~((1ull << 21) - 1)), 1,
                PTE_V | PTE_R};
        } else if (va >= 0xc0000000 && va < 0xc0000000 + 6 * 4096) {
          *t = {(va & kVaMask) >> 12, 0x81400000 + (va - 0xc0000000), 0, PTE_V | PTE_R | PTE_G};
        } else {
          return false;
        }
        return true;
      };
      auto random_va = [&]() -> uint64_t {
        const uint64_t k = rnd(100);
        if (k < 70) return 0x40000000 + rnd(40) * 4096 + rnd(4096);
        if (k < 85) return 0x40800000 + rnd(4) * (1ull << 21) + rnd(1ull << 21);
        return 0xc0000000 + rnd(6) * 4096;
      };
      uint16_t asid = 1;
      for (int step = 0; step < 20000; step++) {
        const uint64_t what = rnd(1000);
        if (what < 5) {  // address-space switch: no flush (the spec's satp write)
          asid = uint16_t(1 + rnd(3));
        } else if (what < 8) {
          for (Tlb& t : tlbs) t.flush_all();
          prof.sfence(false, 0, false, 0);
        } else if (what < 14) {
          const uint16_t a = uint16_t(1 + rnd(3));
          for (Tlb& t : tlbs) t.flush_asid(a);
          prof.sfence(false, 0, true, a);
        } else if (what < 24) {
          const uint64_t va = random_va();
          for (Tlb& t : tlbs) t.flush_va(va);
          prof.sfence(true, va, false, 0);
        } else if (what < 34) {
          const uint64_t va = random_va();
          const uint16_t a = uint16_t(1 + rnd(3));
          for (Tlb& t : tlbs) t.flush_va_asid(va, a);
          prof.sfence(true, va, true, a);
        } else if (what < 37) {  // satp_flush=on: a satp write flushed the non-global entries
          for (Tlb& t : tlbs) t.flush_nonglobal();
          prof.satp_flush();
        } else if (what < 40) {  // a faulting lookup of an unmapped VA: misses, fills nothing
          const uint64_t va = 0x50000000 + rnd(8) * 4096;
          for (size_t i = 0; i < tlbs.size(); i++)
            if (tlbs[i].find(va, asid) < 0) misses[i]++;
          prof.fault(false, va, asid, hist);
        } else {
          const uint64_t va = random_va();
          Translation t;
          translate(va, &t);
          for (size_t i = 0; i < tlbs.size(); i++) {
            const int idx = tlbs[i].find(va, asid);
            if (idx >= 0) {
              tlbs[i].touch(idx, va);
            } else {
              misses[i]++;
              bool af;
              tlbs[i].insert(t, asid, va, &af);
            }
          }
          prof.access(false, t.vpn, t.level, t.flags & PTE_G, asid, hist);
        }
      }
      prof.drain();
      for (size_t i = 0; i + 1 < tlbs.size(); i++) CHECK_EQ(hist.misses(sizes[i]), misses[i]);
      CHECK_EQ(hist.misses(0), misses.back());
      CHECK_EQ(prof.inexact(), 0);
      CHECK_EQ(prof.stack(false).size(), tlbs.back().valid_count());
      // the stream really exercised every size: not all equal
      if (misses[0] == misses.back()) ok = false;
    }
  }
  // many live translations: the stamp space is compacted several times on the way
  {
    Config cfg;
    LruProfile prof(cfg);
    DistanceHist hist;
    for (int pass = 0; pass < 3; pass++)
      for (uint64_t i = 0; i < 5000; i++) prof.access(true, 0x40000 + i, 0, false, 1, hist);
    prof.drain();
    CHECK_EQ(hist.not_present, 5000);
    CHECK_EQ(hist.overflow, 10000);  // depth 4999 is past the exact cap
    CHECK_EQ(hist.misses(4096), 15000);
    prof.sfence(true, (0x40000ull + 17) << 12, false, 0);
    prof.access(true, 0x40000 + 17, 0, false, 1, hist);
    prof.drain();
    CHECK_EQ(hist.not_present, 5001);
    prof.access(true, 0x40000 + 18, 0, false, 1, hist);  // 4998 after it, plus the refill
    prof.drain();
    CHECK_EQ(hist.overflow, 10001);
    prof.access(true, 0x40000 + 18, 0, false, 1, hist);
    prof.drain();
    CHECK_EQ(hist.exact[0], 1);
  }
  return ok;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--presets") == 0) return dump_presets();
  const Test tests[] = {
      {"satp_write_flushes_nothing", t_satp_write_flushes_nothing},
      {"asid_width", t_asid_width},
      {"plru", t_plru},
      {"walk_cache", t_walk_cache},
      {"superpage_array", t_superpage_array},
      {"l2_4k_only", t_l2_4k_only},
      {"global_nonleaf", t_global_nonleaf},
      {"fault_access", t_fault_access},
      {"presets", t_presets},
      {"cost_model", t_cost_model},
      {"capacity_lru", t_capacity_lru},
      {"fifo_vs_lru", t_fifo_vs_lru},
      {"random_deterministic", t_random_deterministic},
      {"set_associative_l2", t_set_associative_l2},
      {"superpages", t_superpages},
      {"asid_switch", t_asid_switch},
      {"sfence_forms", t_sfence_forms},
      {"ideal", t_ideal},
      {"walk_faults", t_walk_faults},
      {"peek_user_kernel", t_peek_user_kernel},
      {"lru_profile", t_lru_profile},
  };
  for (const Test& t : tests) {
    const bool ok = t.fn();
    std::printf("%s %s\n", ok ? "PASS" : "FAIL", t.name);
    (ok ? g_pass : g_fail)++;
  }
  std::printf("%d passed, %d failed\n", g_pass, g_fail);
  return g_fail ? 1 : 0;
}
