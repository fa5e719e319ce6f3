// A process's address space: its page table, its user areas, its program break, and the
// kernel part the scheme adds (scheme::SpaceState).
#pragma once

#include "mm/asid.hpp"
#include "mm/arealist.hpp"
#include "mm/pagetable.hpp"
#include "scheme/scheme.hpp"
#include "scheme/state.hpp"
#include "uapi/syscall.h"

struct Process;

class AddressSpace {
 public:
  // A new table with the kernel part for process `p`.
  Error create(Process& p);
  // Free every user page (the table itself stays usable).
  void release_user();
  // Free everything: user pages, the kernel part, the tables, the ASID.
  void destroy();
  bool live() const { return root_.value != 0; }
  void swap(AddressSpace& o);

  // Map [start, end) as fresh zero-filled pages. All or nothing: NoMemory leaves no trace.
  Error map_anonymous(u64 start, u64 end, u8 prot, AreaKind kind);
  // munmap: remove the mmap'd pages in [start, end). Invalid if it touches another kind.
  Error unmap_range(u64 start, u64 end);
  // fork: the parent's areas, and their pages copied (FORK_COPY) or shared copy-on-write
  // (FORK_COW: the parent's writable pages become read-only too).
  Error copy_user_from(AddressSpace& parent);

  // A user page fault at va (or a kernel access about to touch va): map a zeroed page (demand
  // paging) or give the writer its own copy of a shared page (copy-on-write). Fault: no valid
  // access there (the process is killed); NoMemory: no frame for it.
  enum class Access : u8 { Read, Write, Execute };
  Error resolve_fault(u64 va, Access access);
  // Before the kernel copies to or from the validated range [va, va+len): make every page
  // present and, for a write, private to this address space.
  Error prepare_kernel_access(u64 va, u64 len, bool write);
  // sbrk
  void set_break_start(u64 brk) { brk_start_ = brk_ = brk; }
  Result<u64> grow_break(long increment);

  // Is [va, va+len) inside user areas that all allow `prot`?
  bool range_ok(u64 va, u64 len, u8 prot) const;
  bool overlaps(u64 start, u64 end) const;
  // A free range of `len` bytes for mmap(0, ...), or 0.
  u64 find_free(u64 len) const;

  PageTable table() const { return PageTable(root_); }
  // The satp value that loads this table, acquiring an ASID of the current generation first:
  // call it only right before the satp write (or, scheme 1, before the trap return) that loads it.
  u64 satp_for_load();
  // Is this table the one in satp now?
  bool loaded() const;
  const asid::Tag& asid_tag() const { return asid_; }
  u64 pt_pages() const { return pt_pages_; }
  u64& pt_pages_ref() { return pt_pages_; }
  u64& pt_pages_kernel_ref() { return pt_pages_kernel_; }
  u64 pt_pages_kernel() const { return pt_pages_kernel_; }
  const AreaList& areas() const { return areas_; }

  // Flush `va` from every TLB that may hold this table's entries (here and on other harts).
  void fence_page(u64 va);

  scheme::SpaceState kernel{};  // owned by the scheme

 private:
  Error insert_area(const Area& a);
  // Remove the leaves in [start, end), flush them from the TLB, then free their frames.
  void unmap_pages(u64 start, u64 end);
  const Area* area_at(u64 va) const;
  // May the TLB hold entries of this table (it is loaded, or holds an ASID)?
  bool may_be_cached() const;
  // Other harts whose TLBs may hold this table's entries (tlb::shootdown drops this hart).
  u32 remote_harts() const;

  PhysPageNum root_;
  asid::Tag asid_;
  // Logical harts where this table was loaded with its ASID (Linux's mm_cpumask): with ASIDs
  // their TLBs may still hold its entries, so changes are fenced there too.
  u32 ran_on_ = 0;
  u64 pt_pages_ = 0;         // all page-table pages of this table, the root included
  u64 pt_pages_kernel_ = 0;  // of which hold only kernel mappings
  AreaList areas_;           // sorted by start, non-overlapping
  u64 brk_start_ = 0, brk_ = 0;
};

PteFlags user_pte_flags(u8 prot);
