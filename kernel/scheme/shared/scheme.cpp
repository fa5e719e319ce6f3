// Scheme 2: one table per process holding its user mappings and the kernel window, at the same
// VA in every process. The kernel half of each root points at the master table's level-1
// tables, so all processes share the kernel's page-table pages (and, with ASIDs, its TLB
// entries: they are global). Traps never write satp; a switch to another process writes it once.
#include "arch/riscv.hpp"
#include "lib/log.hpp"
#include "mm/kmap.hpp"
#include "mm/tlb.hpp"
#include "proc/process.hpp"
#include "scheme/common.hpp"

extern "C" {
void switch_context(Context* from, Context* to, u64 satp, bool flush);
[[noreturn]] void enter_fresh(Context* ctx, u64 satp, bool flush);
[[noreturn]] void user_return_full(TrapFrame* tf);
void fresh_entry();
}

namespace {
PhysPageNum master_root;
u64 master_pt_pages = 0;
constexpr unsigned KERNEL_HALF_FIRST = 256;  // root entries 256..511 are the kernel half
}  // namespace

namespace scheme {

void init_kernel_space() {
  auto root = frames::alloc_zeroed();
  if (!root.ok()) panic("no memory for the kernel table");
  master_root = root.value();
  master_pt_pages = 1;
  PteFlags global = config::asid ? PteFlags::G : PteFlags::None;
  kmap::build_window(master_root, layout::LINK_WINDOW, global, master_pt_pages);
  kmap::activate(riscv::make_satp(master_root.value, 0));
}

Error attach_kernel(Process&, AddressSpace& space) {
  Pte* from = table_entries(master_root);
  Pte* to = table_entries(space.table().root());
  for (unsigned i = KERNEL_HALF_FIRST; i < 512; i++) to[i] = from[i];
  return Error::None;
}

void detach_kernel(AddressSpace& space) {
  Pte* entries = table_entries(space.table().root());
  for (unsigned i = KERNEL_HALF_FIRST; i < 512; i++) entries[i].bits = 0;
}

Error init_process(Process&) { return Error::None; }
void release_process(Process&) {}

TrapFrame* trapframe(Process& p) { return common::trapframe_on_kernel_stack(p); }

void switch_to(Process& from, Process& to) {
  if (config::stats) to.counters.context_switches++;
  u64 satp = common::satp_for_switch(to);
  switch_context(&from.ctx, &to.ctx, satp, asid::flush_on_load());
}

void prepare_fresh(Process& p, void (*fn)(u64), u64 arg) {
  p.ctx = {};
  p.ctx.ra = reinterpret_cast<u64>(fresh_entry);
  p.ctx.sp = reinterpret_cast<u64>(trapframe(p));
  p.ctx.s[1] = reinterpret_cast<u64>(fn);
  p.ctx.s[2] = arg;
}

void enter(Process& p) {
  u64 satp = common::satp_for_switch(p);
  enter_fresh(&p.ctx, satp, asid::flush_on_load());
}

void return_to_user_first(Process& p) {
  common::prepare_sret_to_user();
  user_return_full(trapframe(p));
}

// The user's pages are mapped in the running table: copy directly, with SUM set only for the copy.
void copy_from_user(AddressSpace&, void* dst, u64 user_src, size_t len) {
  common::copy_with_sum(dst, reinterpret_cast<const void*>(user_src), len);
}

void copy_to_user(AddressSpace&, u64 user_dst, const void* src, size_t len) {
  common::copy_with_sum(reinterpret_cast<void*>(user_dst), src, len);
}

// The user half is the table's own; the kernel half points at the master's tables.
u64 private_global_entries(const AddressSpace& space) {
  return count_global_entries(space.table().root(), 2, 0, KERNEL_HALF_FIRST);
}

u64 window_base(const AddressSpace&) { return layout::LINK_WINDOW; }
u64 slot_entropy_millibits() { return 0; }

}  // namespace scheme
