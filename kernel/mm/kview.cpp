// What lib/ needs of the kernel window (declared in lib/log.hpp): the console's physical
// addresses, backtraces of the kernel stack, and the test device (power-off).
#include "mm/kview.hpp"

#include "arch/riscv.hpp"
#include "lib/log.hpp"

extern "C" char __kernel_start[], __text_end[];

void backtrace(u64 fp) {
  // Frames: fp points just above the saved ra (fp-8) and the caller's fp (fp-16).
  // Addresses are printed at link time (pc - slide), so they match `addr2line -e kernel.elf`
  // whatever slot the kernel ran at.
  u64 text_lo = reinterpret_cast<u64>(__kernel_start), text_hi = reinterpret_cast<u64>(__text_end);
  u64 win = window_va();
  kprintf("backtrace (link-time addresses; window at %p, slide %p):\n", reinterpret_cast<void*>(win),
          reinterpret_cast<void*>(scheme::slide()));
  for (int depth = 0; depth < 32 && fp > win && (fp & 7) == 0 && fp < win + layout::WINDOW_SIZE; depth++) {
    u64 ra = reinterpret_cast<u64*>(fp)[-1];
    if (ra < text_lo || ra >= text_hi) break;
    kprintf("  %p\n", reinterpret_cast<void*>(ra - scheme::slide()));
    fp = reinterpret_cast<u64*>(fp)[-2];
  }
}

u64 kernel_phys_addr(const void* p) { return virt_to_phys(p).value; }

void power_off(int status) {
  // The virt test device, mapped in every kernel window at MMIO.
  auto* dev = reinterpret_cast<volatile u32*>(window_va() + layout::MMIO);
  u32 code = status == 0 ? 0x5555 : ((static_cast<u32>(status) & 0xffff) << 16) | 0x3333;
  *dev = code;
  for (;;) riscv::wfi();
}
