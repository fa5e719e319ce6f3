// The plugin's shared state: settings, global state and the per-vCPU models, declared for
// its parts (docs/tlbmodel.md "Source layout"):
//   settings.cpp   the settings and the global state (definitions), the log
//   callbacks.cpp  the execution and translation callbacks: the models fed access by access
//   report.cpp     the JSON report
//   arguments.cpp  the arguments, the kernel-image preload and qemu_plugin_install
#pragma once

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


namespace tlbp {

using tlbm::Counters;
using tlbm::kNoPa;

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
extern Settings& g_set;

// ------------------------------------------------------------------ global state
extern tlbm::Shadow& g_shadow;
extern qemu_plugin_u64 g_insns;  // per-vCPU instruction counter, bumped inline before each insn
extern struct qemu_plugin_scoreboard* g_insn_board;
extern qemu_plugin_register* g_reg_satp;
extern qemu_plugin_register* g_reg_priv;
extern qemu_plugin_register* g_reg_scause;
extern qemu_plugin_register* g_reg_stval;
extern qemu_plugin_register* g_reg_pc;
extern qemu_plugin_register* g_reg_mhartid;
extern qemu_plugin_register* g_gpr[32];
extern std::atomic<bool> g_calibrated;
extern std::atomic<uintptr_t> g_host_delta;  // host address of guest PA 0 of RAM (haddr - pa)
extern std::atomic<uint64_t> g_calib_conflicts;
extern std::atomic<uint64_t> g_tbs;
extern std::atomic<uint64_t> g_split_stores;
extern uint64_t g_kernel_bytes;
extern std::string& g_kernel_path;
extern std::string& g_kernel_error;

struct Sample {
  std::string kind;
  unsigned vcpu;
  int region;
  const char* mode;
  uint64_t va, model_pa, qemu_pa, satp;
  uint64_t pte_addr, pte;  // walk faults: where the model's walk stopped
};
extern std::mutex g_sample_lock;
extern std::vector<Sample>& g_samples;

// Translation-time records (one per translated block; never freed: a few dozen bytes each).
struct PageRec {
  uint64_t vaddr = 0;
  void* haddr = nullptr;
  uint64_t pa = kNoPa;
  // 0: not derived yet, 1: pa valid, 2: unavailable (atomic: vCPU threads share blocks)
  std::atomic<uint8_t> pa_state{0};
};
// QEMU's RISC-V blocks are position independent (CF_PCREL): a block translated at one VA runs
// at every VA that maps the same physical code (scheme 3's per-process kernel windows). The VA
// it runs at is read from `pc` the first time it runs under a satp value, and kept for that satp
// until the next sfence.vma: a page-table page may be freed and reused with the same satp value
// (the same root, ASID 0 without ASIDs) and different mappings, and the kernel fences first.
// A block is shared by all vCPUs (QEMU's translation cache is global), so the VA it runs at is
// kept per vCPU: fence epochs are per vCPU, and with parallel vCPU threads (MTTCG) two harts
// may run the same block at once.
struct TbExec {
  bool known = false;
  uint64_t satp = 0;     // the satp it last ran under on this vCPU, and its VA there
  uint64_t epoch = 0;    // ... and the vCPU's fence epoch then
  uint64_t va = 0;
};
struct TbRec {
  PageRec p0;                 // vaddr: where it was translated
  // privilege of the block (part of QEMU's TB flags, the same on every vCPU): read at first run
  std::atomic<int8_t> priv{-1};
  TbExec* exec = nullptr;     // one per vCPU (g_vcpus.size())
};
struct SfenceRec {
  uint8_t rs1 = 0, rs2 = 0;
  bool has_next = false;
  PageRec next;  // the instruction after the sfence: fetched again after the flush
};

class Arena {
 public:
  template <class T>
  T* make(size_t n = 1) {  // n value-initialised objects (n * sizeof(T) well below kChunk)
    std::lock_guard<std::mutex> g(lock_);
    if (used_ + n * sizeof(T) + alignof(T) > kChunk || chunks_.empty()) {
      chunks_.push_back(std::make_unique<uint8_t[]>(kChunk));
      used_ = 0;
    }
    used_ = (used_ + alignof(T) - 1) & ~(alignof(T) - 1);
    T* p = reinterpret_cast<T*>(chunks_.back().get() + used_);
    used_ += n * sizeof(T);
    for (size_t i = 0; i < n; i++) new (p + i) T();
    return p;
  }

 private:
  static constexpr size_t kChunk = 1 << 20;
  std::mutex lock_;
  std::vector<std::unique_ptr<uint8_t[]>> chunks_;
  size_t used_ = 0;
};
extern Arena& g_arena;

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
  Vcpu(const tlbm::Config& cfg, unsigned idx) : index(idx), mmu(cfg, &g_shadow), blocks(kMaxRegion + 1) {
    if (g_set.lru_profile) {
      prof = std::make_unique<tlbm::LruProfile>(cfg);
      prof_blocks.resize(kMaxRegion + 1);
    }
    for (const AltDef& a : g_set.alts) alts.push_back(std::make_unique<AltModel>(a.cfg));
  }
  const unsigned index;  // QEMU's vCPU index = the hart id on the virt machine
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
  // this vCPU's instruction count: own_insns when identified by hart (bumped by a callback per
  // instruction, see running()), else its entry of g_insn_board: a pointer with one vCPU, null
  // with several (the scoreboard may move when it grows for a later vCPU: read it through QEMU)
  const uint64_t* insn_ctr = nullptr;
  uint64_t own_insns = 0;
  uint64_t insns_now() const { return insn_ctr ? *insn_ctr : qemu_plugin_u64_get(g_insns, index); }
  bool satp_dirty = true;
  uint64_t region_underflows = 0, region_overflows = 0;
  uint64_t tb_delta = 0;       // running VA - translation VA of the current block
  uint64_t fence_epoch = 0;    // sfence.vma executed so far (invalidates TbRec::exec_va)
  uint64_t pc_reads = 0;
  // SBI calls this hart made from S mode (ecall with a7 = the extension): remote fences and IPIs
  // it asked for (see ecall_exec)
  uint64_t sbi_rfence_calls = 0, sbi_ipi_calls = 0;

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
extern std::vector<std::unique_ptr<Vcpu>>& g_vcpus;

// The vCPU index QEMU passes to callbacks is not always the running vCPU's. When the vCPUs
// share one host thread (round-robin TCG: -icount, -accel tcg,thread=single), QEMU 10.0 bakes
// the *translating* vCPU's index into a block as a constant, and blocks are shared by all
// vCPUs, so other harts' accesses arrive under that index; worse, its per-vCPU inline ops
// (scoreboards) scale that constant in place, so later callbacks of the block get indexes such
// as 4096 and the inline adds land outside the scoreboard. With one host thread per vCPU
// (MTTCG, QEMU's default without -icount) the index is loaded at run time and is right.
// Round-robin with several vCPUs (g_by_hart): no inline op, the index is ignored; each block's
// first callback (tb_exec) reads the hart's own mhartid, and that vCPU is kept as the one
// running on this host thread until the next block (QEMU switches vCPUs only between blocks).
extern bool g_by_hart;
extern thread_local Vcpu* t_running;
Vcpu& identify_running();  // reads mhartid; sets t_running
inline Vcpu& running(unsigned vcpu) {
  if (__builtin_expect(!g_by_hart, 1)) return *g_vcpus[vcpu];
  return t_running ? *t_running : identify_running();
}

// ------------------------------------------------------------------ across the parts
void logf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
int fail(const char* fmt, const char* arg);  // a message on stderr; returns 1
// callbacks.cpp
void tb_trans(qemu_plugin_id_t, struct qemu_plugin_tb* tb);
void vcpu_init(qemu_plugin_id_t, unsigned int vcpu);
// report.cpp
uint64_t write_report();  // returns the mismatches
void at_exit(qemu_plugin_id_t, void*);

}  // namespace tlbp
