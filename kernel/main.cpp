// kmain: from the boot page table to the first user process.
#include "arch/fp.hpp"
#include "arch/riscv.hpp"
#include "dev/fdt.hpp"
#include "lib/log.hpp"
#include "lib/random.hpp"
#include "mm/frame.hpp"
#include "mm/asid.hpp"
#include "mm/kmap.hpp"
#include "arch/hart.hpp"
#include "proc/process.hpp"

extern "C" char __kernel_end[], kernelvec[];
void syscalls_init(u64 timebase_hz);

namespace {

BootInfo boot_info;
constexpr int INIT_ARGS_MAX = 16;

// The value of a numeric boot argument `key=N` that comes before any init= (which takes the
// rest of the line); false when absent or not a decimal number.
bool numeric_bootarg(const char* args, const char* key, u64* out) {
  size_t klen = strlen(key);
  for (const char* s = args; *s;) {
    while (*s == ' ') s++;
    if (strncmp(s, "init=", 5) == 0) return false;
    if (strncmp(s, key, klen) == 0 && s[klen] == '=') {
      const char* d = s + klen + 1;
      u64 v = 0;
      int digits = 0;
      for (; *d >= '0' && *d <= '9' && digits < 20; d++, digits++) v = v * 10 + u64(*d - '0');
      if (digits == 0 || (*d && *d != ' ')) {
        kprintf("boot: ignoring malformed %s (want %s=N, N decimal)\n", key, key);
        return false;
      }
      *out = v;
      return true;
    }
    while (*s && *s != ' ') s++;
  }
  return false;
}

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
  hart::init_boot_hart(hartid);
  CSR_WRITE(stvec, reinterpret_cast<u64>(kernelvec));
  if (!parse_fdt(phys_to_virt(PhysAddr(fdt_pa)), boot_info)) panic("no usable device tree at %p", (void*)fdt_pa);
  kprintf("sv39lab: scheme %d (%s), ASIDs %s, kernel map %s, %lu Hz tick\n", scheme::number, scheme::name,
          config::asid ? "on" : "off", config::kernel_map_superpages ? "2 MiB superpages" : "4 KiB pages",
          static_cast<u64>(config::timer_hz));

  // Every frame from the end of the kernel image to the end of the window's RAM.
  kmap::set_ram_size(boot_info.ram_start.value + boot_info.ram_size - layout::RAM_BASE);
  frames::init(virt_to_phys(__kernel_end), PhysAddr(layout::RAM_BASE + kmap::ram_mapped()));
  u64 kaslr_seed = 0;
  bool fixed_seed = numeric_bootarg(boot_info.bootargs, "kaslr_seed", &kaslr_seed);
  const char* entropy = fixed_seed ? rng::init_fixed(kaslr_seed) : rng::init({boot_info.rng_seed, boot_info.rng_seed_len, boot_info.has_zkr});
  if (fixed_seed)
    kprintf("*** kaslr_seed=%lu: kernel layout randomization is REPRODUCIBLE, not secret (measurement runs only) ***\n",
            kaslr_seed);

  scheme::init_kernel_space();
  // Every hart starts on the kernel table and probes its ASID width.
  hart::start_secondaries({boot_info.hart_ids, boot_info.harts_listed}, CSR_READ(satp));
  kprintf("harts: %d online\n", hart::online());
  // ASIDs: as many bits as every hart implements, at most asid_bits=N, none with ASID=n.
  u64 asid_cap = config::asid ? hart::min_asid_bits() : 0;
  u64 asked = 0;
  if (numeric_bootarg(boot_info.bootargs, "asid_bits", &asked) && asked < asid_cap) asid_cap = asked;
  asid::init(static_cast<unsigned>(asid_cap));
  LOG_INFO("hart %lu, RAM %lu MiB, %lu free frames, %u usable ASID bits%s, randomness: %s\n", hartid,
           boot_info.ram_size >> 20, frames::free_count(), asid::bits(),
           asid::enabled() ? "" : " (a full TLB flush after every satp write)", entropy);

  CSR_WRITE(scounteren, 7);  // user mode may read cycle, time and instret
  CSR_CLEAR(sstatus, riscv::SSTATUS_SIE);
  fp::init();  // user FP is off until a process's first FP instruction
  syscalls_init(boot_info.timebase_hz);
  sched::init_timer(boot_info.timebase_hz);

  // CONFIG_DEBUG_LOCKS: lock_order_selftest=1 takes two locks against the order, =2 holds a
  // lock across a context-switch check: each must panic naming both locks (tests use this).
  u64 selftest = 0;
  if (config::debug_locks && numeric_bootarg(boot_info.bootargs, "lock_order_selftest", &selftest) && selftest) {
    static SpinLock test_lock("selftest", LockRank::Test);
    test_lock.lock();
    if (selftest == 1) proc::kernel_lock.lock();
    else locks::check_switch(proc::kernel_lock);
    panic("lock_order_selftest=%lu: the checker did not fire", selftest);
  }

  const char* argv[INIT_ARGS_MAX + 1] = {};
  int argc = parse_init(boot_info.bootargs, argv);
  proc::start_init(argv, argc);
}
