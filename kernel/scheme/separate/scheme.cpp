// Scheme 1: the kernel has a table of its own. A process table maps only the process's user
// pages, the trampoline (the code that switches tables) and the process's trap frame. Every
// trap writes satp twice (in and out, in the generated trampoline); a switch between kernel
// threads writes nothing, since all of them run on the kernel table. The kernel reaches user
// memory by walking the process table in software.
#include "arch/riscv.hpp"
#include "lib/log.hpp"
#include "mm/kmap.hpp"
#include "mm/tlb.hpp"
#include "proc/process.hpp"
#include "scheme/common.hpp"

extern "C" {
extern char trampoline_start[];
// The trampoline's entry and exits, in two copies when ASID=y (see trapgen.py).
extern char uservec[], userret[], userret_full[], uservec_flush[], userret_flush[], userret_full_flush[];
void switch_context(Context* from, Context* to);
[[noreturn]] void enter_fresh(Context* ctx, u64 unused);
[[noreturn]] void user_return_full(TrapFrame* tf);
void fresh_entry();
void user_trap_entry();
}

namespace {

PhysPageNum kernel_root;
u64 kernel_pt_pages = 0;
u64 kernel_satp = 0;
constexpr unsigned TOP = 511;  // the root entry that leads to TRAMPOLINE and TRAPFRAME

// Slot i's trap frame in process tables: one page per slot below TRAPFRAME, all under the
// level-0 table that maps TRAMPOLINE (the threads of a process share its table).
u64 trapframe_va(const Process& p) { return layout::TRAPFRAME - u64(p.index()) * layout::PAGE_SIZE; }
static_assert(proc::NPROC < 511, "the trap frames and the trampoline share one level-0 table");

TrapFrame* frame_of(Process& p) { return phys_to_virt<TrapFrame>(p.scheme_state.trapframe.addr()); }

// The VA at which trampoline code `sym` runs in user tables.
u64 at_trampoline(const char* sym) { return layout::TRAMPOLINE + (sym - trampoline_start); }

// The trap-frame fields the next trap exit reads: the user table's satp (acquiring an ASID of
// the current generation) and the copy of the trampoline code this core needs.
void prepare_trap_exit(Process& p) {
  TrapFrame* tf = frame_of(p);
  tf->scheme.user_satp = p.vm().satp_for_load();
  bool flush = asid::flush_on_load();
  tf->scheme.user_stvec = at_trampoline(flush ? uservec_flush : uservec);
  tf->scheme.userret = at_trampoline(flush ? userret_flush : userret);
  tf->scheme.userret_full = at_trampoline(flush ? userret_full_flush : userret_full);
}

// Copy between kernel memory and user memory of `space`, page by page through its table.
template <typename Copy>
void walk_user(AddressSpace& space, u64 va, size_t len, Copy copy) {
  PageTable pt = space.table();
  size_t done = 0;
  while (done < len) {
    PhysAddr pa;
    if (!pt.translate(VirtAddr(va + done), &pa)) panic("validated user address %p is unmapped", (void*)(va + done));
    size_t chunk = min<size_t>(len - done, layout::PAGE_SIZE - pa.page_offset());
    copy(phys_to_virt<u8>(pa), done, chunk);
    done += chunk;
  }
}

}  // namespace

namespace scheme {

void init_kernel_space() {
  auto root = frames::alloc_zeroed();
  if (!root.ok()) panic("no memory for the kernel table");
  kernel_root = root.value();
  kernel_pt_pages = 1;
  // Not global: with ASIDs, a global kernel entry would match while user code runs, which is
  // exactly what this scheme exists to prevent.
  kmap::build_window(kernel_root, layout::LINK_WINDOW, PteFlags::None, kernel_pt_pages);
  if (kmap::map_trampoline(kernel_root, trampoline_start, PteFlags::None, kernel_pt_pages) != Error::None)
    panic("cannot map the trampoline");
  kernel_satp = riscv::make_satp(kernel_root.value, 0);
  kmap::activate(kernel_satp);
}

Error attach_kernel(Process& p, AddressSpace& space) {
  u64& pt_pages = space.pt_pages_ref();
  u64 before = pt_pages;
  PageTable pt = space.table();
  // Not global, although the page is the same in every table: the tables that lead to it are
  // this process's own and are freed at destroy() after a fence scoped to its ASID, which does
  // not order global entries (privileged spec). A global entry could keep a cached walk through
  // a freed page alive. The price: with ASIDs, one TLB entry for the trampoline per ASID.
  Error e = kmap::map_trampoline(pt.root(), trampoline_start, PteFlags::None, pt_pages);
  if (e == Error::None)
    e = pt.map(VirtAddr(trapframe_va(p)).page(), p.scheme_state.trapframe, PteFlags::R | PteFlags::W,
               PageLevel::Page4K, pt_pages);
  space.pt_pages_kernel_ref() += pt_pages - before;
  return e;
}

void detach_kernel(AddressSpace& space) {
  // The level-1 and level-0 tables under root[511] are this table's own: free them here.
  Pte& top = table_entries(space.table().root())[TOP];
  if (top.valid()) {
    u64 before = space.pt_pages();
    free_table_tree(top.ppn(), 1, space.pt_pages_ref());
    space.pt_pages_kernel_ref() -= before - space.pt_pages();
    top.bits = 0;
  }
}

Error init_process(Process& p) {
  auto frame = frames::alloc_zeroed();
  if (!frame.ok()) return Error::NoMemory;
  p.scheme_state.trapframe = frame.value();
  TrapFrame* tf = frame_of(p);
  tf->scheme.kernel_satp = kernel_satp;
  tf->scheme.kernel_sp = window_va() + layout::kstack_top(p.index());
  tf->scheme.kernel_trap = reinterpret_cast<u64>(user_trap_entry);
  tf->scheme.kernel_tf = reinterpret_cast<u64>(tf);
  tf->scheme.user_tf = trapframe_va(p);
  return Error::None;
}

Error attach_thread(Process& t, AddressSpace& space) {
  u64 before = space.pt_pages();
  Error e = space.table().map(VirtAddr(trapframe_va(t)).page(), t.scheme_state.trapframe,
                              PteFlags::R | PteFlags::W, PageLevel::Page4K, space.pt_pages_ref());
  space.pt_pages_kernel_ref() += space.pt_pages() - before;
  return e;
}

void detach_thread(Process& t, AddressSpace& space) {
  PhysPageNum frame;
  // The trampoline of any hart that ran t may have the frame's translation cached: fenced there
  // before release_process frees the frame.
  if (space.table().unmap(VirtAddr(trapframe_va(t)).page(), &frame)) space.fence_page(trapframe_va(t));
}

void release_process(Process& p) {
  if (p.scheme_state.trapframe.value) frames::free(p.scheme_state.trapframe);
  p.scheme_state.trapframe = PhysPageNum(0);
}

TrapFrame* trapframe(Process& p) { return frame_of(p); }

void switch_to(Process& from, Process& to) {
  if (config::stats) to.counters.context_switches++;
  // Whatever path `to` takes back to user mode, its trap frame names a valid ASID: a rollover
  // can happen only here and in return_to_user_first, never between this and to's sret.
  prepare_trap_exit(to);
  switch_context(&from.ctx, &to.ctx);
}

void switch_to_idle(Process& from, void (*idle)(u64)) {
  // The kernel table stays loaded: scheme 1's kernel runs on it everywhere.
  static Context idle_ctx[hart::MAX];
  Context& c = idle_ctx[hart::self().logical];
  c = {};
  c.ra = reinterpret_cast<u64>(fresh_entry);
  c.sp = hart::idle_stack_top();
  c.s[1] = reinterpret_cast<u64>(idle);
  switch_context(&from.ctx, &c);
}

void prepare_fresh(Process& p, void (*fn)(u64), u64 arg) {
  p.ctx = {};
  p.ctx.ra = reinterpret_cast<u64>(fresh_entry);
  p.ctx.sp = window_va() + layout::kstack_top(p.index());
  p.ctx.s[1] = reinterpret_cast<u64>(fn);
  p.ctx.s[2] = arg;
}

void enter(Process& p) {
  prepare_trap_exit(p);  // the idle loop resumes processes here: their ASID may be stale
  enter_fresh(&p.ctx, 0);
}

void return_to_user_first(Process& p) {
  prepare_trap_exit(p);
  common::prepare_sret_to_user();
  user_return_full(frame_of(p));
}

void copy_from_user(AddressSpace& space, void* dst, u64 user_src, size_t len) {
  walk_user(space, user_src, len, [&](u8* p, size_t at, size_t n) { memcpy(static_cast<u8*>(dst) + at, p, n); });
}

void copy_to_user(AddressSpace& space, u64 user_dst, const void* src, size_t len) {
  walk_user(space, user_dst, len, [&](u8* p, size_t at, size_t n) { memcpy(p, static_cast<const u8*>(src) + at, n); });
}

// Every page of a process table is its own (the kernel runs on a table of its own).
u64 private_global_entries(const AddressSpace& space) { return count_global_entries(space.table().root(), 2); }

u64 window_base(const AddressSpace&) { return layout::LINK_WINDOW; }
u64 slot_entropy_millibits() { return 0; }

}  // namespace scheme
