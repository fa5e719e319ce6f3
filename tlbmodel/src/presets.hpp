// A TLB configuration (Config) and the presets that fill it: the one definition of the
// presets, which the harness reads through presets_json() (tlbmodel-presets, docs/tlbmodel.md).
#pragma once

#include <string>
#include <vector>
#include "counters.hpp"
#include "tlb.hpp"

namespace tlbm {

struct Config {
  std::string preset = "u54";
  Geometry l1i{32, 0, false}, l1d{32, 0, false}, l2{128, 1, false};
  Geometry l1i_super{}, l1d_super{};  // separate superpage arrays of the L1s (none: shared)
  Repl repl = Repl::Lru;
  uint64_t seed = 1;
  unsigned asid_bits = 16;      // ASID bits the model tags entries with (0: no ASIDs)
  unsigned core_asid_bits = 16; // the preset's core implements this many
  bool satp_flush = false;      // the core flushes non-global entries when a satp write changes
                                // the root without ASIDs (the spec does not; off everywhere)
  uint32_t walk_cache = 0;      // entries of the non-leaf page-walk cache (0: none)
  bool l2_4k_only = false;      // the L2 is refilled with 4 KiB leaves only (rocket-chip PTW)
  CostModel cost;
  bool asid_on() const { return asid_bits > 0; }
  uint16_t asid_mask() const { return asid_bits >= 16 ? 0xffff : uint16_t((1u << asid_bits) - 1); }
  // Applies a preset by name; false when unknown.
  bool apply_preset(const std::string& name);
};
class Json;
// Preset names, in the order the docs list them.
extern const char* const* const kPresetNames;
extern const size_t kPresetCount;
std::vector<std::string> preset_names();
// Every preset, as JSON (format sv39lab-tlbmodel-presets/1): what tlbmodel-presets prints.
std::string presets_json();
// The report's shape of a configuration's parts (also used by presets_json).
void geometry_fields_json(Json& j, const Config& cfg);
void cost_json(Json& j, const CostModel& c);

}  // namespace tlbm
