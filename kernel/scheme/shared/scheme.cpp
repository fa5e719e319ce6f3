// Scheme 2: one table per process holding its user mappings and the kernel window, at the same
// VA in every process (the link-time VA, or with KASLR_BOOT one slot drawn at boot). The kernel half of each root points at the master table's level-1
// tables, so all processes share the kernel's page-table pages (and, with ASIDs, its TLB
// entries: they are global). Traps never write satp; a switch to another process writes it once.
#include "arch/riscv.hpp"
#include "lib/log.hpp"
#include "lib/random.hpp"
#include "mm/kmap.hpp"
#include "mm/tlb.hpp"
#include "proc/process.hpp"
#include "scheme/common.hpp"

extern "C" {
void switch_context(Context* from, Context* to, u64 satp, bool flush, hart::Hart* hart_there);
[[noreturn]] void enter_fresh(Context* ctx, u64 satp, bool flush, hart::Hart* hart_there);
[[noreturn]] void user_return_full(TrapFrame* tf);
void fresh_entry();
}

namespace {
PhysPageNum master_root;
u64 master_pt_pages = 0;
constexpr unsigned KERNEL_HALF_FIRST = 256;  // root entries 256..511 are the kernel half

// KASLR_BOOT: the master table maps the window at the link-time VA (where the boot code runs)
// and at the slot drawn at boot; process tables copy the kernel half without the first.
u64 boot_window = layout::LINK_WINDOW;
constexpr unsigned LINK_ROOT_INDEX = (layout::LINK_WINDOW >> 30) & 511;
constexpr u64 WINDOW_L1_ENTRIES = layout::WINDOW_SIZE / layout::MEGA_SIZE;
// Slots: 2 MiB-aligned starts from the second 1 GiB of the kernel half (the first holds the
// link-time window) up to FIXED_REGION - WINDOW_SIZE.
constexpr u64 FIRST_SLOT_VA = layout::KERNEL_HALF + layout::GIGA_SIZE;
constexpr u64 SLOTS = (layout::FIXED_REGION - FIRST_SLOT_VA - layout::WINDOW_SIZE) / layout::MEGA_SIZE + 1;
static_assert(!config::kaslr_boot || layout::WINDOW_SIZE <= layout::GIGA_SIZE,
              "KASLR_BOOT: the window must sit in the one level-1 table every slot copies");

// The VA of kernel object `p` in the window process tables map (p at the running slide).
template <typename T>
T* at_window(T* p) {
  if constexpr (!config::kaslr_boot) return p;
  return reinterpret_cast<T*>(reinterpret_cast<u64>(p) - window_va() + boot_window);
}

// KASLR_BOOT: draw the slot and map the window there too, in level-1 tables of its own that
// copy the link-time window's entries (the level-0 tables under them are shared). Runs once, at
// boot, before any user program exists: no one can time the draw.
void place_boot_window() {
  u64 window = FIRST_SLOT_VA + rng::below(SLOTS) * layout::MEGA_SIZE;
  Pte* root = table_entries(master_root);
  const Pte* from = table_entries(root[LINK_ROOT_INDEX].ppn());
  for (u64 done = 0; done < WINDOW_L1_ENTRIES;) {
    VirtPageNum vpn = VirtAddr(window + done * layout::MEGA_SIZE).page();
    auto l1 = frames::alloc_zeroed();
    if (!l1.ok()) panic("no memory for the kernel's boot slot");
    root[vpn.index(2)] = Pte::make(l1.value(), PteFlags::None);
    master_pt_pages++;
    u64 n = min<u64>(WINDOW_L1_ENTRIES - done, 512 - vpn.index(1));
    Pte* to = &table_entries(l1.value())[vpn.index(1)];
    for (u64 i = 0; i < n; i++) {
      Pte e = from[done + i];
      // The slot's own 2 MiB leaves may be global: no other table maps anything else there.
      if (config::asid && e.valid() && e.leaf()) e.bits |= u64(PteFlags::G);
      to[i] = e;
    }
    done += n;
  }
  boot_window = window;
  LOG_DEBUG("kernel window at %p for every process (KASLR_BOOT)\n", reinterpret_cast<void*>(window));
}
}  // namespace

namespace scheme {

void init_kernel_space() {
  auto root = frames::alloc_zeroed();
  if (!root.ok()) panic("no memory for the kernel table");
  master_root = root.value();
  master_pt_pages = 1;
  // With KASLR_BOOT the link-time mapping is never global: process tables leave it out, and a
  // global entry would outlive the boot in every address space's TLB.
  PteFlags global = config::asid && !config::kaslr_boot ? PteFlags::G : PteFlags::None;
  kmap::build_window(master_root, layout::LINK_WINDOW, global, master_pt_pages);
  if constexpr (config::kaslr_boot) place_boot_window();
  kmap::activate(riscv::make_satp(master_root.value, 0));
}

Error attach_kernel(Process&, AddressSpace& space) {
  Pte* from = table_entries(master_root);
  Pte* to = table_entries(space.table().root());
  for (unsigned i = KERNEL_HALF_FIRST; i < 512; i++) to[i] = from[i];
  if constexpr (config::kaslr_boot) to[LINK_ROOT_INDEX].bits = 0;  // the boot code's mapping stays the master's
  return Error::None;
}

void detach_kernel(AddressSpace& space) {
  Pte* entries = table_entries(space.table().root());
  for (unsigned i = KERNEL_HALF_FIRST; i < 512; i++) entries[i].bits = 0;
}

Error init_process(Process&) { return Error::None; }
// A thread's trap frame is on its own kernel stack, mapped in every window.
Error attach_thread(Process&, AddressSpace&) { return Error::None; }
void detach_thread(Process&, AddressSpace&) {}
void release_process(Process&) {}

TrapFrame* trapframe(Process& p) { return common::trapframe_on_kernel_stack(p); }

void switch_to(Process& from, Process& to) {
  if (config::stats) to.counters.context_switches++;
  u64 satp = common::satp_for_switch(to);
  switch_context(&from.ctx, &to.ctx, satp, asid::flush_on_load(), at_window(&hart::self()));
}

void switch_to_idle(Process& from, void (*idle)(u64)) {
  // The idle context runs on the kernel table at the link-time window (the master maps it).
  static Context idle_ctx[hart::MAX];
  auto link = [](auto* p) { return reinterpret_cast<u64>(p) - window_va() + layout::LINK_WINDOW; };
  Context& c = idle_ctx[hart::self().logical];
  c = {};
  c.ra = link(fresh_entry);
  c.sp = hart::idle_stack_top() - window_va() + layout::LINK_WINDOW;
  c.s[1] = link(idle);
  if (config::stats) {
    from.counters.satp_writes++;
    if (asid::flush_on_load()) from.counters.sfence_all++;
  }
  switch_context(&from.ctx, reinterpret_cast<Context*>(link(&c)), hart::kernel_satp(), asid::flush_on_load(),
                 reinterpret_cast<hart::Hart*>(link(&hart::self())));
}

void prepare_fresh(Process& p, void (*fn)(u64), u64 arg) {
  p.ctx = {};
  p.ctx.ra = reinterpret_cast<u64>(at_window(fresh_entry));
  p.ctx.sp = reinterpret_cast<u64>(at_window(trapframe(p)));
  p.ctx.s[1] = reinterpret_cast<u64>(at_window(fn));
  p.ctx.s[2] = arg;
}

void enter(Process& p) {
  u64 satp = common::satp_for_switch(p);
  // KASLR_BOOT: the first entry leaves the boot code's link-time window, which p's table does not
  // map; run the switch at the slot (the master maps both), so the instruction after the satp
  // write is mapped. Later entries already run at the slot.
  at_window(enter_fresh)(at_window(&p.ctx), satp, asid::flush_on_load(), at_window(&hart::self()));
  __builtin_unreachable();  // enter_fresh never returns (the attribute does not survive the cast)
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

u64 window_base(const AddressSpace&) { return boot_window; }
u64 slot_entropy_millibits() { return config::kaslr_boot ? common::log2_millibits(SLOTS) : 0; }

}  // namespace scheme
