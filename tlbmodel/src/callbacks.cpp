// The execution and translation callbacks: every fetch and data access of the guest through
// the per-vCPU models (primary, LRU profile, alternatives), checked against QEMU's PA.
#include <pthread.h>

#include "plugin.hpp"

namespace tlbp {

namespace {

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
  const uint64_t now = c.insns_now();
  const uint64_t d = now - c.insn_mark;
  c.insn_mark = now;
  c.cur->insns += d;
  if (c.mode <= MODE_S) c.cur->insns_translated += d;
}

bool in_ram(uint64_t pa) { return pa >= g_set.ram_base && pa - g_set.ram_base < g_set.ram_size; }

// The guest physical address of a fetched page, from the host address QEMU translated it at.
uint64_t page_pa(PageRec& p) {
  uint8_t state = p.pa_state.load(std::memory_order_acquire);
  if (state == 0) {
    if (!g_calibrated.load(std::memory_order_acquire)) return kNoPa;  // decide later
    // Every vCPU derives the same value: publish pa before the state that makes it valid.
    state = 2;
    if (p.haddr) {
      const uint64_t pa = uint64_t(uintptr_t(p.haddr) - g_host_delta.load(std::memory_order_relaxed));
      if (in_ram(pa)) {
        p.pa = pa;
        state = 1;
      }
    }
    p.pa_state.store(state, std::memory_order_release);
  }
  return state == 1 ? p.pa : kNoPa;
}

void mismatch(Vcpu& c, unsigned vcpu, const char* kind, uint64_t va, uint64_t model_pa,
              uint64_t qemu_pa, const tlbm::AccessResult* walk = nullptr) {
  c.cur->mismatches++;
  std::lock_guard<std::mutex> g(g_sample_lock);
  if (g_samples.size() < g_set.max_samples) {
    const uint64_t pte_addr = walk ? walk->pte_addr : kNoPa, pte = walk ? walk->pte : 0;
    g_samples.push_back({kind, c.index, c.region, kModeNames[c.mode], va, model_pa, qemu_pa,
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
  // A block's first callback: with several vCPUs, find out which one runs it (see running()).
  Vcpu& c = __builtin_expect(!g_by_hart, 1) ? *g_vcpus[vcpu] : identify_running();
  attribute_insns(c, vcpu);
  if (__builtin_expect(c.satp_dirty, 0)) {
    c.satp_dirty = false;
    const uint64_t v = read_reg(g_reg_satp);
    if (v != c.mmu.satp()) {
      if (c.mmu.set_satp(v, *c.cur) && c.prof) c.prof->satp_flush();
      for (auto& a : c.alts) a->mmu.set_satp(v, *a->cur);
    }
  }
  int priv = r->priv.load(std::memory_order_relaxed);
  if (__builtin_expect(priv < 0, 0)) {
    priv = int(read_reg(g_reg_priv) & 3);
    r->priv.store(int8_t(priv), std::memory_order_relaxed);
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
    TbExec& e = r->exec[c.index];
    if (__builtin_expect(!e.known || e.satp != satp || e.epoch != c.fence_epoch, 0)) {
      e.va = read_reg(g_reg_pc);
      e.satp = satp;
      e.epoch = c.fence_epoch;
      e.known = true;
      c.pc_reads++;
    }
    c.tb_delta = e.va - r->p0.vaddr;
    ifetch(c, vcpu, r->p0, c.tb_delta);
  }
}

// Round-robin with several vCPUs: the instruction counter of the vCPU running this block (no inline
// per-vCPU op, which QEMU 10.0 gets wrong then: see running()).
void count_insn(unsigned, void*) { t_running->own_insns++; }

void page2_exec(unsigned vcpu, void* ud) {
  Vcpu& c = running(vcpu);
  if (c.mode <= MODE_S) ifetch(c, vcpu, *static_cast<PageRec*>(ud), c.tb_delta);
}

void csr_satp_exec(unsigned vcpu, void* ud) {
  Vcpu& c = running(vcpu);
  c.satp_dirty = true;  // read after the write, at the next block (a CSR write ends the block)
  if (ud && c.priv != 0) c.cur->satp_writes++;
}

void sfence_exec(unsigned vcpu, void* ud) {
  const SfenceRec* s = static_cast<const SfenceRec*>(ud);
  Vcpu& c = running(vcpu);
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

// An ecall from S mode is an SBI call, its extension in a7. A remote fence or IPI is counted on
// the hart that asks for it; the fences themselves run on the target harts (OpenSBI executes
// sfence.vma there in M mode), which apply them to their own models like any sfence.vma.
constexpr uint64_t kSbiRfence = 0x52464E43, kSbiIpi = 0x735049;  // "RFNC", "sPI"
constexpr uint64_t kSbiLegacyIpi = 4, kSbiLegacyFenceFirst = 5, kSbiLegacyFenceLast = 7;
void ecall_exec(unsigned vcpu, void*) {
  Vcpu& c = running(vcpu);
  if (c.priv != 1) return;  // a user ecall is a system call, M mode's is not ours
  const uint64_t eid = read_reg(g_gpr[17]);
  if (eid == kSbiRfence || (eid >= kSbiLegacyFenceFirst && eid <= kSbiLegacyFenceLast))
    c.sbi_rfence_calls++;
  else if (eid == kSbiIpi || eid == kSbiLegacyIpi)
    c.sbi_ipi_calls++;
}

void sret_exec(unsigned vcpu, void*) {
  Vcpu& c = running(vcpu);
  if (c.priv == 1) c.cur->srets++;  // in U it is illegal; in M it is OpenSBI's business
}

void marker_exec(unsigned vcpu, void* ud) {
  Vcpu& c = running(vcpu);
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
  Vcpu& c = running(vcpu);
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
  Vcpu& c = running(vcpu);
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

}  // namespace

// ------------------------------------------------------------------ translation
namespace {
void count_insn_at(struct qemu_plugin_insn* insn) {
  if (g_by_hart)
    qemu_plugin_register_vcpu_insn_exec_cb(insn, count_insn, QEMU_PLUGIN_CB_NO_REGS, nullptr);
  else
    qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(insn, QEMU_PLUGIN_INLINE_ADD_U64, g_insns, 1);
}
}  // namespace

Vcpu& identify_running() {
  const uint64_t hart = read_reg(g_reg_mhartid);
  if (hart >= g_vcpus.size() || !g_vcpus[hart]) {
    // The virt machine numbers harts like QEMU's vCPUs; another numbering is not modelled.
    std::fprintf(stderr, "tlbmodel: a block runs on hart %" PRIu64 ", which is no initialised vCPU "
                 "of the %zu (hart ids must be the vCPU indexes, as on -machine virt)\n",
                 hart, g_vcpus.size());
    std::exit(1);
  }
  t_running = g_vcpus[hart].get();
  return *t_running;
}

void tb_trans(qemu_plugin_id_t, struct qemu_plugin_tb* tb) {
  g_tbs.fetch_add(1, std::memory_order_relaxed);
  const size_t n = qemu_plugin_tb_n_insns(tb);
  if (n == 0) return;
  TbRec* r = g_arena.make<TbRec>();
  r->exec = g_arena.make<TbExec>(g_vcpus.size());
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
        if (w == 0x00000073)  // ecall
          qemu_plugin_register_vcpu_insn_exec_cb(insn, ecall_exec, QEMU_PLUGIN_CB_R_REGS, nullptr);
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
      count_insn_at(insn);
      if (opcode == 0x2f) {  // AMO, LR, SC: one TLB lookup (the load half), shadow the store
        qemu_plugin_register_vcpu_mem_cb(insn, mem_load, QEMU_PLUGIN_CB_NO_REGS,
                                         QEMU_PLUGIN_MEM_R, nullptr);
        qemu_plugin_register_vcpu_mem_cb(insn, mem_store_shadow, QEMU_PLUGIN_CB_NO_REGS,
                                         QEMU_PLUGIN_MEM_W, nullptr);
        continue;
      }
    } else {
      count_insn_at(insn);
    }
    qemu_plugin_register_vcpu_mem_cb(insn, mem_load, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_R,
                                     nullptr);
    qemu_plugin_register_vcpu_mem_cb(insn, mem_store, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_W,
                                     nullptr);
  }
}

namespace {
void find_registers() {
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
    else if (name == "mhartid") g_reg_mhartid = d.handle;
    // x0..x31 are the first 32 registers of the core feature, in order.
    if (feature == "org.gnu.gdb.riscv.cpu" && gpr < 32) g_gpr[gpr++] = d.handle;
  }
  g_array_free(regs, TRUE);
  if (!g_reg_satp || !g_reg_priv || !g_reg_scause || !g_reg_stval || !g_reg_pc || gpr < 32 ||
      (g_by_hart && !g_reg_mhartid)) {
    std::fprintf(stderr, "tlbmodel: QEMU does not expose satp/priv/scause/stval/pc/x0..x31%s\n",
                 g_by_hart ? "/mhartid" : "");
    std::exit(1);
  }
}

// Trusting QEMU's vCPU index needs one host thread per vCPU (see running()). The command line
// decided that (no -icount, no thread=single); a vCPU initialised on the thread of another
// (vcpu_init runs on the vCPU's own thread) shows otherwise, before it runs a block.
void check_own_thread(unsigned vcpu) {
  static std::mutex lock;
  static std::vector<std::pair<pthread_t, unsigned>> seen;
  std::lock_guard<std::mutex> g(lock);
  const pthread_t self = pthread_self();
  for (const auto& [thread, other] : seen)
    if (pthread_equal(thread, self)) {
      std::fprintf(stderr, "tlbmodel: vCPUs %u and %u share a host thread, but QEMU's command line "
                   "shows neither -icount nor -accel tcg,thread=single; add one of them so that "
                   "the plugin tells the harts apart\n", other, vcpu);
      std::exit(1);
    }
  seen.emplace_back(self, vcpu);
}
}  // namespace

void vcpu_init(qemu_plugin_id_t, unsigned int vcpu) {
  // With parallel vCPU threads the first vCPUs may initialise at the same time.
  static std::once_flag registers_found;
  std::call_once(registers_found, find_registers);
  if (vcpu >= g_vcpus.size()) {
    std::fprintf(stderr, "tlbmodel: vCPU %u beyond the %zu expected\n", vcpu, g_vcpus.size());
    std::exit(1);
  }
  if (g_vcpus.size() > 1 && !g_by_hart) check_own_thread(vcpu);
  // Each vCPU initialises its own slot (g_vcpus is sized at install and never resized): no
  // other vCPU's state is touched here, whichever thread runs it.
  if (g_vcpus[vcpu]) return;
  auto c = std::make_unique<Vcpu>(g_set.cfg, vcpu);
  c->update_cur();
  if (g_by_hart)
    c->insn_ctr = &c->own_insns;
  else if (g_vcpus.size() == 1)
    c->insn_ctr = static_cast<const uint64_t*>(qemu_plugin_scoreboard_find(g_insn_board, vcpu));
  g_vcpus[vcpu] = std::move(c);
}

}  // namespace tlbp
