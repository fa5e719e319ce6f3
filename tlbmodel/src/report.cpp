// The JSON report (format sv39lab-tlbmodel/1, docs/tlbmodel.md "Report"), written at exit.
#include "plugin.hpp"

namespace tlbp {

namespace {

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

// The TLB configuration's fields of the report's "config" (also each alternative's).
void config_json(tlbm::Json& j, const tlbm::Config& cfg, const std::vector<std::string>& hypothetical) {
  j.kv("preset", cfg.preset);
  tlbm::geometry_fields_json(j, cfg);
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
  tlbm::cost_json(j, cfg.cost);
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

// The two L1 sides' histograms of one (region, mode): [0] data, [1] instructions.
struct HistPair {
  tlbm::DistanceHist side[2];
  void add(const HistPair& o) {
    side[0].add(o.side[0]);
    side[1].add(o.side[1]);
  }
};

// Counts of one kind (Counters, HistPair) summed per mode and per region over the vCPUs: the
// shape every count of the report has (totals, modes, regions with total and modes).
template <class T>
struct Breakdown {
  T totals{};
  T modes[NMODES]{};
  std::vector<T> rtotal = std::vector<T>(kMaxRegion + 1);
  std::vector<std::array<T, NMODES>> rmode = std::vector<std::array<T, NMODES>>(kMaxRegion + 1);
  std::vector<bool> seen = std::vector<bool>(kMaxRegion + 1, false);  // regions listed
  void add(int r, int m, const T& k) {
    totals.add(k);
    modes[m].add(k);
    rtotal[r].add(k);
    rmode[r][m].add(k);
  }
};

// Writes "totals", "modes" and "regions" of a Breakdown; leaf(j, value) writes one value,
// head(j, r) the region's own fields before its "total".
template <class T, class Leaf, class Head>
void breakdown_json(tlbm::Json& j, const Breakdown<T>& b, Leaf leaf, Head head) {
  j.key("totals");
  leaf(j, b.totals);
  j.key("modes");
  j.begin_object();
  for (int m = 0; m < NMODES; m++) {
    j.key(kModeNames[m]);
    leaf(j, b.modes[m]);
  }
  j.end_object();
  j.key("regions");
  j.begin_object();
  for (int r = 0; r <= kMaxRegion; r++) {
    if (!b.seen[r]) continue;
    j.key(std::to_string(r));
    j.begin_object();
    head(j, r);
    j.key("total");
    leaf(j, b.rtotal[r]);
    for (int m = 0; m < NMODES; m++) {
      j.key(kModeNames[m]);
      leaf(j, b.rmode[r][m]);
    }
    j.end_object();
  }
  j.end_object();
}

// Counters with their region names and instruction counts (the primary's and each alternative's).
void counters_breakdown_json(tlbm::Json& j, const Breakdown<Counters>& b, const tlbm::CostModel& cost) {
  breakdown_json(
      j, b, [&](tlbm::Json& jj, const Counters& k) { counters_json(jj, k, cost); },
      [&](tlbm::Json& jj, int r) {
        jj.kv("name", r == 0 ? std::string("none") : std::to_string(r));
        jj.kv("insns", b.rtotal[r].insns);
      });
}

// lru_profile: the stack-distance histograms, in the report's own shape.
void profile_json(tlbm::Json& j) {
  Breakdown<HistPair> b;
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
      if (vp->blocks[r]) b.seen[r] = true;
      if (!vp->prof_blocks[r]) continue;
      b.seen[r] = true;
      for (int m = 0; m < NMODES; m++) {
        HistPair h;
        h.side[0] = vp->prof_blocks[r]->side[m][0];
        h.side[1] = vp->prof_blocks[r]->side[m][1];
        b.add(r, m, h);
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
  breakdown_json(
      j, b, [](tlbm::Json& jj, const HistPair& h) { prof_pair_json(jj, h.side); },
      [](tlbm::Json&, int) {});
  j.end_object();
}

// alt_configs: each alternative configuration with its counters, in the report's own shape.
void alts_json(tlbm::Json& j) {
  j.begin_array();
  for (size_t a = 0; a < g_set.alts.size(); a++) {
    const AltDef& def = g_set.alts[a];
    Breakdown<Counters> b;
    for (auto& vp : g_vcpus) {
      if (!vp) continue;
      AltModel& am = *vp->alts[a];
      for (int r = 0; r <= kMaxRegion; r++) {
        if (!vp->blocks[r] && !am.blocks[r]) continue;
        b.seen[r] = true;
        for (int m = 0; m < NMODES; m++) {
          const Counters none;
          const Counters& p = vp->blocks[r] ? vp->blocks[r]->mode[m] : none;
          const Counters& q = am.blocks[r] ? am.blocks[r]->mode[m] : none;
          b.add(r, m, overlay(p, q));
        }
      }
    }
    j.begin_object();
    j.kv("name", def.name);
    j.kv("args", def.args);
    j.kv("status", b.totals.mismatches ? "mismatch" : "ok");
    j.kv("mismatches", b.totals.mismatches);
    j.key("config");
    j.begin_object();
    config_json(j, def.cfg, def.hypothetical);
    j.end_object();
    counters_breakdown_json(j, b, def.cfg.cost);
    j.end_object();
  }
  j.end_array();
}

}  // namespace

uint64_t write_report() {
  const tlbm::Config& cfg = g_set.cfg;
  Breakdown<Counters> b;
  uint64_t underflows = 0, overflows = 0, pc_reads = 0;
  for (auto& vp : g_vcpus) {
    if (!vp) continue;
    Vcpu& c = *vp;
    underflows += c.region_underflows;
    overflows += c.region_overflows;
    pc_reads += c.pc_reads;
    for (int r = 0; r <= kMaxRegion; r++) {
      if (!c.blocks[r]) continue;
      b.seen[r] = true;
      for (int m = 0; m < NMODES; m++) b.add(r, m, c.blocks[r]->mode[m]);
    }
  }
  const Counters& totals = b.totals;
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
  counters_breakdown_json(j, b, cfg.cost);
  if (g_vcpus.size() > 1) {
    // Several harts: each one's own model and counts, in the report's shape (the sections
    // above are their sums; with one vCPU this section is left out, the report unchanged).
    j.key("harts");
    j.begin_array();
    for (size_t i = 0; i < g_vcpus.size(); i++) {
      const Vcpu* c = g_vcpus[i].get();
      j.begin_object();
      j.kv("vcpu", uint64_t(i));
      j.kv("started", c ? "yes" : "no");
      Breakdown<Counters> h;
      for (int r = 0; c && r <= kMaxRegion; r++) {
        if (!c->blocks[r]) continue;
        h.seen[r] = true;
        for (int m = 0; m < NMODES; m++) h.add(r, m, c->blocks[r]->mode[m]);
      }
      j.kv("mismatches", h.totals.mismatches);
      j.kv("user_hits_on_kernel_entries", h.totals.user_hits_on_kernel_entries);
      j.kv("user_kernel_probes", h.totals.user_kernel_probes);
      j.kv("sbi_rfence_calls", c ? c->sbi_rfence_calls : 0);
      j.kv("sbi_ipi_calls", c ? c->sbi_ipi_calls : 0);
      counters_breakdown_json(j, h, cfg.cost);
      j.end_object();
    }
    j.end_array();
  }
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

}  // namespace tlbp
