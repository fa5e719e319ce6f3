// Hart bring-up: the boot hart starts the others through the SBI HSM extension.
#include "proc/hart.hpp"

#include "arch/riscv.hpp"
#include "lib/log.hpp"
#include "mm/asid.hpp"

extern "C" char secondary_start[], kernelvec[];

namespace hart {

Hart harts[MAX];

namespace {

int harts_online = 1;

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
  harts[0].asid_bits = asid::probe_width();
  int next = 1;
  for (int i = 0; i < listed.count && next < MAX; i++) {
    u64 id = listed.ids[i];
    if (id == harts[0].hartid) continue;
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
// It probes its ASID width (satp's ASID field is per hart), reports in, and parks.
extern "C" [[noreturn]] void secondary_main() {
  CSR_WRITE(stvec, reinterpret_cast<u64>(kernelvec));
  CSR_CLEAR(sstatus, riscv::SSTATUS_SIE);
  hart::Hart& me = hart::self();
  me.asid_bits = asid::probe_width();
  asm volatile("fence rw, rw" ::: "memory");
  hart::came_up[me.logical] = 1;
  for (;;) riscv::wfi();
}
