// A minimal flattened-device-tree reader: walks the structure block once and picks out memory,
// timebase, bootargs, the RNG seed and whether the CPU has Zkr.
#include "dev/fdt.hpp"

namespace {

constexpr u32 FDT_MAGIC = 0xd00dfeed;
constexpr u32 BEGIN_NODE = 1, END_NODE = 2, PROP = 3, NOP = 4, END = 9;

u32 be32(const void* p) {
  auto* b = static_cast<const u8*>(p);
  return (u32(b[0]) << 24) | (u32(b[1]) << 16) | (u32(b[2]) << 8) | b[3];
}
u64 be64(const void* p) { return (u64(be32(p)) << 32) | be32(static_cast<const u8*>(p) + 4); }

bool starts_with(const char* s, const char* prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

// Does a riscv,isa string ("rv64imafdc_zicsr_zkr...") name extension `ext`?
bool isa_has(const char* isa, size_t len, const char* ext) {
  size_t n = strlen(ext);
  for (size_t i = 0; i + n <= len; i++) {
    if ((i == 0 || isa[i - 1] == '_') && strncmp(isa + i, ext, n) == 0 &&
        (i + n == len || isa[i + n] == '_' || isa[i + n] == 0))
      return true;
  }
  return false;
}

}  // namespace

bool parse_fdt(const void* fdt, BootInfo& info) {
  auto* base = static_cast<const u8*>(fdt);
  if (be32(base) != FDT_MAGIC) return false;
  const u8* structs = base + be32(base + 8);
  const char* strings = reinterpret_cast<const char*>(base + be32(base + 12));

  const char* path[8] = {};
  int depth = 0;
  const u8* p = structs;
  // The cpu node being read (its hart id is kept when the node ends, unless disabled).
  u64 cpu_id = 0;
  bool cpu_has_reg = false, cpu_okay = true;
  for (;;) {
    u32 token = be32(p);
    p += 4;
    if (token == BEGIN_NODE) {
      const char* name = reinterpret_cast<const char*>(p);
      if (depth < 8) path[depth] = name;
      depth++;
      p += align_up<size_t>(strlen(name) + 1, 4);
    } else if (token == END_NODE) {
      if (depth == 3 && depth <= 8 && strcmp(path[1], "cpus") == 0 && starts_with(path[2], "cpu@")) {
        if (cpu_has_reg && cpu_okay && info.harts_listed < BootInfo::MAX_HARTS_LISTED)
          info.hart_ids[info.harts_listed++] = cpu_id;
        cpu_has_reg = false;
        cpu_okay = true;
      }
      depth--;
    } else if (token == PROP) {
      u32 len = be32(p);
      const char* pname = strings + be32(p + 4);
      const u8* value = p + 8;
      p += 8 + align_up<u32>(len, 4);
      const char* node = depth >= 1 && depth <= 8 ? path[depth - 1] : "";
      const char* parent = depth >= 2 && depth <= 8 ? path[depth - 2] : "";
      if (depth == 2 && starts_with(node, "memory") && strcmp(pname, "reg") == 0 && len >= 16) {
        if (info.ram_size == 0) info.ram_start = PhysAddr(be64(value)), info.ram_size = be64(value + 8);
      } else if (depth == 2 && strcmp(node, "chosen") == 0) {
        if (strcmp(pname, "bootargs") == 0) {
          size_t n = min<size_t>(len, sizeof info.bootargs - 1);
          memcpy(info.bootargs, value, n);
          info.bootargs[n] = 0;
        } else if (strcmp(pname, "rng-seed") == 0 || strcmp(pname, "kaslr-seed") == 0) {
          size_t n = min<size_t>(len, sizeof info.rng_seed - info.rng_seed_len);
          memcpy(info.rng_seed + info.rng_seed_len, value, n);
          info.rng_seed_len += n;
        }
      } else if (depth == 2 && strcmp(node, "cpus") == 0 && strcmp(pname, "timebase-frequency") == 0) {
        info.timebase_hz = len == 8 ? be64(value) : be32(value);
      } else if (depth == 3 && strcmp(parent, "cpus") == 0 && starts_with(node, "cpu@")) {
        if (strcmp(pname, "reg") == 0 && (len == 4 || len == 8)) {
          cpu_id = len == 8 ? be64(value) : be32(value);
          cpu_has_reg = true;
        } else if (strcmp(pname, "status") == 0) {
          cpu_okay = strncmp(reinterpret_cast<const char*>(value), "okay", 4) == 0;
        } else if (strcmp(pname, "riscv,isa") == 0) {
          if (isa_has(reinterpret_cast<const char*>(value), len, "zkr")) info.has_zkr = true;
        } else if (strcmp(pname, "riscv,isa-extensions") == 0) {
          // A list of NUL-terminated names.
          for (u32 i = 0; i < len; i += strlen(reinterpret_cast<const char*>(value + i)) + 1)
            if (strcmp(reinterpret_cast<const char*>(value + i), "zkr") == 0) info.has_zkr = true;
        }
      }
    } else if (token == NOP) {
      continue;
    } else if (token == END) {
      break;
    } else {
      return false;
    }
  }
  return info.ram_size != 0;
}
