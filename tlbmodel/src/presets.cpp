#include "presets.hpp"

#include "json.hpp"

namespace tlbm {

// ------------------------------------------------------------------ the presets
// The one definition of the presets: the plugin applies them, and tlbmodel-presets prints them
// (presets_json) for the harness (harness/tlb.py reads build/tlbmodel/presets.json).
// docs/tlbmodel.md "Presets" gives the source of every number or marks it as an assumption.
namespace {
struct PresetDef {
  const char* name;
  const char* core;  // the core it models, for titles
  const char* text;  // its organisation in words, for titles (tables, plots, --help)
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
    {"u54", "SiFive U54 (FU540)",
     "L1 I/D 32/32 fully assoc. + 4 superpage entries each, L2 128 direct-mapped (4 KiB "
     "leaves), 8-entry walk cache, PLRU, no ASIDs",
     Geometry::fa(32), Geometry::fa(32), Geometry::fa(4), Geometry::fa(4),
     Geometry::sa(128, 1), Repl::Plru, 8, true, 0,
     {1, 5, 5, 5, 5, 5, 5, 5, 4, 20, 1}},
    // SiFive U74 in the JH7110: in-order dual-issue, 8 stages.
    {"u74", "SiFive U74 (JH7110)",
     "L1 I/D 40/40 fully assoc., no L2, 8-entry walk cache, PLRU, no ASIDs",
     Geometry::fa(40), Geometry::fa(40), kNone, kNone, kNone, Repl::Plru, 8, true, 0,
     {1, 8, 8, 8, 8, 8, 8, 8, 4, 20, 1}},
    // T-Head C906: in-order, 5 stages.
    {"c906", "T-Head C906", "L1 I/D 10/10 fully assoc., L2 512 4-way, PLRU, 16 ASID bits",
     Geometry::fa(10), Geometry::fa(10), kNone, kNone, Geometry::sa(512, 4), Repl::Plru,
     0, false, 16, {1, 5, 5, 5, 5, 5, 5, 5, 4, 20, 1}},
    // T-Head C910: out-of-order, 12 stages.
    {"c910", "T-Head C910",
     "L1 I/D 32/16 fully assoc. (+1 D superpage entry), L2 1024 4-way, PLRU, 16 ASID bits",
     Geometry::fa(32), Geometry::fa(16), kNone, Geometry::fa(1), Geometry::sa(1024, 4),
     Repl::Plru, 0, false, 16, {1, 12, 12, 12, 12, 12, 12, 12, 4, 20, 1}},
    // rocket-chip defaults (RocketCoreParams, ICacheParams/DCacheParams, PTW).
    {"rocket", "rocket-chip default",
     "L1 I/D 32/32 fully assoc. + 4 superpage entries each, no L2, 8-entry walk cache, PLRU, "
     "no ASIDs",
     Geometry::fa(32), Geometry::fa(32), Geometry::fa(4), Geometry::fa(4), kNone,
     Repl::Plru, 8, true, 0, {1, 5, 5, 5, 5, 5, 5, 5, 4, 20, 1}},
    // XiangShan Kunminghu: out-of-order.
    {"xiangshan", "XiangShan Kunminghu",
     "L1 I/D 48/48 fully assoc., L2 256 4-way (4 KiB leaves), 24-entry walk cache, PLRU, "
     "16 ASID bits",
     Geometry::fa(48), Geometry::fa(48), kNone, kNone, Geometry::sa(256, 4),
     Repl::Plru, 24, true, 16, {0.5, 15, 15, 15, 15, 15, 15, 15, 4, 20, 1}},
    // Unbounded L1s: only compulsory misses and misses caused by flushes.
    {"ideal", "no core (unbounded L1s)", "unbounded L1s, no L2", kInf, kInf, kNone, kNone, kNone,
     Repl::Lru, 0, false, 16, {1, 0, 0, 0, 0, 0, 0, 0, 0, 20, 1}},
};

void geometry_json(Json& j, const char* key, const Geometry& g) {
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
}  // namespace

const size_t kPresetCount = sizeof kPresets / sizeof kPresets[0];
const char* const* const kPresetNames = [] {
  static const char* names[kPresetCount];
  for (size_t i = 0; i < kPresetCount; i++) names[i] = kPresets[i].name;
  return names;
}();

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const PresetDef& p : kPresets) names.emplace_back(p.name);
  return names;
}

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

void geometry_fields_json(Json& j, const Config& cfg) {
  geometry_json(j, "l1i", cfg.l1i);
  geometry_json(j, "l1d", cfg.l1d);
  geometry_json(j, "l2", cfg.l2);
  geometry_json(j, "l1i_super", cfg.l1i_super);
  geometry_json(j, "l1d_super", cfg.l1d_super);
}

void cost_json(Json& j, const CostModel& c) {
  j.begin_object();
  j.kv_num("cpi", c.cpi);
  j.kv_num("trap_entry", c.trap_entry);
  j.kv_num("trap_exit", c.trap_exit);
  j.kv_num("satp_write", c.satp_write);
  j.kv_num("sfence_all", c.sfence_all);
  j.kv_num("sfence_asid", c.sfence_asid);
  j.kv_num("sfence_va", c.sfence_va);
  j.kv_num("sfence_va_asid", c.sfence_va_asid);
  j.kv_num("l2_hit", c.l2_hit);
  j.kv_num("walk_ref_mem", c.walk_ref_mem);
  j.kv_num("walk_ref_cache", c.walk_ref_cache);
  j.end_object();
}

std::string presets_json() {
  Json j;
  j.begin_object();
  j.kv("format", "sv39lab-tlbmodel-presets/1");
  j.key("presets");
  j.begin_array();
  for (const PresetDef& p : kPresets) {
    Config cfg;
    cfg.apply_preset(p.name);
    j.begin_object();
    j.kv("name", p.name);
    j.kv("core", p.core);
    j.kv("text", p.text);
    j.kv("asid_bits", uint64_t(cfg.core_asid_bits));
    geometry_fields_json(j, cfg);
    j.kv("l2_4k_only", cfg.l2_4k_only ? "yes" : "no");
    j.kv("walk_cache", uint64_t(cfg.walk_cache));
    j.kv("replacement", repl_name(cfg.repl));
    j.key("cost_model");
    cost_json(j, cfg.cost);
    j.end_object();
  }
  j.end_array();
  j.end_object();
  return j.str() + "\n";
}

}  // namespace tlbm
