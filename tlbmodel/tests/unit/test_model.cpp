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

static bool t_asid_switch() {
  bool ok = true;
  for (int asid_on = 0; asid_on < 2; asid_on++) {
    Mem m;
    Space a(m), b(m, 0x81800000);
    Config cfg = small(16);
    cfg.asid_on = asid_on;
    Mmu mmu(cfg, &m.sh);
    Counters c;
    mmu.set_satp(a.satp(1), c);
    run(mmu, c, pages(4));
    mmu.set_satp(b.satp(2), c);
    run(mmu, c, pages(4));
    CHECK_EQ(mmu.access(false, page(1), c).pa, 0x81801000);
    mmu.set_satp(a.satp(1), c);
    CHECK_EQ(run(mmu, c, pages(4)), asid_on ? 0 : 4);
    CHECK_EQ(mmu.access(false, page(1), c).pa, 0x81001000);
    CHECK_EQ(c.satp_flushes, asid_on ? 0 : 2);
  }
  return ok;
}

static bool t_sfence_forms() {
  bool ok = true;
  for (int asid_on = 0; asid_on < 2; asid_on++) {
    Mem m;
    Space s(m);
    Config cfg = small(32);
    cfg.asid_on = asid_on;
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

int main() {
  const Test tests[] = {
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
  };
  for (const Test& t : tests) {
    const bool ok = t.fn();
    std::printf("%s %s\n", ok ? "PASS" : "FAIL", t.name);
    (ok ? g_pass : g_fail)++;
  }
  std::printf("%d passed, %d failed\n", g_pass, g_fail);
  return g_fail ? 1 : 0;
}
