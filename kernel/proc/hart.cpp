// Hart bring-up: the boot hart starts the others through the SBI HSM extension.
#include "arch/hart.hpp"

#include "arch/riscv.hpp"
#include "lib/log.hpp"
#include "mm/asid.hpp"
#include "proc/process.hpp"

extern "C" char secondary_start[], kernelvec[];

namespace hart {

Hart harts[MAX];

namespace {

int harts_online = 1;
u64 kernel_table_satp = 0;

// What a starting hart needs before it can run C++ (read by secondary_start in boot/entry.S
// with the MMU off, through the physical address SBI passes it as `opaque`).
struct StartBlock {
  u64 stack_top;    // kernel VA
  u64 satp;         // the kernel table
  u64 hart;         // its Hart (kernel VA), loaded into tp
};
static_assert(sizeof(StartBlock) == 24, "boot/entry.S reads StartBlock at offsets 0, 8, 16");

constexpr u64 IDLE_STACK_SIZE = 16384;
alignas(16) u8 idle_stacks[MAX][IDLE_STACK_SIZE];
StartBlock start_blocks[MAX];
volatile u32 came_up[MAX];

constexpr long EXT_HSM = 0x48534D;
constexpr long HSM_HART_START = 0;

}  // namespace

int online() { return harts_online; }
u64 kernel_satp() { return kernel_table_satp; }

u64 sbi_mask(u32 logical_mask) {
  u64 m = 0;
  for (int i = 0; i < harts_online; i++)
    if (logical_mask >> i & 1) m |= 1ul << harts[i].hartid;
  return m;
}

void send_ipi(u32 logical_mask) {
  if (!logical_mask) return;
  self().ipis_sent += count_bits(logical_mask);
  sbi::send_ipi(sbi_mask(logical_mask));
}

void wake_lock_sleepers(u32 logical_mask) { sbi::send_ipi(sbi_mask(logical_mask)); }

void handle_ipi() {
  CSR_CLEAR(sip, riscv::SIP_SSIP);
  Hart& me = self();
  if (!__atomic_load_n(&me.fence_pending, __ATOMIC_ACQUIRE)) return;
  const Hart::FenceRequest r = me.fence;
  if (r.all) asm volatile("sfence.vma zero, zero" ::: "memory");
  else if (r.size != ~0ul && r.size <= 32 * 4096)
    for (u64 va = r.start; va < r.start + r.size; va += 4096) asm volatile("sfence.vma %0, %1" ::"r"(va), "r"(u64(r.asid)) : "memory");
  else asm volatile("sfence.vma zero, %0" ::"r"(u64(r.asid)) : "memory");
  __atomic_store_n(&me.fence_pending, 0u, __ATOMIC_RELEASE);
}

void init_boot_hart(u64 boot_hartid) {
  harts[0].logical = 0;
  harts[0].hartid = boot_hartid;
  set_self(&harts[0]);
}

unsigned min_asid_bits() {
  unsigned bits = harts[0].asid_bits;
  for (int i = 1; i < harts_online; i++) bits = min(bits, harts[i].asid_bits);
  return bits;
}

void start_secondaries(BootHarts listed, u64 kernel_satp) {
  kernel_table_satp = kernel_satp;
  harts[0].asid_bits = asid::probe_width();
  int next = 1;
  for (int i = 0; i < listed.count && next < MAX; i++) {
    u64 id = listed.ids[i];
    if (id == harts[0].hartid) continue;
    if (id >= 64) {  // SBI hart masks are used with base 0
      kprintf("harts: hart id %lu not supported (>= 64)\n", id);
      continue;
    }
    Hart& h = harts[next];
    h.logical = next;
    h.hartid = id;
    start_blocks[next] = {reinterpret_cast<u64>(idle_stacks[next] + IDLE_STACK_SIZE), kernel_satp,
                          reinterpret_cast<u64>(&h)};
    came_up[next] = 0;
    asm volatile("fence rw, rw" ::: "memory");
    sbi::Ret r = sbi::call(EXT_HSM, HSM_HART_START, static_cast<long>(id),
                           static_cast<long>(kernel_phys_addr(secondary_start)),
                           static_cast<long>(kernel_phys_addr(&start_blocks[next])));
    if (r.error != 0) {
      kprintf("harts: hart %lu did not start (SBI error %ld)\n", id, r.error);
      continue;
    }
    // Each hart is waited for before the next starts, so logical ids follow the tree's order
    // and the boot log is deterministic.
    while (!came_up[next]) asm volatile("" ::: "memory");
    asm volatile("fence rw, rw" ::: "memory");
    next++;
  }
  harts_online = next;
}

}  // namespace hart

// A started hart's first C++: tp is its Hart, the kernel table is loaded, the stack is its own.
// It probes its ASID width (satp's ASID field is per hart), reports in, waits for the boot hart
// to finish booting, and becomes an idle hart of the scheduler.
extern "C" [[noreturn]] void secondary_main() {
  CSR_WRITE(stvec, reinterpret_cast<u64>(kernelvec));
  CSR_CLEAR(sstatus, riscv::SSTATUS_SIE);
  hart::Hart& me = hart::self();
  me.asid_bits = asid::probe_width();
  asm volatile("fence rw, rw" ::: "memory");
  hart::came_up[me.logical] = 1;
  sched::run_idle_first();
}

namespace hart {
// The idle stack top of this hart (the scheduler's idle loop runs there).
u64 idle_stack_top() { return reinterpret_cast<u64>(idle_stacks[self().logical] + IDLE_STACK_SIZE); }
}  // namespace hart
