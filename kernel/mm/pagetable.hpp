// Sv39 page tables: entries, and PageTable, a view on a root table that maps and unmaps.
#pragma once

#include "mm/frame.hpp"

enum class PteFlags : u64 {
  None = 0,
  V = 1 << 0,
  R = 1 << 1,
  W = 1 << 2,
  X = 1 << 3,
  U = 1 << 4,
  G = 1 << 5,
  A = 1 << 6,
  D = 1 << 7,
  Cow = 1 << 8,  // software (RSW) bit: a read-only mapping of a shared frame, copy on write
};
constexpr PteFlags operator|(PteFlags a, PteFlags b) { return PteFlags(u64(a) | u64(b)); }
constexpr PteFlags operator&(PteFlags a, PteFlags b) { return PteFlags(u64(a) & u64(b)); }
constexpr bool any(PteFlags f) { return u64(f) != 0; }

struct Pte {
  u64 bits;
  bool valid() const { return bits & u64(PteFlags::V); }
  bool leaf() const { return bits & (u64(PteFlags::R) | u64(PteFlags::W) | u64(PteFlags::X)); }
  PteFlags flags() const { return PteFlags(bits & 0x3ff); }
  PhysPageNum ppn() const { return PhysPageNum((bits >> 10) & ((1ul << 44) - 1)); }
  static Pte make(PhysPageNum ppn, PteFlags flags) { return {(ppn.value << 10) | u64(flags | PteFlags::V)}; }
};

// Page sizes by the level of their leaf entry.
enum class PageLevel : int { Page4K = 0, Mega2M = 1, Giga1G = 2 };

inline Pte* table_entries(PhysPageNum table) { return phys_to_virt<Pte>(table.addr()); }

class PageTable {
 public:
  explicit PageTable(PhysPageNum root) : root_(root) {}
  PhysPageNum root() const { return root_; }

  // Map one page at `level`. Intermediate tables come from the frame allocator and are counted
  // in `pt_pages`. Fails with Invalid if something is mapped there, NoMemory if out of frames.
  Error map(VirtPageNum vpn, PhysPageNum ppn, PteFlags flags, PageLevel level, u64& pt_pages);
  // Remove the 4 KiB leaf at vpn; returns false if none. `out` receives the frame it mapped.
  bool unmap(VirtPageNum vpn, PhysPageNum* out);
  // The leaf entry that maps vpn (and its level), or nullptr.
  Pte* leaf(VirtPageNum vpn, PageLevel* level = nullptr) const;
  // The entry for vpn at `level`, creating intermediate tables on the way if asked.
  Pte* entry(VirtPageNum vpn, PageLevel level, bool create, u64& pt_pages);
  // The first page-aligned va' in [va, end) whose last-level table exists (a 4 KiB leaf may be
  // there), or end: absent 1 GiB and 2 MiB subtrees are skipped in one step each, so a walk of
  // a huge untouched area costs one step per absent subtree, not one per page.
  u64 next_possibly_mapped(u64 va, u64 end) const;
  // Translate a VA; false when unmapped.
  bool translate(VirtAddr va, PhysAddr* pa, PteFlags* flags = nullptr) const;

 private:
  PhysPageNum root_;
};

// Valid global (G) entries in `table` at `level`, entries [first, last), and in the tables below
// them when `descend` (diagnostics: a table freed after an ASID-scoped fence must hold none).
u64 count_global_entries(PhysPageNum table, int level, unsigned first = 0, unsigned last = 512, bool descend = true);

// Free every table page below `table` at `level` (not the leaves' frames), counting them.
void free_table_tree(PhysPageNum table, int level, u64& pt_pages);
