// User address spaces. Anonymous memory is populated eagerly or on demand (CONFIG_MEMORY_*),
// fork copies pages or shares them copy-on-write (CONFIG_FORK_*). The kernel never faults on
// user memory: before it copies, prepare_kernel_access makes the range present and private.
//
// TLB rules kept here: a page whose PTE becomes valid is fenced if the table may have cached
// entries (map_anonymous); a frame whose PTE is cleared returns to the allocator only after its
// entries are flushed (UnmappedFrames); a table's ASID is flushed before its tables are freed.
#include "mm/addrspace.hpp"

#include "arch/hart.hpp"

#include "arch/riscv.hpp"
#include "lib/log.hpp"
#include "lib/counters.hpp"
#include "mm/tlb.hpp"

using namespace uapi;

PteFlags user_pte_flags(u8 prot) {
  PteFlags f = PteFlags::U;
  if (prot & PROT_READ) f = f | PteFlags::R;
  if (prot & PROT_WRITE) f = f | PteFlags::W;
  if (prot & PROT_EXEC) f = f | PteFlags::X;
  return f;
}

Error AddressSpace::create(Process& p) {
  auto root = frames::alloc_zeroed();
  if (!root.ok()) return Error::NoMemory;
  root_ = root.value();
  pt_pages_ = 1;
  pt_pages_kernel_ = 0;
  asid_ = {};  // acquired when first loaded
  Error e = scheme::attach_kernel(p, *this);
  if (e != Error::None) destroy();
  return e;
}

u64 AddressSpace::satp_for_load() {
  u16 a = asid::acquire(asid_);
  hart::Hart& me = hart::self();
  me.active_asid = a;
  ran_on_ |= 1u << me.logical;
  me.active_root = root_.value;
  return riscv::make_satp(root_.value, a);
}

bool AddressSpace::loaded() const {
  return live() && (CSR_READ(satp) & riscv::SATP_PPN_MASK) == root_.value;
}

void AddressSpace::swap(AddressSpace& o) {
  auto swap_value = [](auto& a, auto& b) {
    auto t = a;
    a = b, b = t;
  };
  swap_value(root_, o.root_);
  swap_value(asid_, o.asid_);
  swap_value(ran_on_, o.ran_on_);
  swap_value(pt_pages_, o.pt_pages_);
  swap_value(pt_pages_kernel_, o.pt_pages_kernel_);
  swap_value(brk_start_, o.brk_start_);
  swap_value(brk_, o.brk_);
  swap_value(kernel, o.kernel);
  areas_.swap(o.areas_);
}

namespace {

constexpr u64 MEGA_SPAN = layout::PAGE_SIZE << 9;  // what one last-level table maps (2 MiB)

// Frames unmapped from a table go back to the allocator only after the TLB entries that could
// still translate to them are flushed: collected here, flushed and freed in batches.
class UnmappedFrames {
 public:
  // need_flush: may the TLB hold entries of this table (is it loaded, or does it hold an ASID)?
  UnmappedFrames(bool need_flush, u16 asid, u32 harts) : need_flush_(need_flush), asid_(asid), harts_(harts) {}
  UnmappedFrames(const UnmappedFrames&) = delete;
  UnmappedFrames& operator=(const UnmappedFrames&) = delete;
  ~UnmappedFrames() { flush_and_free(); }

  void add(u64 va, PhysPageNum ppn) {
    if (n_ == CAPACITY) flush_and_free();
    if (n_ == 0) lo_ = va;
    hi_ = va + layout::PAGE_SIZE;
    ppns_[n_++] = ppn;
  }
  void flush_and_free() {
    if (n_ == 0) return;
    if (need_flush_) {
      tlb::flush_range(lo_, hi_, asid_);
      tlb::shootdown(harts_, lo_, hi_, asid_);
    }
    for (size_t i = 0; i < n_; i++) frames::release(ppns_[i]);
    n_ = 0;
  }

 private:
  static constexpr size_t CAPACITY = 64;
  bool need_flush_;
  u16 asid_;
  u32 harts_;  // other harts that may cache the table (with ASIDs)
  size_t n_ = 0;
  u64 lo_ = 0, hi_ = 0;  // the pages added since the last flush lie in [lo_, hi_)
  PhysPageNum ppns_[CAPACITY];
};

}  // namespace

void AddressSpace::unmap_pages(u64 start, u64 end) {
  PageTable pt(root_);
  // A table that is neither loaded nor holding an ASID has nothing in the TLB: without ASIDs
  // its last satp write away flushed everything, with ASIDs a rollover or asid::release did.
  UnmappedFrames unmapped(may_be_cached(), asid_.value, remote_harts());
  // Skip absent subtrees: munmap or exit of a huge untouched (demand-paged) area is a few
  // steps, not one per page.
  for (u64 va = pt.next_possibly_mapped(start, end); va < end;) {
    PhysPageNum ppn;
    if (pt.unmap(VirtAddr(va).page(), &ppn)) unmapped.add(va, ppn);
    va += layout::PAGE_SIZE;
    if ((va & (MEGA_SPAN - 1)) == 0) va = pt.next_possibly_mapped(va, end);
  }
}

void AddressSpace::release_user() {
  for (const Area& a : areas_) unmap_pages(a.start, a.end);
  areas_.clear();
  brk_start_ = brk_ = 0;
}

void AddressSpace::destroy() {
  if (!live()) return;
  if (loaded()) panic("destroying the address space in satp");
  // One flush of the whole ASID (leaves and cached walks) before any frame or table is freed,
  // here and on every hart where the table ran.
  if (asid::holds(asid_)) tlb::shootdown(ran_on_, 0, 0, asid_.value);
  asid::release(asid_);
  ran_on_ = 0;
  release_user();
  scheme::detach_kernel(*this);
  // What is left below the root are this table's own (user-half) tables.
  free_table_tree(root_, 2, pt_pages_);
  root_ = PhysPageNum(0);
  pt_pages_kernel_ = 0;
}

Error AddressSpace::insert_area(const Area& a) { return areas_.insert(a) ? Error::None : Error::NoMemory; }

bool AddressSpace::may_be_cached() const { return loaded() || asid::holds(asid_) || remote_harts() != 0; }

u32 AddressSpace::remote_harts() const {
  if (asid_.value) return ran_on_;
  // Without an ASID a hart drops the table's entries when it loads another table (the full
  // flush of flush_on_load), so only harts that have it loaded now may hold them: its threads
  // running there.
  // This hart is left out: its own entries are loaded() (schemes 2, 3), or were flushed at
  // its trap entry (scheme 1).
  u32 mask = 0;
  int me = hart::self().logical;
  if (live())
    for (int h = 0; h < hart::online(); h++)
      if (h != me && hart::harts[h].active_root == root_.value) mask |= 1u << h;
  return mask;
}

void AddressSpace::fence_page(u64 va) {
  if (may_be_cached()) {
    tlb::flush_page(va, asid_.value);
    tlb::shootdown(remote_harts(), va, va + layout::PAGE_SIZE, asid_.value);
  }
}

const Area* AddressSpace::area_at(u64 va) const {
  for (const Area& a : areas_)
    if (a.start <= va && va < a.end) return &a;
  return nullptr;
}

Error AddressSpace::map_anonymous(u64 start, u64 end, u8 prot, AreaKind kind) {
  if (start >= end) return Error::None;
  if (overlaps(start, end)) return Error::Invalid;
  // Reserve the bookkeeping first so a failure later needs no undo of the vector.
  if (insert_area({start, end, prot, kind}) != Error::None) return Error::NoMemory;
  // Demand paging: the area is all there is until the first touch (the image is loaded whole).
  if (config::memory_demand && kind != AreaKind::Image) return Error::None;
  PageTable pt(root_);
  PteFlags flags = user_pte_flags(prot);
  for (u64 va = start; va < end; va += layout::PAGE_SIZE) {
    Frame frame = Frame::alloc();
    Error e = frame.valid() ? pt.map(VirtAddr(va).page(), frame.ppn(), flags, PageLevel::Page4K, pt_pages_)
                            : Error::NoMemory;
    if (e != Error::None) {
      unmap_pages(start, va);
      areas_.erase_starting_at(start);
      return e;
    }
    frame.release();  // the page table owns it now
  }
  // Without Svvptc a hart may have cached the invalid entries these pages replaced. A table
  // that is loaded or holds an ASID gets its new range fenced; any other table cannot have
  // such entries (no ASID yet: its first one is fresh; ASIDs off: its next load flushes all).
  if (may_be_cached()) {
    tlb::flush_range(start, end, asid_.value);
    tlb::shootdown(remote_harts(), start, end, asid_.value);
  }
  return Error::None;
}

Error AddressSpace::resolve_fault(u64 va, Access access) {
  const Area* a = area_at(va);
  u8 need = access == Access::Read ? PROT_READ : access == Access::Write ? PROT_WRITE : PROT_EXEC;
  if (!a || !(a->prot & need)) return Error::Fault;
  u64 page = align_down(va, layout::PAGE_SIZE);
  PageTable pt(root_);
  VirtPageNum vpn = VirtAddr(page).page();
  Pte* pte = pt.leaf(vpn);
  if (!pte) {
    // With eager population every page of an area is mapped: a hole is not ours to fill.
    if (!config::memory_demand) return Error::Fault;
    Frame frame = Frame::alloc();
    if (!frame.valid()) return Error::NoMemory;
    Error e = pt.map(vpn, frame.ppn(), user_pte_flags(a->prot), PageLevel::Page4K, pt_pages_);
    if (e != Error::None) return Error::NoMemory;
    frame.release();
    fence_page(page);  // the hart may hold the invalid entry this page replaced
    if (config::stats) stats::counters_now().page_faults++;
    return Error::None;
  }
  if (access == Access::Write && any(pte->flags() & PteFlags::Cow)) {
    PhysPageNum old = pte->ppn();
    PteFlags flags = user_pte_flags(a->prot) | PteFlags::A | PteFlags::D;
    if (frames::shared(old)) {
      Frame copy = Frame::alloc();
      if (!copy.valid()) return Error::NoMemory;
      memcpy(copy.as<u8>(), phys_to_virt(old.addr()), layout::PAGE_SIZE);
      *pte = Pte::make(copy.release(), flags);
      fence_page(page);
      frames::release(old);  // after the fence, as for every frame whose PTE changed
    } else {
      *pte = Pte::make(old, flags);  // the last sharer: the page is ours again
      fence_page(page);
    }
    if (config::stats) stats::counters_now().cow_faults++;
    return Error::None;
  }
  // Present and permitted: not a stale invalid entry either (every invalid-to-valid change is
  // fenced), so a genuine fault.
  return Error::Fault;
}

Error AddressSpace::prepare_kernel_access(u64 va, u64 len, bool write) {
  if (!config::memory_demand && !config::fork_cow) return Error::None;  // always present and private
  PageTable pt(root_);
  for (u64 page = align_down(va, layout::PAGE_SIZE); page < va + len; page += layout::PAGE_SIZE) {
    Pte* pte = pt.leaf(VirtAddr(page).page());
    if (pte && !(write && any(pte->flags() & PteFlags::Cow))) continue;
    Error e = resolve_fault(page, write ? Access::Write : Access::Read);
    if (e != Error::None) return e;
  }
  return Error::None;
}

bool AddressSpace::overlaps(u64 start, u64 end) const {
  for (const Area& a : areas_)
    if (a.start < end && start < a.end) return true;
  return false;
}

bool AddressSpace::range_ok(u64 va, u64 len, u8 prot) const {
  if (len == 0) return true;
  u64 end = va + len;
  if (end < va || end > layout::USER_TOP) return false;
  // Areas are sorted: walk them, requiring each next piece to continue where the last ended.
  u64 at = va;
  for (const Area& a : areas_) {
    if (a.end <= at) continue;
    if (a.start > at || (a.prot & prot) != prot) return false;
    at = a.end;
    if (at >= end) return true;
  }
  return false;
}

u64 AddressSpace::find_free(u64 len) const {
  u64 at = layout::MMAP_BASE;
  for (const Area& a : areas_) {
    if (a.end <= at) continue;
    if (a.start >= at + len) break;
    at = a.end;
  }
  return at + len <= layout::USER_STACK_TOP - layout::USER_STACK_SIZE - layout::PAGE_SIZE ? at : 0;
}

Error AddressSpace::unmap_range(u64 start, u64 end) {
  // Check first, change after: a failing munmap changes nothing.
  bool splits = false;
  for (const Area& a : areas_) {
    if (a.end <= start || a.start >= end) continue;
    if (a.kind != AreaKind::Mmap) return Error::Invalid;
    splits |= a.start < start && a.end > end;
  }
  // A split (at most one: areas do not overlap) needs one more node; get it before changing.
  if (splits && !areas_.reserve_one()) return Error::NoMemory;
  // Each pass leaves the area it handles outside [start, end), so this ends.
  while (Area* a = areas_.first_overlapping(start, end)) {
    u64 lo = max(a->start, start), hi = min(a->end, end);
    unmap_pages(lo, hi);
    if (a->start < lo && a->end > hi) {
      Area upper = {hi, a->end, a->prot, a->kind};
      a->end = lo;
      (void)areas_.insert(upper);  // cannot fail: reserved above
    } else if (a->start < lo) {
      a->end = lo;
    } else if (a->end > hi) {
      a->start = hi;  // still before the next area: the order holds
    } else {
      areas_.erase_starting_at(a->start);
    }
  }
  return Error::None;
}

Error AddressSpace::copy_user_from(AddressSpace& parent) {
  PageTable src(parent.root_), dst(root_);
  bool parent_changed = false;
  Error result = Error::None;
  for (const Area& a : parent.areas_) {
    if (insert_area(a) != Error::None) {
      result = Error::NoMemory;
      break;
    }
    PteFlags flags = user_pte_flags(a.prot);
    for (u64 va = src.next_possibly_mapped(a.start, a.end); va < a.end && result == Error::None;
         va += layout::PAGE_SIZE) {
      // Demand paging: skip the subtrees nothing touched yet (a huge untouched area is cheap).
      if ((va & (MEGA_SPAN - 1)) == 0 && (va = src.next_possibly_mapped(va, a.end)) >= a.end) break;
      Pte* pte = src.leaf(VirtAddr(va).page());
      if (!pte) continue;  // demand paging: not touched yet, nothing to copy
      VirtPageNum vpn = VirtAddr(va).page();
      if (config::fork_cow) {
        // Share the frame; a writable page becomes read-only + Cow in both tables.
        PteFlags shared_flags = flags;
        if (a.prot & PROT_WRITE) {
          shared_flags = PteFlags(u64(flags) & ~u64(PteFlags::W)) | PteFlags::Cow;
          if (any(pte->flags() & PteFlags::W)) {
            pte->bits = (pte->bits & ~u64(PteFlags::W)) | u64(PteFlags::Cow);
            parent_changed = true;
          }
        }
        if (dst.map(vpn, pte->ppn(), shared_flags, PageLevel::Page4K, pt_pages_) != Error::None) {
          result = Error::NoMemory;
          break;
        }
        frames::share(pte->ppn());
      } else {
        Frame frame = Frame::alloc();
        if (!frame.valid() || dst.map(vpn, frame.ppn(), flags, PageLevel::Page4K, pt_pages_) != Error::None) {
          result = Error::NoMemory;
          break;
        }
        memcpy(frame.as<u8>(), phys_to_virt(pte->ppn().addr()), layout::PAGE_SIZE);
        frame.release();
      }
    }
    if (result != Error::None) break;
  }
  // The parent lost write access to pages it may have cached writable: one flush of its ASID
  // (or of everything without ASIDs) before it runs again. Also on failure: the pages stay
  // read-only + Cow, which the next write resolves.
  if (parent_changed && parent.may_be_cached()) {
    if (parent.asid_.value) {
      tlb::flush_asid(parent.asid_.value);
      tlb::shootdown(parent.remote_harts(), 0, 0, parent.asid_.value);
    } else {
      tlb::flush_all();
      tlb::shootdown(parent.remote_harts(), 0, 0, 0);  // its threads running on other harts
    }
  }
  if (result != Error::None) return result;
  brk_start_ = parent.brk_start_;
  brk_ = parent.brk_;
  return Error::None;
}

Result<u64> AddressSpace::grow_break(long increment) {
  u64 old = brk_;
  u64 want = old + increment;
  if (increment < 0 && (want > old || want < brk_start_)) return Error::Invalid;
  if (increment > 0 && (want < old || want > layout::MMAP_BASE)) return Error::NoMemory;
  u64 old_top = align_up(old, layout::PAGE_SIZE), new_top = align_up(want, layout::PAGE_SIZE);
  if (new_top > old_top) {
    if (overlaps(old_top, new_top)) return Error::NoMemory;
    // Extend the heap area, or create it.
    Error e = map_anonymous(old_top, new_top, PROT_READ | PROT_WRITE, AreaKind::Heap);
    if (e != Error::None) return e == Error::Invalid ? Error::NoMemory : e;
    // Merge with the previous heap piece so the heap stays one area.
    for (Area& a : areas_) {
      if (a.kind == AreaKind::Heap && a.end == old_top) {
        a.end = new_top;
        areas_.erase_starting_at(old_top);
        break;
      }
    }
  } else if (new_top < old_top) {
    unmap_pages(new_top, old_top);
    for (Area& a : areas_) {
      if (a.kind != AreaKind::Heap) continue;
      if (new_top <= a.start) areas_.erase_starting_at(a.start);
      else a.end = new_top;
      break;
    }
  }
  brk_ = want;
  return old;
}
