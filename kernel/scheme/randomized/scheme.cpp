// Scheme 3: like scheme 2, but each address space maps the kernel window at its own random
// 2 MiB-aligned slot. The window's level-1 entries (2 MiB superpages, or pointers to the shared
// level-0 tables of the 4 KiB map and of the kernel stacks) are the same at every slot, so a
// new table gets one or two private level-1 pages holding a copy of them. Only the switch page
// sits at a fixed VA (TRAMPOLINE); it holds the code that runs across a satp write.
//
// Kernel code is position independent; the slide is read from the pc (slide.hpp).
// Shared kernel data holds no slot-dependent pointers (KPtr, indices, physical addresses), and
// the build rejects any absolute relocation into the kernel (check_relocs.py, run by scheme.mk).
#include "arch/riscv.hpp"
#include "lib/log.hpp"
#include "lib/random.hpp"
#include "mm/kmap.hpp"
#include "mm/tlb.hpp"
#include "proc/process.hpp"
#include "scheme/common.hpp"

extern "C" {
extern char trampoline_start[];
void switch_context(Context* from, Context* to, u64 satp, bool flush, hart::Hart* hart_there);
[[noreturn]] void enter_fresh(Context* ctx, u64 satp, bool flush, hart::Hart* hart_there);
[[noreturn]] void user_return_full(TrapFrame* tf);
void fresh_entry();
extern char kernelvec[];
}

namespace {

PhysPageNum master_root;
u64 master_pt_pages = 0;
constexpr u64 WINDOW_L1_ENTRIES = layout::WINDOW_SIZE / layout::MEGA_SIZE;
// Slots: every 2 MiB-aligned window start in [KERNEL_HALF, FIXED_REGION - WINDOW_SIZE].
constexpr u64 SLOTS = (layout::FIXED_REGION - layout::KERNEL_HALF - layout::WINDOW_SIZE) / layout::MEGA_SIZE + 1;

static_assert(layout::WINDOW_SIZE <= layout::GIGA_SIZE && (layout::LINK_WINDOW & (layout::GIGA_SIZE - 1)) == 0,
              "the master window must sit in one level-1 table, from its first entry");

// The template: the window's level-1 entries, the first WINDOW_L1_ENTRIES entries of the
// master table's level-1 table at LINK_WINDOW.
const Pte* window_template() {
  return table_entries(table_entries(master_root)[VirtAddr(layout::LINK_WINDOW).page().index(2)].ppn());
}

// The VA of kernel object `p` (at the running slot) as seen from the window at `window`.
template <typename T>
T* at_window(T* p, u64 window) {
  return reinterpret_cast<T*>(reinterpret_cast<u64>(p) - window_va() + window);
}

// Slots are counted in 2 MiB steps from KERNEL_HALF. A window covers WINDOW_SLOTS of them, so
// a live window starting at slot w rules out the start slots (w - WINDOW_SLOTS, w + WINDOW_SLOTS).
constexpr u64 WINDOW_SLOTS = layout::WINDOW_SIZE / layout::MEGA_SIZE;
static_assert(layout::WINDOW_SIZE % layout::MEGA_SIZE == 0, "windows are whole 2 MiB slots");

// Start slots of the other live windows (scratch for pick_free_slot: the kernel runs one thing at
// a time with interrupts off, so one static array suffices), plus one sentinel.
u64 taken_starts[2 * proc::NPROC + 1];

// The draw's work must not depend on the slots (they are the secret; `rdinstret` is readable
// in user mode and counts kernel instructions): every loop below runs a number of times that
// depends only on how many address spaces are live, and selections are arithmetic on masks,
// never branches on slot values. The empty asm keeps GCC from turning a mask back into a branch.
inline u64 mask_if(bool c) {
  u64 m = -static_cast<u64>(c);
  asm("" : "+r"(m));
  return m;
}
inline u64 select(u64 mask, u64 if_set, u64 if_clear) { return if_clear ^ ((if_set ^ if_clear) & mask); }
inline u64 min_ct(u64 a, u64 b) { return select(mask_if(a < b), a, b); }
inline u64 max_ct(u64 a, u64 b) { return select(mask_if(a < b), b, a); }

// A start slot chosen uniformly among those whose window overlaps no live window of another
// address space, or -1 when none is left. Bounded and constant for a given number n of other
// live spaces: one pass over the process table, n(n-1)/2 compare-exchanges (a sorting network
// in insertion order) and two walks over all n+1 gaps.
long pick_free_slot(const AddressSpace& self) {
  size_t n = 0;
  for (int i = 0; i < 2 * proc::NPROC; i++) {
    Process& p = proc::at(i / 2);
    const AddressSpace* other = i % 2 ? &p.retired_space : &p.owned_space;
    if (other == &self || !other->live() || other->kernel.window == 0) continue;
    taken_starts[n++] = (other->kernel.window - layout::KERNEL_HALF) / layout::MEGA_SIZE;
  }
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0; j--) {
      u64 a = taken_starts[j - 1], b = taken_starts[j];
      taken_starts[j - 1] = min_ct(a, b);
      taken_starts[j] = max_ct(a, b);
    }
  // The sentinel's forbidden interval starts at SLOTS: its gap is the one after the last window.
  taken_starts[n] = SLOTS + WINDOW_SLOTS - 1;
  // Free start slots lie in the gaps between the forbidden intervals [w - WINDOW_SLOTS + 1,
  // w + WINDOW_SLOTS - 1]. gap(i) visits gap i: [next_free, start of interval i).
  auto walk_gaps = [&](auto visit) {
    u64 next_free = 0;  // the first slot not yet known to be forbidden
    for (size_t i = 0; i <= n; i++) {
      u64 w = taken_starts[i];
      u64 lo = (w + 1 - WINDOW_SLOTS) & ~mask_if(w + 1 < WINDOW_SLOTS);  // max(w + 1 - WS, 0)
      u64 hi = min_ct(lo, SLOTS);
      u64 len = (hi - next_free) & mask_if(hi > next_free);
      visit(next_free, len);
      next_free = max_ct(next_free, w + WINDOW_SLOTS);
    }
  };
  u64 free_slots = 0;
  walk_gaps([&](u64, u64 len) { free_slots += len; });
  if (free_slots == 0) return -1;
  u64 pick = rng::below(free_slots);
  u64 chosen = 0, found = 0;
  walk_gaps([&](u64 lo, u64 len) {
    u64 here = mask_if(pick < len) & ~found;  // the draw falls in this gap (the first time)
    chosen = select(here, lo + pick, chosen);
    found |= here;
    pick -= len & ~found;
  });
  return static_cast<long>(chosen);
}

}  // namespace

namespace scheme {

void init_kernel_space() {
  auto root = frames::alloc_zeroed();
  if (!root.ok()) panic("no memory for the kernel table");
  master_root = root.value();
  master_pt_pages = 1;
  // Never global: the same VA means different things in different tables.
  kmap::build_window(master_root, layout::LINK_WINDOW, PteFlags::None, master_pt_pages);
  PteFlags global = config::asid ? PteFlags::G : PteFlags::None;  // the switch page is the same everywhere
  if (kmap::map_trampoline(master_root, trampoline_start, global, master_pt_pages) != Error::None) panic("cannot map the switch page");
  kmap::activate(riscv::make_satp(master_root.value, 0));
}

Error attach_kernel(Process& p, AddressSpace& space) {
  // A uniform slot whose window overlaps no other live address space's window, so that a
  // kernel VA of one process is never a kernel mapping in another. None left: fork and exec
  // fail with EAGAIN.
  long slot = pick_free_slot(space);
  if (slot < 0) return Error::Again;
  u64 window = layout::KERNEL_HALF + static_cast<u64>(slot) * layout::MEGA_SIZE;
  LOG_DEBUG("pid %d: kernel window at %p (gdb: kslot %p)\n", p.pid, reinterpret_cast<void*>(window),
            reinterpret_cast<void*>(window));
  Pte* root = table_entries(space.table().root());
  SpaceState& k = space.kernel;
  k.window = window;
  k.l1[0] = k.l1[1] = PhysPageNum(0);
  // Two level-1 tables for every window, the second installed only when the window crosses a
  // 1 GiB line: allocating it only then would make the work (and the memory) depend on the slot.
  for (PhysPageNum& l1 : k.l1) {
    auto page = frames::alloc_zeroed();
    if (!page.ok()) return Error::NoMemory;  // destroy() frees what was attached
    l1 = page.value();
    space.pt_pages_ref()++;
    space.pt_pages_kernel_ref()++;
  }
  // Copy the template entry by entry into whichever table holds it: the same stores for every
  // slot, the table chosen by a mask.
  VirtPageNum vpn = VirtAddr(window).page();
  unsigned first = vpn.index(2);
  u64 start = vpn.index(1);
  Pte* tables[2] = {table_entries(k.l1[0]), table_entries(k.l1[1])};
  const Pte* from = window_template();
  for (u64 e = 0; e < WINDOW_L1_ENTRIES; e++) {
    u64 at = start + e;
    u64 second = mask_if(at >= 512);
    auto* to = reinterpret_cast<Pte*>(select(second, reinterpret_cast<u64>(&tables[1][at & 511]),
                                             reinterpret_cast<u64>(&tables[0][at & 511])));
    *to = from[e];
  }
  // first + 1 <= 511: every window ends below FIXED_REGION. When it does not cross, root[first + 1]
  // keeps its value (an unused kernel-half entry, or the switch page's, written just below).
  u64 crosses = mask_if(start + WINDOW_L1_ENTRIES > 512);
  root[first] = Pte::make(k.l1[0], PteFlags::None);
  root[first + 1].bits = select(crosses, Pte::make(k.l1[1], PteFlags::None).bits, root[first + 1].bits);
  // The switch page: the master's top level-1/level-0 tables are shared by everyone.
  unsigned top = VirtAddr(layout::TRAMPOLINE).page().index(2);
  root[top] = table_entries(master_root)[top];
  return Error::None;
}

void detach_kernel(AddressSpace& space) {
  Pte* root = table_entries(space.table().root());
  SpaceState& k = space.kernel;
  if (k.window && k.l1[1].value) {  // fully attached: clear the entries attach_kernel set
    VirtPageNum vpn = VirtAddr(k.window).page();
    unsigned first = vpn.index(2);
    u64 crosses = mask_if(vpn.index(1) + WINDOW_L1_ENTRIES > 512);
    root[first].bits = 0;
    root[first + 1].bits = select(crosses, 0, root[first + 1].bits);
  }
  for (PhysPageNum& l1 : k.l1) {
    if (!l1.value) continue;
    frames::free(l1);  // its entries point at shared tables: free only the page itself
    space.pt_pages_ref()--;
    space.pt_pages_kernel_ref()--;
    l1 = PhysPageNum(0);
  }
  root[VirtAddr(layout::TRAMPOLINE).page().index(2)].bits = 0;
  k.window = 0;
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
  // to.ctx holds to's sp and ra at to's slot; hand the switch page its address there.
  switch_context(&from.ctx, at_window(&to.ctx, to.vm().kernel.window), satp, asid::flush_on_load(),
                 at_window(&hart::self(), to.vm().kernel.window));
  // Resumed at our own slot: kernel traps must find kernelvec here, not at the last slot.
  CSR_WRITE(stvec, reinterpret_cast<u64>(kernelvec));
}

void switch_to_idle(Process& from, void (*idle)(u64)) {
  // The idle context runs on the master table at the link-time window, through the switch page.
  static Context idle_ctx[hart::MAX];
  Context& c = idle_ctx[hart::self().logical];
  c = {};
  c.ra = reinterpret_cast<u64>(at_window(fresh_entry, layout::LINK_WINDOW));
  c.sp = hart::idle_stack_top() - window_va() + layout::LINK_WINDOW;
  c.s[1] = reinterpret_cast<u64>(at_window(idle, layout::LINK_WINDOW));
  if (config::stats) {
    from.counters.satp_writes++;
    if (asid::flush_on_load()) from.counters.sfence_all++;
  }
  switch_context(&from.ctx, at_window(&c, layout::LINK_WINDOW), hart::kernel_satp(), asid::flush_on_load(),
                 at_window(&hart::self(), layout::LINK_WINDOW));
  CSR_WRITE(stvec, reinterpret_cast<u64>(kernelvec));  // resumed at our own slot
}

void prepare_fresh(Process& p, void (*fn)(u64), u64 arg) {
  u64 window = p.vm().kernel.window;
  p.ctx = {};
  p.ctx.ra = reinterpret_cast<u64>(at_window(fresh_entry, window));
  p.ctx.sp = reinterpret_cast<u64>(at_window(trapframe(p), window));
  p.ctx.s[1] = reinterpret_cast<u64>(at_window(fn, window));
  p.ctx.s[2] = arg;
}

void enter(Process& p) {
  u64 satp = common::satp_for_switch(p);
  enter_fresh(at_window(&p.ctx, p.vm().kernel.window), satp, asid::flush_on_load(),
              at_window(&hart::self(), p.vm().kernel.window));
}

void return_to_user_first(Process& p) {
  common::prepare_sret_to_user();
  user_return_full(trapframe(p));
}

void copy_from_user(AddressSpace&, void* dst, u64 user_src, size_t len) {
  common::copy_with_sum(dst, reinterpret_cast<const void*>(user_src), len);
}

void copy_to_user(AddressSpace&, u64 user_dst, const void* src, size_t len) {
  common::copy_with_sum(reinterpret_cast<void*>(user_dst), src, len);
}

// The user half and the two level-1 pages are the table's own (not the level-0 tables and the
// switch page's tables they point at, which are shared).
u64 private_global_entries(const AddressSpace& space) {
  u64 n = count_global_entries(space.table().root(), 2, 0, 256);
  for (PhysPageNum l1 : space.kernel.l1)
    if (l1.value) n += count_global_entries(l1, 1, 0, 512, false);
  return n;
}

u64 window_base(const AddressSpace& space) { return space.kernel.window; }
u64 slot_entropy_millibits() { return common::log2_millibits(SLOTS); }

}  // namespace scheme
