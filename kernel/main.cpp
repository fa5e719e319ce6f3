// kmain: from the boot page table to the first user process.
#include "arch/riscv.hpp"
#include "dev/fdt.hpp"
#include "lib/log.hpp"
#include "lib/random.hpp"
#include "mm/frame.hpp"
#include "mm/kmap.hpp"
#include "mm/tlb.hpp"
#include "proc/process.hpp"

extern "C" char __kernel_end[], kernelvec[];
void syscalls_init(u64 timebase_hz);

namespace {

BootInfo boot_info;
constexpr int INIT_ARGS_MAX = 16;

// Split "... init=PROG ARG1 ARG2" into argv (in place). No init=: the configured default.
int parse_init(char* bootargs, const char** argv) {
  char* s = bootargs;
  for (;;) {
    while (*s == ' ') s++;
    if (!*s) break;
    if (strncmp(s, "init=", 5) == 0) {
      s += 5;
      int argc = 0;
      while (*s && argc < INIT_ARGS_MAX) {
        argv[argc++] = s;
        while (*s && *s != ' ') s++;
        if (*s) *s++ = 0;
        while (*s == ' ') s++;
      }
      if (argc) return argc;
      break;
    }
    while (*s && *s != ' ') s++;
  }
  argv[0] = config::init_default;
  return 1;
}

}  // namespace

extern "C" [[noreturn]] void kmain(u64 hartid, u64 fdt_pa) {
  CSR_WRITE(stvec, reinterpret_cast<u64>(kernelvec));
  if (!parse_fdt(phys_to_virt(PhysAddr(fdt_pa)), boot_info)) panic("no usable device tree at %p", (void*)fdt_pa);
  kprintf("sv39lab: scheme %d (%s), ASIDs %s, kernel map %s, %lu Hz tick\n", scheme::number, scheme::name,
          config::asid ? "on" : "off", config::kernel_map_superpages ? "2 MiB superpages" : "4 KiB pages",
          static_cast<u64>(config::timer_hz));

  // Every frame from the end of the kernel image to the end of the window's RAM.
  kmap::set_ram_size(boot_info.ram_start.value + boot_info.ram_size - layout::RAM_BASE);
  frames::init(virt_to_phys(__kernel_end), PhysAddr(layout::RAM_BASE + kmap::ram_mapped()));
  const char* entropy = rng::init(boot_info);

  scheme::init_kernel_space();
  tlb::probe_asid_bits();
  LOG_INFO("hart %lu, RAM %lu MiB, %lu free frames, ASID bits %s, randomness: %s\n", hartid,
           boot_info.ram_size >> 20, frames::free_count(), tlb::asids_enabled() ? "yes" : "none in use", entropy);

  CSR_WRITE(scounteren, 7);  // user mode may read cycle, time and instret
  CSR_CLEAR(sstatus, riscv::SSTATUS_SIE);
  syscalls_init(boot_info.timebase_hz);
  sched::init_timer(boot_info.timebase_hz);

  const char* argv[INIT_ARGS_MAX + 1] = {};
  int argc = parse_init(boot_info.bootargs, argv);
  proc::start_init(argv, argc);
}
