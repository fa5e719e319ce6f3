// The plugin's arguments, the kernel-image preload into the shadow, and qemu_plugin_install.
#include "plugin.hpp"

namespace tlbp {

namespace {

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

// QEMU runs all vCPUs on one host thread (round-robin TCG): under -icount, or when asked.
bool round_robin(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); i++) {
    if (args[i] == "-icount" || args[i] == "--icount") return true;
    if ((args[i] == "-accel" || args[i] == "--accel") && i + 1 < args.size() &&
        args[i + 1].find("thread=single") != std::string::npos)
      return true;
  }
  return false;
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

std::string usage() {
  std::string presets;
  for (const std::string& n : tlbm::preset_names()) presets += (presets.empty() ? "" : "|") + n;
  return "arguments: preset=" + presets + " l1i=N l1d=N l2=N|0 (N or inf) "
    "l1i_ways=W l1d_ways=W l2_ways=W (0: fully associative) l1i_super=N l1d_super=N (0: none) "
    "l2_4k_only=on|off walk_cache=N repl=lru|plru|fifo|random seed=N asid=on|off asid_bits=N "
    "satp_flush=on|off cost_<name>=X check=all|lookup out=FILE kernel=auto|none|PATH "
    "ram_base=A ram_size=S label=TEXT samples=N mismatch_exit=CODE lru_profile=on|off alt=FILE";
}

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

}  // namespace tlbp

using namespace tlbp;

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
      std::fprintf(stderr, "tlbmodel: unknown argument '%s'\n%s\n", k.c_str(), usage().c_str());
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
  g_by_hart = vcpus > 1 && round_robin(args);
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
