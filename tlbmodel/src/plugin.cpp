// sv39lab TLB model: a QEMU TCG plugin (plugin API version 4, QEMU 10.0) for riscv64 system
// emulation. It replays every translated instruction fetch and data access of the guest through
// a model of L1 ITLB/DTLB (+ optional shared L2) hardware TLBs, walks Sv39 page tables in a
// shadow of guest RAM on a model miss, checks each modelled translation against the physical
// address QEMU used, and writes counts per privilege mode and per benchmark region as JSON.
// See docs/tlbmodel.md.

#include <fcntl.h>
#include <glib.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cinttypes>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

extern "C" {
#include <qemu-plugin.h>
}

#include "json.hpp"
#include "model.hpp"

static_assert(QEMU_PLUGIN_VERSION >= 4,
              "needs plugin API 4 (register reads, store values): QEMU 10.0 or later");

extern "C" {
QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;
}

using tlbm::Counters;
using tlbm::kNoPa;

namespace {

enum Mode { MODE_U = 0, MODE_S = 1, MODE_BARE = 2, MODE_M = 3, NMODES = 4 };
const char* const kModeNames[NMODES] = {"U", "S", "bare", "M"};
constexpr int kMaxRegion = 2047;
constexpr uint64_t kRamBase = 0x80000000ull;

// ------------------------------------------------------------------ settings
// An alternative configuration (alt=FILE): a full model of its own, fed the same accesses.
struct AltDef {
  std::string name, args;
  tlbm::Config cfg;
  std::vector<std::string> hypothetical;
};

struct Settings {
  tlbm::Config cfg;
  std::string out;
  std::string kernel = "auto";  // auto: the -kernel of QEMU's command line; none: no preload
  std::string label;
  uint64_t ram_base = kRamBase;
  uint64_t ram_size = 0;  // 0: from QEMU's -m, else 4 GiB of shadow
  unsigned max_samples = 16;
  unsigned mismatch_exit = 0;  // non-zero: QEMU exits with this status after a mismatch
  bool check_all = true;  // check=all: every access; check=lookup: not repeats of the last page
  std::vector<std::string> hypothetical;  // why this configuration is no real core's
  bool lru_profile = false;  // lru_profile=on: stack distances of both L1 sides
  std::vector<AltDef> alts;
};
// Global state lives on the heap and is never destroyed: QEMU calls the atexit callback after
// the plugin's static destructors would have run.
Settings& g_set = *new Settings;

// ------------------------------------------------------------------ global state
tlbm::Shadow& g_shadow = *new tlbm::Shadow;
qemu_plugin_u64 g_insns;  // per-vCPU instruction counter, bumped inline before each insn
struct qemu_plugin_scoreboard* g_insn_board = nullptr;
qemu_plugin_register* g_reg_satp = nullptr;
qemu_plugin_register* g_reg_priv = nullptr;
qemu_plugin_register* g_reg_scause = nullptr;
qemu_plugin_register* g_reg_stval = nullptr;
qemu_plugin_register* g_reg_pc = nullptr;
qemu_plugin_register* g_gpr[32] = {};
std::atomic<bool> g_calibrated{false};
std::atomic<uintptr_t> g_host_delta{0};  // host address of guest PA 0 of RAM (haddr - pa)
std::atomic<uint64_t> g_calib_conflicts{0};
std::atomic<uint64_t> g_tbs{0};
std::atomic<uint64_t> g_split_stores{0};
uint64_t g_kernel_bytes = 0;
std::string& g_kernel_path = *new std::string;
std::string& g_kernel_error = *new std::string;

struct Sample {
  std::string kind;
  unsigned vcpu;
  int region;
  const char* mode;
  uint64_t va, model_pa, qemu_pa, satp;
  uint64_t pte_addr, pte;  // walk faults: where the model's walk stopped
};
std::mutex g_sample_lock;
std::vector<Sample>& g_samples = *new std::vector<Sample>;

// Translation-time records (one per translated block; never freed: a few dozen bytes each).
struct PageRec {
  uint64_t vaddr = 0;
  void* haddr = nullptr;
  uint64_t pa = kNoPa;
  uint8_t pa_state = 0;  // 0: not derived yet, 1: pa valid, 2: unavailable
};
// QEMU's RISC-V blocks are position independent (CF_PCREL): a block translated at one VA runs
// at every VA that maps the same physical code (scheme 3's per-process kernel windows). The VA
// it runs at is read from `pc` the first time it runs under a satp value, and kept for that satp
// until the next sfence.vma: a page-table page may be freed and reused with the same satp value
// (the same root, ASID 0 without ASIDs) and different mappings, and the kernel fences first.
struct TbRec {
  PageRec p0;                 // vaddr: where it was translated
  int8_t priv = -1;           // privilege of the block (part of QEMU's TB flags): read at first run
  bool exec_known = false;
  uint64_t exec_satp = 0;     // the satp it last ran under, and its VA there
  uint64_t exec_epoch = 0;    // ... and the vCPU's fence epoch then
  uint64_t exec_va = 0;
};
struct SfenceRec {
  uint8_t rs1 = 0, rs2 = 0;
  bool has_next = false;
  PageRec next;  // the instruction after the sfence: fetched again after the flush
};

class Arena {
 public:
  template <class T>
  T* make() {
    std::lock_guard<std::mutex> g(lock_);
    if (used_ + sizeof(T) + alignof(T) > kChunk || chunks_.empty()) {
      chunks_.push_back(std::make_unique<uint8_t[]>(kChunk));
      used_ = 0;
    }
    used_ = (used_ + alignof(T) - 1) & ~(alignof(T) - 1);
    void* p = chunks_.back().get() + used_;
    used_ += sizeof(T);
    return new (p) T();
  }

 private:
  static constexpr size_t kChunk = 1 << 20;
  std::mutex lock_;
  std::vector<std::unique_ptr<uint8_t[]>> chunks_;
  size_t used_ = 0;
};
Arena& g_arena = *new Arena;

struct RegionBlock {
  Counters mode[NMODES];
};
// Stack-distance histograms of one region: [mode][0 data, 1 instructions].
struct ProfileBlock {
  tlbm::DistanceHist side[NMODES][2];
};

// An alternative configuration's model on one vCPU, with its own counters per region and mode
// (only the fields its Mmu writes are used: see overlay()).
struct AltModel {
  AltModel(const tlbm::Config& cfg) : mmu(cfg, &g_shadow), blocks(kMaxRegion + 1) {}
  tlbm::Mmu mmu;
  std::vector<std::unique_ptr<RegionBlock>> blocks;
  Counters* cur = nullptr;
  Counters& block(int region_id, int m) {
    auto& b = blocks[region_id];
    if (!b) b = std::make_unique<RegionBlock>();
    return b->mode[m];
  }
};

struct Vcpu {
  explicit Vcpu(const tlbm::Config& cfg) : mmu(cfg, &g_shadow), blocks(kMaxRegion + 1) {
    if (g_set.lru_profile) {
      prof = std::make_unique<tlbm::LruProfile>(cfg);
      prof_blocks.resize(kMaxRegion + 1);
    }
    for (const AltDef& a : g_set.alts) alts.push_back(std::make_unique<AltModel>(a.cfg));
  }
  tlbm::Mmu mmu;
  std::unique_ptr<tlbm::LruProfile> prof;  // null without lru_profile=on
  std::vector<std::unique_ptr<ProfileBlock>> prof_blocks;
  tlbm::DistanceHist* prof_cur[2] = {nullptr, nullptr};
  std::vector<std::unique_ptr<AltModel>> alts;
  // per side (0 data, 1 instructions): at this side's last access every alternative used the
  // primary's translation (see extra_access)
  bool alts_synced[2] = {false, false};
  int priv = 3;
  int last_priv = 3;  // last non-M privilege seen
  int mode = MODE_M;
  int region = 0;
  std::vector<int> stack;
  std::vector<std::unique_ptr<RegionBlock>> blocks;
  Counters* cur = nullptr;
  uint64_t insn_mark = 0;
  const uint64_t* insn_ctr = nullptr;  // this vCPU's entry of g_insn_board
  bool satp_dirty = true;
  uint64_t region_underflows = 0, region_overflows = 0;
  uint64_t tb_delta = 0;       // running VA - translation VA of the current block
  uint64_t fence_epoch = 0;    // sfence.vma executed so far (invalidates TbRec::exec_va)
  uint64_t pc_reads = 0;

  Counters& block(int region_id, int m) {
    auto& b = blocks[region_id];
    if (!b) b = std::make_unique<RegionBlock>();
    return b->mode[m];
  }
  tlbm::DistanceHist& prof_hist(int region_id, int m, bool ifetch) {
    auto& b = prof_blocks[region_id];
    if (!b) b = std::make_unique<ProfileBlock>();
    return b->side[m][ifetch];
  }
  void update_cur() {
    cur = &block(region, mode);
    if (prof) {
      prof_cur[0] = &prof_hist(region, mode, false);
      prof_cur[1] = &prof_hist(region, mode, true);
    }
    for (auto& a : alts) a->cur = &a->block(region, mode);
  }
  bool extras() const { return prof || !alts.empty(); }
};
std::vector<std::unique_ptr<Vcpu>>& g_vcpus = *new std::vector<std::unique_ptr<Vcpu>>;

// ------------------------------------------------------------------ helpers
void logf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void logf(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  qemu_plugin_outs(buf);
}

uint64_t read_reg(qemu_plugin_register* h) {
  static thread_local GByteArray* buf = g_byte_array_sized_new(16);
  if (!h) return 0;
  g_byte_array_set_size(buf, 0);
  const int n = qemu_plugin_read_register(h, buf);
  uint64_t v = 0;
  if (n > 0) std::memcpy(&v, buf->data, size_t(n) < sizeof v ? size_t(n) : sizeof v);
  return v;  // target (little-endian) order on a little-endian host
}

inline void attribute_insns(Vcpu& c, unsigned vcpu) {
  (void)vcpu;
  const uint64_t now = *c.insn_ctr;
  const uint64_t d = now - c.insn_mark;
  c.insn_mark = now;
  c.cur->insns += d;
  if (c.mode <= MODE_S) c.cur->insns_translated += d;
}

bool in_ram(uint64_t pa) { return pa >= g_set.ram_base && pa - g_set.ram_base < g_set.ram_size; }

// The guest physical address of a fetched page, from the host address QEMU translated it at.
uint64_t page_pa(PageRec& p) {
  if (p.pa_state == 0) {
    if (!g_calibrated.load(std::memory_order_relaxed)) return kNoPa;  // decide later
    p.pa_state = 2;
    if (p.haddr) {
      const uint64_t pa = uint64_t(uintptr_t(p.haddr) - g_host_delta.load(std::memory_order_relaxed));
      if (in_ram(pa)) {
        p.pa = pa;
        p.pa_state = 1;
      }
    }
  }
  return p.pa_state == 1 ? p.pa : kNoPa;
}

void mismatch(Vcpu& c, unsigned vcpu, const char* kind, uint64_t va, uint64_t model_pa,
              uint64_t qemu_pa, const tlbm::AccessResult* walk = nullptr) {
  c.cur->mismatches++;
  std::lock_guard<std::mutex> g(g_sample_lock);
  if (g_samples.size() < g_set.max_samples) {
    const uint64_t pte_addr = walk ? walk->pte_addr : kNoPa, pte = walk ? walk->pte : 0;
    g_samples.push_back({kind, vcpu, c.region, kModeNames[c.mode], va, model_pa, qemu_pa,
                         c.mmu.satp(), pte_addr, pte});
    logf("tlbmodel: MISMATCH %s va=0x%" PRIx64 " model_pa=0x%" PRIx64 " qemu_pa=0x%" PRIx64
         " satp=0x%" PRIx64 " mode=%s region=%d pte@0x%" PRIx64 "=0x%" PRIx64 "\n",
         kind, va, model_pa, qemu_pa, c.mmu.satp(), kModeNames[c.mode], c.region, pte_addr, pte);
  }
}

// The profile and the alternative configurations see every access the primary model sees, in
// the same order: extra_slow after the primary's look-up (r: its result), extra_fast when the
// primary took its fast path (the page of this side's previous access, nothing flushed since)
// to primary_pa. qemu_pa: QEMU's PA to check the alternatives' translations against, or kNoPa.
void alt_access(Vcpu& c, bool ifetch, uint64_t va, const tlbm::AccessResult* r,
                uint64_t primary_pa, uint64_t qemu_pa) {
  const uint64_t page = r && r->ok ? 1ull << tlbm::page_shift(r->level) : 0;
  bool synced = r && r->ok;
  for (auto& ap : c.alts) {
    AltModel& a = *ap;
    uint64_t pa, size;
    if (ifetch ? a.mmu.fast_i(va, &pa) : a.mmu.fast_d(va, &pa)) {
      size = a.mmu.fast_size(ifetch);
    } else {
      const tlbm::AccessResult ar = a.mmu.access(ifetch, va, *a.cur);
      if (!ar.ok) {
        a.cur->mismatches++;
        synced = false;
        continue;
      }
      pa = ar.pa;
      size = 1ull << tlbm::page_shift(ar.level);
    }
    if (qemu_pa != kNoPa && qemu_pa != pa) a.cur->mismatches++;
    if (pa != primary_pa || size != page) synced = false;
  }
  if (r) c.alts_synced[ifetch] = synced;
}

void extra_slow(Vcpu& c, bool ifetch, uint64_t va, const tlbm::AccessResult& r, uint64_t qemu_pa) {
  if (c.prof) {
    tlbm::DistanceHist& h = *c.prof_cur[ifetch];
    if (r.ok) {
      c.prof->access(ifetch, (va & tlbm::kVaMask) >> tlbm::page_shift(r.level), r.level,
                     r.flags & tlbm::PTE_G, c.mmu.asid(), h);
    } else {
      h.count(tlbm::LruStack::kNotPresent);  // no valid leaf: nothing filled (a mismatch run)
    }
  }
  if (!c.alts.empty()) alt_access(c, ifetch, va, &r, r.pa, qemu_pa);
}

inline void extra_fast(Vcpu& c, bool ifetch, uint64_t va, uint64_t primary_pa, uint64_t qemu_pa) {
  if (c.prof) c.prof->repeat(ifetch, *c.prof_cur[ifetch]);
  if (c.alts.empty()) return;
  if (c.alts_synced[ifetch]) {
    // Every alternative's last entry of this side is the primary's translation (same page, same
    // PA), and nothing was flushed since: their fast paths hit too, at the same PA, and change
    // no state. Only a mismatch would count.
    if (__builtin_expect(qemu_pa != kNoPa && qemu_pa != primary_pa, 0))
      for (auto& ap : c.alts) ap->cur->mismatches++;
    return;
  }
  alt_access(c, ifetch, va, nullptr, primary_pa, qemu_pa);
}

void ifetch(Vcpu& c, unsigned vcpu, PageRec& p, uint64_t delta) {
  Counters& k = *c.cur;
  const uint64_t va = p.vaddr + delta;
  k.l1i_lookups++;
  uint64_t pa;
  const uint64_t q = page_pa(p);
  if (!c.mmu.fast_i(va, &pa)) {
    const tlbm::AccessResult r = c.mmu.access(true, va, k);
    if (c.extras()) extra_slow(c, true, va, r, q);
    if (!r.ok) {
      mismatch(c, vcpu, "fetch-walk-fault", va, kNoPa, q, &r);
      return;
    }
    pa = r.pa;
  } else if (c.extras()) {
    extra_fast(c, true, va, pa, q);
  }
  if (q == kNoPa) {
    k.unchecked_fetch++;
  } else {
    k.checked_fetch++;
    if (q != pa) mismatch(c, vcpu, "fetch", va, pa, q);
  }
}

// The second page of an access whose bytes span two pages: a DTLB access of its own. QEMU
// reports the first page's PA only, so this translation is not checked (a failed walk is).
// Returns the model's PA of the second page's first byte, or kNoPa.
uint64_t second_page(Vcpu& c, unsigned vcpu, uint64_t va, unsigned size, bool store) {
  const uint64_t va2 = (va + size - 1) & ~uint64_t(4095);
  Counters& k = *c.cur;
  k.page_crossings++;
  uint64_t pa;
  if (c.mmu.fast_d(va2, &pa)) {
    if (c.extras()) extra_fast(c, false, va2, pa, kNoPa);
    return pa;
  }
  const tlbm::AccessResult r = c.mmu.access(false, va2, k);
  if (c.extras()) extra_slow(c, false, va2, r, kNoPa);
  if (!r.ok) {
    mismatch(c, vcpu, store ? "store-walk-fault" : "load-walk-fault", va2, kNoPa, kNoPa, &r);
    return kNoPa;
  }
  return r.pa;
}

inline bool crosses(uint64_t va, unsigned size) { return (va & 4095) + size > 4096; }

inline void data_access(Vcpu& c, unsigned vcpu, uint64_t va, struct qemu_plugin_hwaddr* hw,
                        bool store) {
  Counters& k = *c.cur;
  (store ? k.stores : k.loads)++;
  uint64_t pa;
  const uint64_t q = hw ? qemu_plugin_hwaddr_phys_addr(hw) : kNoPa;
  if (!c.mmu.fast_d(va, &pa)) {
    const tlbm::AccessResult r = c.mmu.access(false, va, k);
    if (c.extras()) extra_slow(c, false, va, r, q);
    if (!r.ok) {
      mismatch(c, vcpu, store ? "store-walk-fault" : "load-walk-fault", va, kNoPa, q, &r);
      return;
    }
    pa = r.pa;
  } else if (c.extras()) {
    extra_fast(c, false, va, pa, q);
  }
  if (!hw) {
    k.unchecked_data++;
    return;
  }
  k.checked_data++;
  if (q != pa) mismatch(c, vcpu, store ? "store" : "load", va, pa, q);
}

// A trap from U mode shows up as the first S-mode block after U-mode code (it counts as a trap
// entry). A faulting access makes no memory callback: scause says which kind of access, stval
// which address. A page fault is looked up in the TLBs and walked on a miss, without a fill
// (Mmu::fault_access). A user access to the kernel half that faulted (page or access fault):
// would it have hit a TLB entry the kernel left behind?
void user_trap(Vcpu& c) {
  Counters& u = c.block(c.region, MODE_U);
  u.traps_from_u++;
  const uint64_t cause = read_reg(g_reg_scause);
  if (cause >> 63) return;  // an interrupt
  bool fetch;
  switch (cause) {
    case 1: case 12: fetch = true; break;                      // instruction access/page fault
    case 5: case 7: case 13: case 15: fetch = false; break;    // load/store access/page fault
    default: return;
  }
  const uint64_t tval = read_reg(g_reg_stval);
  if (tval >= tlbm::kKernelHalf) {
    u.user_kernel_probes++;
    if (c.mmu.sv39()) {
      const int flags = c.mmu.peek(fetch, tval);
      if (flags >= 0 && !(flags & tlbm::PTE_U)) u.user_hits_on_kernel_entries++;
      for (auto& a : c.alts) {
        const int f = a->mmu.peek(fetch, tval);
        if (f >= 0 && !(f & tlbm::PTE_U)) a->block(c.region, MODE_U).user_hits_on_kernel_entries++;
      }
    }
  }
  if (c.mmu.sv39() && (cause == 12 || cause == 13 || cause == 15)) {
    c.mmu.fault_access(fetch, tval, u);
    if (c.prof) c.prof->fault(fetch, tval, c.mmu.asid(), c.prof_hist(c.region, MODE_U, fetch));
    for (auto& a : c.alts) a->mmu.fault_access(fetch, tval, a->block(c.region, MODE_U));
  }
}

void maybe_calibrate(Vcpu& c, TbRec* r, int priv) {
  // Fetches by M mode are untranslated: PA == VA gives the host address
  // of guest RAM, used to learn the PA of every later fetch from the host address QEMU reports.
  // Only M-mode blocks: the privilege is part of the block's flags, so an M-mode block never
  // ran translated at another VA.
  if (!r->p0.haddr || priv != 3 || !in_ram(r->p0.vaddr)) return;
  const uintptr_t delta = uintptr_t(r->p0.haddr) - uintptr_t(r->p0.vaddr);
  if (!g_calibrated.load(std::memory_order_acquire)) {
    g_host_delta.store(delta, std::memory_order_relaxed);
    g_calibrated.store(true, std::memory_order_release);
  } else if (delta != g_host_delta.load(std::memory_order_relaxed)) {
    g_calib_conflicts++;
  }
}

// ------------------------------------------------------------------ execution callbacks
void tb_exec(unsigned vcpu, void* ud) {
  TbRec* r = static_cast<TbRec*>(ud);
  Vcpu& c = *g_vcpus[vcpu];
  attribute_insns(c, vcpu);
  if (__builtin_expect(c.satp_dirty, 0)) {
    c.satp_dirty = false;
    const uint64_t v = read_reg(g_reg_satp);
    if (v != c.mmu.satp()) {
      if (c.mmu.set_satp(v, *c.cur) && c.prof) c.prof->satp_flush();
      for (auto& a : c.alts) a->mmu.set_satp(v, *a->cur);
    }
  }
  int priv = r->priv;
  if (__builtin_expect(priv < 0, 0)) {
    priv = int(read_reg(g_reg_priv) & 3);
    r->priv = int8_t(priv);
    maybe_calibrate(c, r, priv);
  }
  if (priv != 3) {
    if (priv == 1 && c.last_priv == 0) user_trap(c);
    c.last_priv = priv;
  }
  c.priv = priv;
  const int mode = priv == 3 ? MODE_M : !c.mmu.sv39() ? MODE_BARE : priv == 0 ? MODE_U : MODE_S;
  if (mode != c.mode) {
    c.mode = mode;
    c.update_cur();
  }
  if (mode <= MODE_S) {
    const uint64_t satp = c.mmu.satp();
    if (__builtin_expect(!r->exec_known || r->exec_satp != satp || r->exec_epoch != c.fence_epoch, 0)) {
      r->exec_va = read_reg(g_reg_pc);
      r->exec_satp = satp;
      r->exec_epoch = c.fence_epoch;
      r->exec_known = true;
      c.pc_reads++;
    }
    c.tb_delta = r->exec_va - r->p0.vaddr;
    ifetch(c, vcpu, r->p0, c.tb_delta);
  }
}

void page2_exec(unsigned vcpu, void* ud) {
  Vcpu& c = *g_vcpus[vcpu];
  if (c.mode <= MODE_S) ifetch(c, vcpu, *static_cast<PageRec*>(ud), c.tb_delta);
}

void csr_satp_exec(unsigned vcpu, void* ud) {
  Vcpu& c = *g_vcpus[vcpu];
  c.satp_dirty = true;  // read after the write, at the next block (a CSR write ends the block)
  if (ud && c.priv != 0) c.cur->satp_writes++;
}

void sfence_exec(unsigned vcpu, void* ud) {
  const SfenceRec* s = static_cast<const SfenceRec*>(ud);
  Vcpu& c = *g_vcpus[vcpu];
  if (c.priv == 0) return;  // illegal in U mode: it traps and flushes nothing
  const uint64_t va = s->rs1 ? read_reg(g_gpr[s->rs1]) : 0;
  const uint64_t asid = s->rs2 ? read_reg(g_gpr[s->rs2]) : 0;
  c.mmu.sfence(s->rs1 != 0, va, s->rs2 != 0, asid, *c.cur);
  if (c.prof) c.prof->sfence(s->rs1 != 0, va, s->rs2 != 0, asid);
  for (auto& a : c.alts) a->mmu.sfence(s->rs1 != 0, va, s->rs2 != 0, asid, *a->cur);
  c.fence_epoch++;
  // The rest of the block is fetched after the flush: look its page up again.
  if (s->has_next && c.mode <= MODE_S)
    ifetch(c, vcpu, const_cast<SfenceRec*>(s)->next, c.tb_delta);
}

void sret_exec(unsigned vcpu, void*) {
  Vcpu& c = *g_vcpus[vcpu];
  if (c.priv == 1) c.cur->srets++;  // in U it is illegal; in M it is OpenSBI's business
}

void marker_exec(unsigned vcpu, void* ud) {
  Vcpu& c = *g_vcpus[vcpu];
  if (c.priv == 3) return;
  attribute_insns(c, vcpu);
  const int imm = int(intptr_t(ud));
  if (imm > 0) {
    if (c.stack.size() < 64) {
      c.stack.push_back(c.region);
    } else {
      c.region_overflows++;
    }
    c.region = imm;
  } else if (!c.stack.empty()) {
    c.region = c.stack.back();
    c.stack.pop_back();
  } else {
    c.region = 0;
    c.region_underflows++;
  }
  c.update_cur();
}

void mem_load(unsigned vcpu, qemu_plugin_meminfo_t info, uint64_t va, void*) {
  Vcpu& c = *g_vcpus[vcpu];
  if (c.mode > MODE_S) {
    c.cur->untranslated++;
    return;
  }
  const unsigned size = 1u << qemu_plugin_mem_size_shift(info);
  if (__builtin_expect(crosses(va, size), 0)) second_page(c, vcpu, va, size, false);
  uint64_t pa;
  if (!g_set.check_all && c.mmu.fast_d(va, &pa)) {  // same page as the last access: no check
    c.cur->loads++;
    c.cur->unchecked_data++;
    if (c.extras()) extra_fast(c, false, va, pa, kNoPa);
    return;
  }
  data_access(c, vcpu, va, qemu_plugin_get_hwaddr(info, va), false);
}

inline void shadow_store(qemu_plugin_meminfo_t info, uint64_t va, struct qemu_plugin_hwaddr* hw) {
  if (!hw || qemu_plugin_hwaddr_is_io(hw)) return;
  const uint64_t pa = qemu_plugin_hwaddr_phys_addr(hw);
  const qemu_plugin_mem_value v = qemu_plugin_mem_get_value(info);
  uint8_t bytes[16];
  uint64_t len;
  switch (v.type) {
    case QEMU_PLUGIN_MEM_VALUE_U8: bytes[0] = v.data.u8; len = 1; break;
    case QEMU_PLUGIN_MEM_VALUE_U16: std::memcpy(bytes, &v.data.u16, 2); len = 2; break;
    case QEMU_PLUGIN_MEM_VALUE_U32: std::memcpy(bytes, &v.data.u32, 4); len = 4; break;
    case QEMU_PLUGIN_MEM_VALUE_U64: std::memcpy(bytes, &v.data.u64, 8); len = 8; break;
    default:
      std::memcpy(bytes, &v.data.u128.low, 8);
      std::memcpy(bytes + 8, &v.data.u128.high, 8);
      len = 16;
      break;
  }
  // A store that crosses a page: only the first page's PA is known here; a translated one has
  // its second part written by mem_store at the model's PA of the second page.
  const uint64_t room = 4096 - (va & 4095);
  if (len > room) {
    len = room;
    g_split_stores++;
  }
  g_shadow.write(pa, bytes, len);
}

void mem_store(unsigned vcpu, qemu_plugin_meminfo_t info, uint64_t va, void*) {
  Vcpu& c = *g_vcpus[vcpu];
  struct qemu_plugin_hwaddr* hw = qemu_plugin_get_hwaddr(info, va);
  shadow_store(info, va, hw);
  if (c.mode > MODE_S) {
    c.cur->untranslated++;
    return;
  }
  const unsigned size = 1u << qemu_plugin_mem_size_shift(info);
  if (__builtin_expect(crosses(va, size), 0)) {
    const uint64_t pa2 = second_page(c, vcpu, va, size, true);
    const qemu_plugin_mem_value v = qemu_plugin_mem_get_value(info);
    uint8_t bytes[16] = {};
    std::memcpy(bytes, &v.data, size <= 16 ? size : 16);
    const uint64_t room = 4096 - (va & 4095);
    if (pa2 != kNoPa && hw && !qemu_plugin_hwaddr_is_io(hw) && size <= 16)
      g_shadow.write(pa2, bytes + room, size - room);
  }
  data_access(c, vcpu, va, hw, true);
}

// The store half of an AMO/LR/SC: shadow only (the load half already did the TLB lookup).
void mem_store_shadow(unsigned, qemu_plugin_meminfo_t info, uint64_t va, void*) {
  shadow_store(info, va, qemu_plugin_get_hwaddr(info, va));
}

// ------------------------------------------------------------------ translation
void tb_trans(qemu_plugin_id_t, struct qemu_plugin_tb* tb) {
  g_tbs.fetch_add(1, std::memory_order_relaxed);
  const size_t n = qemu_plugin_tb_n_insns(tb);
  if (n == 0) return;
  TbRec* r = g_arena.make<TbRec>();
  struct qemu_plugin_insn* first = qemu_plugin_tb_get_insn(tb, 0);
  r->p0.vaddr = qemu_plugin_insn_vaddr(first);
  r->p0.haddr = qemu_plugin_insn_haddr(first);
  qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_R_REGS, r);

  const uint64_t page0 = r->p0.vaddr >> 12;
  bool second_page = false;
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn* insn = qemu_plugin_tb_get_insn(tb, i);
    const uint64_t va = qemu_plugin_insn_vaddr(insn);
    uint32_t w = 0;
    const size_t sz = qemu_plugin_insn_data(insn, &w, sizeof w);

    // The first instruction with a byte on the next page fetches through another translation.
    if (!second_page && ((va + sz - 1) >> 12) != page0) {
      second_page = true;
      PageRec* p = g_arena.make<PageRec>();
      if ((va >> 12) != page0) {
        p->vaddr = va;
        p->haddr = qemu_plugin_insn_haddr(insn);
      } else {  // straddles the boundary: its second half is on the next page, PA unknown
        p->vaddr = (va + sz - 1) & ~uint64_t(4095);
        p->pa_state = 2;
      }
      qemu_plugin_register_vcpu_insn_exec_cb(insn, page2_exec, QEMU_PLUGIN_CB_NO_REGS, p);
    }

    if (sz == 4) {
      const uint32_t opcode = w & 0x7f;
      // Region marker: slti x0, x0, imm (a HINT). Before the counter so that the marker's own
      // instruction counts in the region it opens.
      if ((w & 0xfffff) == 0x2013) {
        const int32_t imm = int32_t(w) >> 20;
        if (imm >= 0)
          qemu_plugin_register_vcpu_insn_exec_cb(insn, marker_exec, QEMU_PLUGIN_CB_NO_REGS,
                                                 reinterpret_cast<void*>(intptr_t(imm)));
      }
      if (opcode == 0x73) {
        const uint32_t funct3 = (w >> 12) & 7;
        const uint32_t rs1 = (w >> 15) & 31;
        if (funct3 != 0 && funct3 != 4 && (w >> 20) == 0x180) {
          // csrrw/csrrwi always write; csrrs/csrrc/csrrsi/csrrci only with a non-zero source.
          const bool writes = funct3 == 1 || funct3 == 5 || rs1 != 0;
          qemu_plugin_register_vcpu_insn_exec_cb(insn, csr_satp_exec, QEMU_PLUGIN_CB_NO_REGS,
                                                 writes ? reinterpret_cast<void*>(1) : nullptr);
        }
        if (w == 0x10200073)  // sret
          qemu_plugin_register_vcpu_insn_exec_cb(insn, sret_exec, QEMU_PLUGIN_CB_NO_REGS, nullptr);
        // sfence.vma (0001001) and sinval.vma (0001011): rd = 0, funct3 = 0.
        if ((w & 0xfe007fff) == 0x12000073 || (w & 0xfe007fff) == 0x16000073) {
          SfenceRec* s = g_arena.make<SfenceRec>();
          s->rs1 = uint8_t(rs1);
          s->rs2 = uint8_t((w >> 20) & 31);
          if (i + 1 < n) {
            struct qemu_plugin_insn* next = qemu_plugin_tb_get_insn(tb, i + 1);
            s->has_next = true;
            s->next.vaddr = qemu_plugin_insn_vaddr(next);
            s->next.haddr = qemu_plugin_insn_haddr(next);
          }
          qemu_plugin_register_vcpu_insn_exec_cb(insn, sfence_exec, QEMU_PLUGIN_CB_R_REGS, s);
        }
      }
      qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                          g_insns, 1);
      if (opcode == 0x2f) {  // AMO, LR, SC: one TLB lookup (the load half), shadow the store
        qemu_plugin_register_vcpu_mem_cb(insn, mem_load, QEMU_PLUGIN_CB_NO_REGS,
                                         QEMU_PLUGIN_MEM_R, nullptr);
        qemu_plugin_register_vcpu_mem_cb(insn, mem_store_shadow, QEMU_PLUGIN_CB_NO_REGS,
                                         QEMU_PLUGIN_MEM_W, nullptr);
        continue;
      }
    } else {
      qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                          g_insns, 1);
    }
    qemu_plugin_register_vcpu_mem_cb(insn, mem_load, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_R,
                                     nullptr);
    qemu_plugin_register_vcpu_mem_cb(insn, mem_store, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_W,
                                     nullptr);
  }
}

void vcpu_init(qemu_plugin_id_t, unsigned int vcpu) {
  if (!g_reg_satp) {
    GArray* regs = qemu_plugin_get_registers();
    int gpr = 0;
    for (guint i = 0; i < regs->len; i++) {
      const auto& d = g_array_index(regs, qemu_plugin_reg_descriptor, i);
      const std::string name = d.name ? d.name : "";
      const std::string feature = d.feature ? d.feature : "";
      if (name == "satp") g_reg_satp = d.handle;
      else if (name == "priv") g_reg_priv = d.handle;
      else if (name == "scause") g_reg_scause = d.handle;
      else if (name == "stval") g_reg_stval = d.handle;
      else if (name == "pc") g_reg_pc = d.handle;
      // x0..x31 are the first 32 registers of the core feature, in order.
      if (feature == "org.gnu.gdb.riscv.cpu" && gpr < 32) g_gpr[gpr++] = d.handle;
    }
    g_array_free(regs, TRUE);
    if (!g_reg_satp || !g_reg_priv || !g_reg_scause || !g_reg_stval || !g_reg_pc || gpr < 32) {
      std::fprintf(stderr, "tlbmodel: QEMU does not expose satp/priv/scause/stval/pc/x0..x31\n");
      std::exit(1);
    }
  }
  if (vcpu >= g_vcpus.size()) {
    std::fprintf(stderr, "tlbmodel: vCPU %u beyond the %zu expected\n", vcpu, g_vcpus.size());
    std::exit(1);
  }
  if (!g_vcpus[vcpu]) {
    g_vcpus[vcpu] = std::make_unique<Vcpu>(g_set.cfg);
    g_vcpus[vcpu]->update_cur();
  }
  // A scoreboard entry's address changes when the scoreboard grows for a new vCPU: refresh all.
  for (size_t i = 0; i < g_vcpus.size(); i++)
    if (g_vcpus[i])
      g_vcpus[i]->insn_ctr =
          static_cast<const uint64_t*>(qemu_plugin_scoreboard_find(g_insn_board, unsigned(i)));
}

// ------------------------------------------------------------------ the report
void counters_json(tlbm::Json& j, const Counters& k, const tlbm::CostModel& cost) {
  j.begin_object();
#define F(name) j.kv(#name, k.name)
  F(insns);
  F(insns_translated);
  F(loads);
  F(stores);
  F(untranslated);
  const uint64_t ia = k.insns_translated + k.fault_lookups_i;
  const uint64_t da = k.loads + k.stores + k.page_crossings + k.fault_lookups_d;
  j.kv("l1i_accesses", ia);
  j.kv("l1i_hits", ia >= k.l1i_misses ? ia - k.l1i_misses : 0);
  F(l1i_misses);
  F(l1i_lookups);
  j.kv("l1d_accesses", da);
  j.kv("l1d_hits", da >= k.l1d_misses ? da - k.l1d_misses : 0);
  F(l1d_misses);
  F(page_crossings);
  F(fault_lookups_i);
  F(fault_lookups_d);
  F(l2i_hits);
  F(l2i_misses);
  F(l2d_hits);
  F(l2d_misses);
  j.kv("l2_hits", k.l2i_hits + k.l2d_hits);
  j.kv("l2_misses", k.l2i_misses + k.l2d_misses);
  F(walks);
  F(walk_refs);
  F(walk_refs_i);
  F(walk_refs_d);
  F(walk_faults);
  F(walk_cache_hits);
  F(l1i_misses_after_flush);
  F(l1d_misses_after_flush);
  F(l2_misses_after_flush);
  j.kv("flushes", k.sfence_all + k.sfence_asid + k.sfence_va + k.sfence_va_asid + k.satp_flushes);
  F(sfence_all);
  F(sfence_asid);
  F(sfence_va);
  F(sfence_va_asid);
  F(satp_writes);
  F(satp_changes);
  F(satp_flushes);
  F(entries_flushed);
  F(mismatches);
  F(checked_data);
  F(checked_fetch);
  F(unchecked_data);
  F(unchecked_fetch);
  F(user_kernel_probes);
  F(user_hits_on_kernel_entries);
  F(traps_from_u);
  F(srets);
  j.kv("model_cycles", uint64_t(cost.cycles(k) + 0.5));
#undef F
  j.end_object();
}

void geometry_json(tlbm::Json& j, const char* key, const tlbm::Geometry& g) {
  j.key(key);
  if (!g.present()) {
    j.null();
    return;
  }
  j.begin_object();
  if (g.infinite) {
    j.kv("entries", "infinite");
    j.kv("ways", "fully-associative");
  } else {
    j.kv("entries", uint64_t(g.entries));
    j.kv("ways", uint64_t(g.ways == 0 || g.ways >= g.entries ? g.entries : g.ways));
  }
  j.kv("description", g.describe());
  j.end_object();
}

// The TLB configuration's fields of the report's "config" (also each alternative's).
void config_json(tlbm::Json& j, const tlbm::Config& cfg, const std::vector<std::string>& hypothetical) {
  j.kv("preset", cfg.preset);
  geometry_json(j, "l1i", cfg.l1i);
  geometry_json(j, "l1d", cfg.l1d);
  geometry_json(j, "l2", cfg.l2);
  geometry_json(j, "l1i_super", cfg.l1i_super);
  geometry_json(j, "l1d_super", cfg.l1d_super);
  j.kv("l2_4k_only", cfg.l2_4k_only ? "yes" : "no");
  j.kv("walk_cache", uint64_t(cfg.walk_cache));
  j.kv("replacement", tlbm::repl_name(cfg.repl));
  j.kv("seed", cfg.seed);
  j.kv("asid", cfg.asid_on() ? "on" : "off");
  j.kv("asid_bits", uint64_t(cfg.asid_bits));
  j.kv("core_asid_bits", uint64_t(cfg.core_asid_bits));
  j.kv("hypothetical", hypothetical.empty() ? "no" : "yes");
  j.key("hypothetical_reasons");
  j.begin_array();
  for (const std::string& r : hypothetical) j.str_value(r);
  j.end_array();
  j.kv("satp_flush", cfg.asid_on() ? "n/a" : (cfg.satp_flush ? "nonglobal" : "none"));
  j.key("cost_model");
  j.begin_object();
  j.kv_num("cpi", cfg.cost.cpi);
  j.kv_num("trap_entry", cfg.cost.trap_entry);
  j.kv_num("trap_exit", cfg.cost.trap_exit);
  j.kv_num("satp_write", cfg.cost.satp_write);
  j.kv_num("sfence_all", cfg.cost.sfence_all);
  j.kv_num("sfence_asid", cfg.cost.sfence_asid);
  j.kv_num("sfence_va", cfg.cost.sfence_va);
  j.kv_num("sfence_va_asid", cfg.cost.sfence_va_asid);
  j.kv_num("l2_hit", cfg.cost.l2_hit);
  j.kv_num("walk_ref_mem", cfg.cost.walk_ref_mem);
  j.kv_num("walk_ref_cache", cfg.cost.walk_ref_cache);
  j.end_object();
}

// An alternative configuration's counters: the primary's block (instructions, accesses, traps,
// checks: the same stream) with the fields the alternative's own model decides replaced.
Counters overlay(const Counters& primary, const Counters& alt) {
  Counters o = primary;
#define M(f) o.f = alt.f
  M(l1i_misses);
  M(l1d_misses);
  M(l2i_hits);
  M(l2i_misses);
  M(l2d_hits);
  M(l2d_misses);
  M(walks);
  M(walk_refs);
  M(walk_faults);
  M(walk_refs_i);
  M(walk_refs_d);
  M(walk_cache_hits);
  M(l1i_misses_after_flush);
  M(l1d_misses_after_flush);
  M(l2_misses_after_flush);
  M(satp_flushes);
  M(entries_flushed);
  M(mismatches);
  M(user_hits_on_kernel_entries);
#undef M
  return o;
}

void hist_json(tlbm::Json& j, const tlbm::DistanceHist& h) {
  j.begin_object();
  j.kv("accesses", h.accesses);
  j.kv("not_present", h.not_present);
  j.kv("overflow", h.overflow);
  j.key("distances");  // sparse: depth -> accesses, depths below the cap only
  j.begin_object();
  for (size_t d = 0; d < h.exact.size(); d++)
    if (h.exact[d]) j.kv(std::to_string(d), h.exact[d]);
  j.end_object();
  j.end_object();
}

void prof_pair_json(tlbm::Json& j, const tlbm::DistanceHist (&h)[2]) {
  j.begin_object();
  j.key("l1i");
  hist_json(j, h[1]);
  j.key("l1d");
  hist_json(j, h[0]);
  j.end_object();
}

// lru_profile: the stack-distance histograms, in the report's own shape (totals, modes,
// regions with total and modes).
void profile_json(tlbm::Json& j) {
  tlbm::DistanceHist totals[2], modes[NMODES][2];
  std::vector<std::array<tlbm::DistanceHist, 2>> rtotal(kMaxRegion + 1);
  std::vector<std::array<std::array<tlbm::DistanceHist, 2>, NMODES>> rmode(kMaxRegion + 1);
  std::vector<bool> seen(kMaxRegion + 1, false);
  uint64_t inexact = 0, live_i = 0, live_d = 0;
  for (auto& vp : g_vcpus) {
    if (!vp || !vp->prof) continue;
    vp->prof->drain();
    inexact += vp->prof->inexact();
    live_i += vp->prof->stack(true).size();
    live_d += vp->prof->stack(false).size();
    for (int r = 0; r <= kMaxRegion; r++) {
      // every region the primary saw is listed, with empty histograms when nothing was
      // translated there
      if (vp->blocks[r]) seen[r] = true;
      if (!vp->prof_blocks[r]) continue;
      seen[r] = true;
      for (int m = 0; m < NMODES; m++)
        for (int s = 0; s < 2; s++) {
          const tlbm::DistanceHist& h = vp->prof_blocks[r]->side[m][s];
          totals[s].add(h);
          modes[m][s].add(h);
          rtotal[r][s].add(h);
          rmode[r][m][s].add(h);
        }
    }
  }
  j.begin_object();
  j.kv("cap", uint64_t(tlbm::DistanceHist::kCap));
  j.kv("asid", g_set.cfg.asid_on() ? "on" : "off");
  j.kv("asid_bits", uint64_t(g_set.cfg.asid_bits));
  j.kv("inexact", inexact);
  j.kv("live_l1i", live_i);
  j.kv("live_l1d", live_d);
  j.key("totals");
  prof_pair_json(j, totals);
  j.key("modes");
  j.begin_object();
  for (int m = 0; m < NMODES; m++) {
    j.key(kModeNames[m]);
    prof_pair_json(j, modes[m]);
  }
  j.end_object();
  j.key("regions");
  j.begin_object();
  for (int r = 0; r <= kMaxRegion; r++) {
    if (!seen[r]) continue;
    j.key(std::to_string(r));
    j.begin_object();
    j.key("total");
    tlbm::DistanceHist t[2] = {rtotal[r][0], rtotal[r][1]};
    prof_pair_json(j, t);
    for (int m = 0; m < NMODES; m++) {
      j.key(kModeNames[m]);
      tlbm::DistanceHist h[2] = {rmode[r][m][0], rmode[r][m][1]};
      prof_pair_json(j, h);
    }
    j.end_object();
  }
  j.end_object();
  j.end_object();
}

// alt_configs: each alternative configuration with its counters, in the report's own shape.
void alts_json(tlbm::Json& j) {
  j.begin_array();
  for (size_t a = 0; a < g_set.alts.size(); a++) {
    const AltDef& def = g_set.alts[a];
    Counters totals, modes[NMODES];
    std::vector<Counters> rtotal(kMaxRegion + 1);
    std::vector<std::array<Counters, NMODES>> rmode(kMaxRegion + 1);
    std::vector<bool> seen(kMaxRegion + 1, false);
    for (auto& vp : g_vcpus) {
      if (!vp) continue;
      AltModel& am = *vp->alts[a];
      for (int r = 0; r <= kMaxRegion; r++) {
        if (!vp->blocks[r] && !am.blocks[r]) continue;
        seen[r] = true;
        for (int m = 0; m < NMODES; m++) {
          const Counters none;
          const Counters& p = vp->blocks[r] ? vp->blocks[r]->mode[m] : none;
          const Counters& q = am.blocks[r] ? am.blocks[r]->mode[m] : none;
          const Counters k = overlay(p, q);
          totals.add(k);
          modes[m].add(k);
          rtotal[r].add(k);
          rmode[r][m].add(k);
        }
      }
    }
    j.begin_object();
    j.kv("name", def.name);
    j.kv("args", def.args);
    j.kv("status", totals.mismatches ? "mismatch" : "ok");
    j.kv("mismatches", totals.mismatches);
    j.key("config");
    j.begin_object();
    config_json(j, def.cfg, def.hypothetical);
    j.end_object();
    j.key("totals");
    counters_json(j, totals, def.cfg.cost);
    j.key("modes");
    j.begin_object();
    for (int m = 0; m < NMODES; m++) {
      j.key(kModeNames[m]);
      counters_json(j, modes[m], def.cfg.cost);
    }
    j.end_object();
    j.key("regions");
    j.begin_object();
    for (int r = 0; r <= kMaxRegion; r++) {
      if (!seen[r]) continue;
      j.key(std::to_string(r));
      j.begin_object();
      j.kv("name", r == 0 ? std::string("none") : std::to_string(r));
      j.kv("insns", rtotal[r].insns);
      j.key("total");
      counters_json(j, rtotal[r], def.cfg.cost);
      for (int m = 0; m < NMODES; m++) {
        j.key(kModeNames[m]);
        counters_json(j, rmode[r][m], def.cfg.cost);
      }
      j.end_object();
    }
    j.end_object();
    j.end_object();
  }
  j.end_array();
}

uint64_t write_report() {
  const tlbm::Config& cfg = g_set.cfg;
  Counters totals, modes[NMODES];
  std::vector<Counters> region_total(kMaxRegion + 1);
  std::vector<std::array<Counters, NMODES>> region_mode(kMaxRegion + 1);
  std::vector<bool> region_seen(kMaxRegion + 1, false);
  uint64_t underflows = 0, overflows = 0, pc_reads = 0;
  for (auto& vp : g_vcpus) {
    if (!vp) continue;
    Vcpu& c = *vp;
    underflows += c.region_underflows;
    overflows += c.region_overflows;
    pc_reads += c.pc_reads;
    for (int r = 0; r <= kMaxRegion; r++) {
      if (!c.blocks[r]) continue;
      region_seen[r] = true;
      for (int m = 0; m < NMODES; m++) {
        const Counters& k = c.blocks[r]->mode[m];
        totals.add(k);
        modes[m].add(k);
        region_total[r].add(k);
        region_mode[r][m].add(k);
      }
    }
  }
  const uint64_t mism = totals.mismatches;

  tlbm::Json j;
  j.begin_object();
  j.kv("format", "sv39lab-tlbmodel/1");
  j.kv("status", mism ? "mismatch" : "ok");
  j.kv("mismatches", mism);
  if (!g_set.label.empty()) j.kv("label", g_set.label);
  j.key("config");
  j.begin_object();
  config_json(j, cfg, g_set.hypothetical);
  j.kv("check", g_set.check_all ? "all" : "lookup");
  j.kv("plugin_api_version", uint64_t(QEMU_PLUGIN_VERSION));
  j.kv("vcpus", uint64_t(g_vcpus.size()));
  j.end_object();
  j.kv("user_hits_on_kernel_entries", totals.user_hits_on_kernel_entries);
  j.kv("user_kernel_probes", totals.user_kernel_probes);
  j.key("totals");
  counters_json(j, totals, cfg.cost);
  j.key("modes");
  j.begin_object();
  for (int m = 0; m < NMODES; m++) {
    j.key(kModeNames[m]);
    counters_json(j, modes[m], cfg.cost);
  }
  j.end_object();
  j.key("regions");
  j.begin_object();
  for (int r = 0; r <= kMaxRegion; r++) {
    if (!region_seen[r]) continue;
    j.key(std::to_string(r));
    j.begin_object();
    j.kv("name", r == 0 ? std::string("none") : std::to_string(r));
    j.kv("insns", region_total[r].insns);
    j.key("total");
    counters_json(j, region_total[r], cfg.cost);
    for (int m = 0; m < NMODES; m++) {
      j.key(kModeNames[m]);
      counters_json(j, region_mode[r][m], cfg.cost);
    }
    j.end_object();
  }
  j.end_object();
  if (g_set.lru_profile) {
    j.key("lru_profile");
    profile_json(j);
  }
  if (!g_set.alts.empty()) {
    j.key("alt_configs");
    alts_json(j);
  }
  j.key("mismatch_samples");
  j.begin_array();
  for (const Sample& s : g_samples) {
    j.begin_object();
    j.kv("kind", s.kind);
    j.kv("vcpu", uint64_t(s.vcpu));
    j.kv("region", uint64_t(s.region));
    j.kv("mode", s.mode);
    j.kv_hex("va", s.va);
    j.kv_hex("model_pa", s.model_pa);
    j.kv_hex("qemu_pa", s.qemu_pa);
    j.kv_hex("satp", s.satp);
    if (s.pte_addr != kNoPa) {
      j.kv_hex("walk_stopped_at", s.pte_addr);
      j.kv_hex("walk_pte", s.pte);
    }
    j.end_object();
  }
  j.end_array();
  j.key("diagnostics");
  j.begin_object();
  j.kv_hex("shadow_base", g_shadow.base());
  j.kv("shadow_bytes", g_shadow.size());
  j.kv_hex("ram_base", g_set.ram_base);
  j.kv("ram_bytes", g_set.ram_size);
  j.kv("kernel_image", g_kernel_path);
  j.kv("kernel_image_bytes", g_kernel_bytes);
  if (!g_kernel_error.empty()) j.kv("kernel_image_error", g_kernel_error);
  j.kv("fetch_pa_calibrated", g_calibrated.load() ? "yes" : "no");
  j.kv("fetch_pa_calibration_conflicts", g_calib_conflicts.load());
  j.kv("blocks_translated", g_tbs.load());
  j.kv("page_crossing_stores", g_split_stores.load());
  j.kv("block_va_reads", pc_reads);
  j.kv("region_underflows", underflows);
  j.kv("region_overflows", overflows);
  j.end_object();
  j.end_object();

  const std::string text = j.str() + "\n";
  if (!g_set.out.empty()) {
    FILE* f = std::fopen(g_set.out.c_str(), "w");
    if (!f || std::fwrite(text.data(), 1, text.size(), f) != text.size() || std::fclose(f) != 0)
      std::fprintf(stderr, "tlbmodel: cannot write %s\n", g_set.out.c_str());
  }
  logf("tlbmodel: preset=%s asid=%s insns=%" PRIu64 " itlb_miss=%" PRIu64 " dtlb_miss=%" PRIu64
       " walks=%" PRIu64 " mismatches=%" PRIu64 " status=%s\n",
       cfg.preset.c_str(), cfg.asid_on() ? "on" : "off", totals.insns, totals.l1i_misses,
       totals.l1d_misses, totals.walks, mism, mism ? "MISMATCH" : "ok");
  return mism;
}

void at_exit(qemu_plugin_id_t, void*) {
  const uint64_t mism = write_report();
  if (mism && g_set.mismatch_exit) {
    std::fflush(nullptr);
    _exit(int(g_set.mismatch_exit));
  }
}

// ------------------------------------------------------------------ arguments and setup
bool parse_u64(const std::string& s, uint64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 0);
  if (errno || *end) return false;
  *out = v;
  return true;
}

// QEMU-style size: 128M, 1G, 512 (MiB when unitless, as -m takes it), size=128M,...
bool parse_size(std::string s, bool default_mib, uint64_t* out) {
  if (s.rfind("size=", 0) == 0) s = s.substr(5);
  const size_t comma = s.find(',');
  if (comma != std::string::npos) s = s.substr(0, comma);
  if (s.empty()) return false;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  uint64_t mul = default_mib ? (1ull << 20) : 1;
  switch (*end) {
    case 0: break;
    case 'k': case 'K': mul = 1ull << 10; end++; break;
    case 'm': case 'M': mul = 1ull << 20; end++; break;
    case 'g': case 'G': mul = 1ull << 30; end++; break;
    case 't': case 'T': mul = 1ull << 40; end++; break;
    default: return false;
  }
  if (*end == 'B' || *end == 'b') end++;
  if (*end || v <= 0) return false;
  *out = uint64_t(v * double(mul));
  return true;
}

std::vector<std::string> qemu_cmdline() {
  std::vector<std::string> args;
  int fd = open("/proc/self/cmdline", O_RDONLY);
  if (fd < 0) return args;
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) all.append(buf, size_t(n));
  close(fd);
  size_t start = 0;
  for (size_t i = 0; i < all.size(); i++)
    if (all[i] == 0) {
      args.push_back(all.substr(start, i - start));
      start = i + 1;
    }
  return args;
}

std::string cmdline_value(const std::vector<std::string>& args, const char* opt) {
  const std::string o1 = std::string("-") + opt, o2 = std::string("--") + opt;
  for (size_t i = 0; i + 1 < args.size(); i++)
    if (args[i] == o1 || args[i] == o2) return args[i + 1];
  return "";
}

// Copies the bytes QEMU loaded from the kernel image (which are not stores) into the shadow.
// ELF: each PT_LOAD at its physical address. Anything else: a raw image at ram_base + 2 MiB.
void preload_kernel(const std::string& path) {
  g_kernel_path = path;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    g_kernel_error = "cannot open";
    return;
  }
  std::vector<uint8_t> data;
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.insert(data.end(), buf, buf + n);
  std::fclose(f);
  auto rd = [&](size_t off, size_t len, uint64_t* v) {
    if (off + len > data.size()) return false;
    *v = 0;
    std::memcpy(v, data.data() + off, len);
    return true;
  };
  if (data.size() >= 64 && std::memcmp(data.data(), "\x7f" "ELF", 4) == 0) {
    if (data[4] != 2 || data[5] != 1) {
      g_kernel_error = "not a little-endian ELF64";
      return;
    }
    uint64_t phoff, phentsize, phnum;
    rd(32, 8, &phoff);
    rd(54, 2, &phentsize);
    rd(56, 2, &phnum);
    for (uint64_t i = 0; i < phnum; i++) {
      const size_t ph = size_t(phoff + i * phentsize);
      uint64_t type, offset, paddr, filesz;
      if (!rd(ph, 4, &type) || !rd(ph + 8, 8, &offset) || !rd(ph + 24, 8, &paddr) ||
          !rd(ph + 32, 8, &filesz)) {
        g_kernel_error = "truncated program headers";
        return;
      }
      if (type != 1 || filesz == 0) continue;  // PT_LOAD with file bytes
      if (offset + filesz > data.size()) {
        g_kernel_error = "segment beyond the end of the file";
        return;
      }
      if (g_shadow.contains(paddr, filesz)) {
        g_shadow.write(paddr, data.data() + offset, filesz);
        g_kernel_bytes += filesz;
      }
    }
  } else {
    const uint64_t at = g_set.ram_base + (2ull << 20);
    if (g_shadow.contains(at, data.size())) {
      g_shadow.write(at, data.data(), data.size());
      g_kernel_bytes = data.size();
    }
  }
}

bool parse_geometry_entries(const std::string& v, tlbm::Geometry* g) {
  if (v == "inf" || v == "infinite") {
    g->infinite = true;
    g->entries = 0;
    return true;
  }
  uint64_t n;
  if (!parse_u64(v, &n) || n > (1u << 20)) return false;
  g->infinite = false;
  g->entries = uint32_t(n);
  return true;
}

int fail(const char* fmt, const char* arg) {
  std::fprintf(stderr, "tlbmodel: ");
  std::fprintf(stderr, fmt, arg);
  std::fprintf(stderr, "\n");
  return 1;
}

const char* const kUsage =
    "arguments: preset=u54|u74|c906|c910|rocket|xiangshan|ideal l1i=N l1d=N l2=N|0 (N or inf) "
    "l1i_ways=W l1d_ways=W l2_ways=W (0: fully associative) l1i_super=N l1d_super=N (0: none) "
    "l2_4k_only=on|off walk_cache=N repl=lru|plru|fifo|random seed=N asid=on|off asid_bits=N "
    "satp_flush=on|off cost_<name>=X check=all|lookup out=FILE kernel=auto|none|PATH "
    "ram_base=A ram_size=S label=TEXT samples=N mismatch_exit=CODE lru_profile=on|off alt=FILE";

bool parse_double(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (*end || !(v >= 0) || v > 1e9) return false;
  *out = v;
  return true;
}

double* cost_field(tlbm::CostModel& m, const std::string& name) {
  if (name == "cpi") return &m.cpi;
  if (name == "trap_entry") return &m.trap_entry;
  if (name == "trap_exit") return &m.trap_exit;
  if (name == "satp_write") return &m.satp_write;
  if (name == "sfence_all") return &m.sfence_all;
  if (name == "sfence_asid") return &m.sfence_asid;
  if (name == "sfence_va") return &m.sfence_va;
  if (name == "sfence_va_asid") return &m.sfence_va_asid;
  if (name == "l2_hit") return &m.l2_hit;
  if (name == "walk_ref_mem") return &m.walk_ref_mem;
  if (name == "walk_ref_cache") return &m.walk_ref_cache;
  return nullptr;
}

// The TLB configuration from key=value pairs: the preset first, whatever the order, then the
// single settings over it. Pairs that are no TLB setting go to *rest (or, with rest null, are
// refused). Fills *hypothetical with the reasons the configuration is no real core's. Returns
// false (after a message on stderr) on a bad value.
bool parse_tlb_config(const std::vector<std::pair<std::string, std::string>>& kv, tlbm::Config* out,
                      std::vector<std::string>* hypothetical,
                      std::vector<std::pair<std::string, std::string>>* rest) {
  tlbm::Config& cfg = *out;
  cfg.apply_preset("u54");
  for (auto& [k, v] : kv)
    if (k == "preset" && !cfg.apply_preset(v)) return !fail("unknown preset '%s'", v.c_str());
  bool custom = false, custom_cost = false;
  for (auto& [k, v] : kv) {
    uint64_t n;
    if (k == "preset") continue;
    if (k == "l1i" || k == "l1d" || k == "l2") {
      tlbm::Geometry& g = k == "l1i" ? cfg.l1i : k == "l1d" ? cfg.l1d : cfg.l2;
      if (!parse_geometry_entries(v, &g)) return !fail("bad entry count '%s'", v.c_str());
      if (k != "l2" && !g.present()) return !fail("an L1 TLB needs entries (got '%s')", v.c_str());
      custom = true;
    } else if (k == "l1i_ways" || k == "l1d_ways" || k == "l2_ways") {
      tlbm::Geometry& g = k == "l1i_ways" ? cfg.l1i : k == "l1d_ways" ? cfg.l1d : cfg.l2;
      if (!parse_u64(v, &n) || n > (1u << 20)) return !fail("bad associativity '%s'", v.c_str());
      g.ways = uint32_t(n);
      custom = true;
    } else if (k == "l1i_super" || k == "l1d_super") {
      tlbm::Geometry& g = k == "l1i_super" ? cfg.l1i_super : cfg.l1d_super;
      if (!parse_u64(v, &n) || n > 4096) return !fail("bad superpage-array size '%s'", v.c_str());
      g = tlbm::Geometry::fa(uint32_t(n));
      custom = true;
    } else if (k == "walk_cache") {
      if (!parse_u64(v, &n) || n > 4096) return !fail("bad walk_cache size '%s'", v.c_str());
      cfg.walk_cache = uint32_t(n);
      custom = true;
    } else if (k == "l2_4k_only") {
      bool b;
      if (!qemu_plugin_bool_parse(k.c_str(), v.c_str(), &b)) return !fail("bad boolean '%s'", v.c_str());
      cfg.l2_4k_only = b;
      custom = true;
    } else if (k == "repl") {
      if (v == "lru") cfg.repl = tlbm::Repl::Lru;
      else if (v == "plru") cfg.repl = tlbm::Repl::Plru;
      else if (v == "fifo") cfg.repl = tlbm::Repl::Fifo;
      else if (v == "random") cfg.repl = tlbm::Repl::Random;
      else return !fail("unknown replacement '%s' (lru, plru, fifo, random)", v.c_str());
      custom = true;
    } else if (k == "seed") {
      if (!parse_u64(v, &cfg.seed)) return !fail("bad seed '%s'", v.c_str());
    } else if (k == "asid") {
      // on: the core's ASID width (16, as QEMU, on a core that has none); off: no ASIDs
      bool b;
      if (!qemu_plugin_bool_parse(k.c_str(), v.c_str(), &b)) return !fail("bad boolean '%s'", v.c_str());
      cfg.asid_bits = !b ? 0 : cfg.core_asid_bits ? cfg.core_asid_bits : 16;
    } else if (k == "asid_bits") {
      if (!parse_u64(v, &n) || n > 16) return !fail("bad asid_bits '%s' (0..16)", v.c_str());
      cfg.asid_bits = unsigned(n);
    } else if (k == "satp_flush") {
      bool b;
      if (!qemu_plugin_bool_parse(k.c_str(), v.c_str(), &b)) return !fail("bad boolean '%s'", v.c_str());
      cfg.satp_flush = b;
    } else if (k.rfind("cost_", 0) == 0) {
      double* f = cost_field(cfg.cost, k.substr(5));
      if (!f) return !fail("unknown cost '%s'", k.c_str());
      if (!parse_double(v, f)) return !fail("bad cost '%s'", v.c_str());
      custom_cost = true;
    } else if (rest) {
      rest->emplace_back(k, v);
    } else {
      return !fail("'%s' is no TLB setting (alternative configurations take TLB settings only)",
                   k.c_str());
    }
  }
  if (custom) cfg.preset += "+custom";
  // A configuration no core has is labelled hypothetical (docs/tlbmodel.md "Presets").
  if (cfg.asid_bits > cfg.core_asid_bits) {
    char why[128];
    std::snprintf(why, sizeof why, "%u ASID bits on a core that implements %u", cfg.asid_bits,
                  cfg.core_asid_bits);
    hypothetical->push_back(why);
  }
  if (cfg.satp_flush) hypothetical->push_back("satp writes flush (no preset's core does)");
  if (custom) hypothetical->push_back("TLB organisation changed from the preset's");
  if (custom_cost) hypothetical->push_back("cost model changed from the preset's");
  for (const tlbm::Geometry* g : {&cfg.l1i, &cfg.l1d, &cfg.l2}) {
    if (g->infinite || g->entries == 0) continue;
    const uint32_t ways = g->ways == 0 ? g->entries : g->ways;
    if (ways > g->entries || g->entries % ways != 0)
      return !fail("entries must be a multiple of the ways (%s)", g->describe().c_str());
  }
  return true;
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

// alt=FILE: one alternative configuration per line, in the plugin's own key=value syntax
// (comma-separated TLB settings; `name=X` names it, else the line itself is its name); blank
// lines and lines starting with # are skipped.
bool read_alt_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return !fail("cannot read alt file '%s'", path.c_str());
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = trim(text.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty() || line[0] == '#') continue;
    AltDef def;
    std::vector<std::pair<std::string, std::string>> kv;
    std::vector<std::string> parts;
    size_t a = 0;
    while (a <= line.size()) {
      size_t c = line.find(',', a);
      if (c == std::string::npos) c = line.size();
      const std::string item = trim(line.substr(a, c - a));
      a = c + 1;
      if (item.empty()) continue;
      const size_t eq = item.find('=');
      if (eq == std::string::npos) return !fail("alt: '%s' is not key=value", item.c_str());
      const std::string k = item.substr(0, eq), v = item.substr(eq + 1);
      if (k == "name") {
        def.name = v;
        continue;
      }
      kv.emplace_back(k, v);
      parts.push_back(item);
    }
    for (size_t i = 0; i < parts.size(); i++) def.args += (i ? "," : "") + parts[i];
    if (def.name.empty()) def.name = def.args.empty() ? "preset=u54" : def.args;
    for (const AltDef& o : g_set.alts)
      if (o.name == def.name) return !fail("alt: two configurations named '%s'", def.name.c_str());
    if (!parse_tlb_config(kv, &def.cfg, &def.hypothetical, nullptr)) return false;
    g_set.alts.push_back(std::move(def));
  }
  if (g_set.alts.size() > 64) return !fail("alt: more than 64 configurations in '%s'", path.c_str());
  return true;
}

}  // namespace

extern "C" QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t* info,
                                                      int argc, char** argv) {
  if (info->version.cur < QEMU_PLUGIN_VERSION || info->version.min > QEMU_PLUGIN_VERSION) {
    std::fprintf(stderr,
                 "tlbmodel: built for plugin API %d, QEMU offers %d..%d: rebuild against this "
                 "QEMU's qemu-plugin.h (make -C tlbmodel)\n",
                 QEMU_PLUGIN_VERSION, info->version.min, info->version.cur);
    return 1;
  }
  if (!info->system_emulation || std::strcmp(info->target_name, "riscv64") != 0)
    return fail("needs qemu-system-riscv64 (got %s)", info->target_name);

  // The preset first, whatever the order of the arguments; then the single settings over it.
  std::vector<std::pair<std::string, std::string>> kv;
  for (int i = 0; i < argc; i++) {
    const std::string a = argv[i];
    const size_t eq = a.find('=');
    if (eq == std::string::npos) return fail("argument '%s' is not key=value", argv[i]);
    kv.emplace_back(a.substr(0, eq), a.substr(eq + 1));
  }
  std::vector<std::pair<std::string, std::string>> rest;  // the arguments that are no TLB setting
  if (!parse_tlb_config(kv, &g_set.cfg, &g_set.hypothetical, &rest)) return 1;
  for (auto& [k, v] : rest) {
    uint64_t n;
    if (k == "out") {
      g_set.out = v;
    } else if (k == "kernel") {
      g_set.kernel = v;
    } else if (k == "label") {
      g_set.label = v;
    } else if (k == "ram_base") {
      if (!parse_u64(v, &g_set.ram_base)) return fail("bad ram_base '%s'", v.c_str());
    } else if (k == "ram_size") {
      if (!parse_size(v, false, &g_set.ram_size)) return fail("bad ram_size '%s'", v.c_str());
    } else if (k == "check") {
      if (v != "all" && v != "lookup") return fail("check=all or check=lookup, not '%s'", v.c_str());
      g_set.check_all = v == "all";
    } else if (k == "mismatch_exit") {
      if (!parse_u64(v, &n) || n > 255) return fail("bad mismatch_exit '%s' (0..255)", v.c_str());
      g_set.mismatch_exit = unsigned(n);
    } else if (k == "samples") {
      if (!parse_u64(v, &n)) return fail("bad samples '%s'", v.c_str());
      g_set.max_samples = unsigned(n);
    } else if (k == "lru_profile") {
      bool b;
      if (!qemu_plugin_bool_parse(k.c_str(), v.c_str(), &b)) return fail("bad boolean '%s'", v.c_str());
      g_set.lru_profile = b;
    } else if (k == "alt") {
      if (!read_alt_file(v)) return 1;
    } else {
      std::fprintf(stderr, "tlbmodel: unknown argument '%s'\n%s\n", k.c_str(), kUsage);
      return 1;
    }
  }
  const tlbm::Config& cfg = g_set.cfg;

  const std::vector<std::string> args = qemu_cmdline();
  if (g_set.ram_size == 0) {
    uint64_t m;
    g_set.ram_size = parse_size(cmdline_value(args, "m"), true, &m) ? m : (4ull << 30);
  }
  if (!g_shadow.init(g_set.ram_base, g_set.ram_size))
    return fail("cannot reserve a shadow of guest RAM%s", "");
  if (g_shadow.size() < g_set.ram_size) g_set.ram_size = g_shadow.size();
  if (g_set.kernel == "auto") {
    const std::string k = cmdline_value(args, "kernel");
    if (!k.empty()) preload_kernel(k);
  } else if (g_set.kernel != "none") {
    preload_kernel(g_set.kernel);
    if (!g_kernel_error.empty())
      return fail("kernel image: %s", (g_set.kernel + ": " + g_kernel_error).c_str());
  }

  const int vcpus = info->system.max_vcpus > 0 ? info->system.max_vcpus : 1;
  g_vcpus.resize(size_t(vcpus));
  g_insn_board = qemu_plugin_scoreboard_new(sizeof(uint64_t));
  g_insns = qemu_plugin_scoreboard_u64(g_insn_board);

  qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
  qemu_plugin_register_atexit_cb(id, at_exit, nullptr);
  logf("tlbmodel: preset=%s l1i=%s l1d=%s l2=%s repl=%s walk_cache=%u asid_bits=%u%s shadow=%" PRIu64 " MiB kernel=%s (%" PRIu64 " bytes)\n",
       cfg.preset.c_str(), cfg.l1i.describe().c_str(), cfg.l1d.describe().c_str(),
       cfg.l2.describe().c_str(), tlbm::repl_name(cfg.repl), cfg.walk_cache, cfg.asid_bits,
       g_set.hypothetical.empty() ? "" : " (hypothetical)",
       g_shadow.size() >> 20, g_kernel_path.empty() ? "-" : g_kernel_path.c_str(), g_kernel_bytes);
  return 0;
}
