#include "mm/pagetable.hpp"

Pte* PageTable::entry(VirtPageNum vpn, PageLevel target, bool create, u64& pt_pages) {
  PhysPageNum table = root_;
  for (int level = 2;; level--) {
    Pte* pte = &table_entries(table)[vpn.index(level)];
    if (level == int(target)) return pte;
    if (!pte->valid()) {
      if (!create) return nullptr;
      auto frame = frames::alloc_zeroed();
      if (!frame.ok()) return nullptr;
      pt_pages++;
      *pte = Pte::make(frame.value(), PteFlags::None);
    } else if (pte->leaf()) {
      return nullptr;  // a superpage covers this address
    }
    table = pte->ppn();
  }
}

Error PageTable::map(VirtPageNum vpn, PhysPageNum ppn, PteFlags flags, PageLevel level, u64& pt_pages) {
  Pte* pte = entry(vpn, level, true, pt_pages);
  if (!pte) return frames::free_count() ? Error::Invalid : Error::NoMemory;
  if (pte->valid()) return Error::Invalid;
  *pte = Pte::make(ppn, flags | PteFlags::A | (any(flags & PteFlags::W) ? PteFlags::D : PteFlags::None));
  return Error::None;
}

Pte* PageTable::leaf(VirtPageNum vpn, PageLevel* level_out) const {
  PhysPageNum table = root_;
  for (int level = 2; level >= 0; level--) {
    Pte* pte = &table_entries(table)[vpn.index(level)];
    if (!pte->valid()) return nullptr;
    if (pte->leaf()) {
      if (level_out) *level_out = PageLevel(level);
      return pte;
    }
    table = pte->ppn();
  }
  return nullptr;
}

bool PageTable::unmap(VirtPageNum vpn, PhysPageNum* out) {
  PageLevel level;
  Pte* pte = leaf(vpn, &level);
  if (!pte || level != PageLevel::Page4K) return false;
  if (out) *out = pte->ppn();
  pte->bits = 0;
  return true;
}

u64 PageTable::next_possibly_mapped(u64 va, u64 end) const {
  while (va < end) {
    PhysPageNum table = root_;
    int level = 2;
    for (; level > 0; level--) {
      const Pte& pte = table_entries(table)[VirtAddr(va).page().index(level)];
      if (!pte.valid() || pte.leaf()) break;
      table = pte.ppn();
    }
    if (level == 0) return va;
    u64 span = 1ul << (12 + 9 * level);
    u64 next = align_down(va, span) + span;
    if (next < va) break;  // wrapped past the top
    va = next;
  }
  return end;
}

bool PageTable::translate(VirtAddr va, PhysAddr* pa, PteFlags* flags) const {
  PageLevel level;
  Pte* pte = leaf(va.page(), &level);
  if (!pte) return false;
  u64 span = 1ul << (12 + 9 * int(level));
  *pa = PhysAddr(pte->ppn().addr().value + (va.value & (span - 1)));
  if (flags) *flags = pte->flags();
  return true;
}

u64 count_global_entries(PhysPageNum table, int level, unsigned first, unsigned last, bool descend) {
  Pte* entries = table_entries(table);
  u64 n = 0;
  for (unsigned i = first; i < last; i++) {
    if (!entries[i].valid()) continue;
    if (any(entries[i].flags() & PteFlags::G)) n++;
    if (descend && level > 0 && !entries[i].leaf()) n += count_global_entries(entries[i].ppn(), level - 1);
  }
  return n;
}

void free_table_tree(PhysPageNum table, int level, u64& pt_pages) {
  if (level > 0) {
    Pte* entries = table_entries(table);
    for (int i = 0; i < 512; i++)
      if (entries[i].valid() && !entries[i].leaf()) free_table_tree(entries[i].ppn(), level - 1, pt_pages);
  }
  frames::free(table);
  pt_pages--;
}
