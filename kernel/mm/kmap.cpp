#include "mm/kmap.hpp"

#include "arch/riscv.hpp"
#include "lib/log.hpp"
#include "mm/tlb.hpp"
#include "lib/counters.hpp"

extern "C" char __kernel_start[], __text_end[], __rodata_end[];

namespace {
u64 ram_bytes = 0;
}

namespace kmap {

void set_ram_size(u64 bytes) { ram_bytes = align_down(min(bytes, layout::WINDOW_RAM), layout::MEGA_SIZE); }
u64 ram_mapped() { return ram_bytes; }

void build_window(PhysPageNum root, u64 window_va, PteFlags extra, u64& pt_pages) {
  PageTable pt(root);
  const PteFlags rw = PteFlags::R | PteFlags::W | extra;
  u64 text_lo = virt_to_phys(__kernel_start).value, text_hi = virt_to_phys(__text_end).value;
  u64 rodata_hi = virt_to_phys(__rodata_end).value;
  auto map = [&](u64 va, u64 pa, PteFlags flags, PageLevel level) {
    if (pt.map(VirtAddr(va).page(), PhysAddr(pa).page(), flags, level, pt_pages) != Error::None)
      panic("cannot map the kernel window at %p", reinterpret_cast<void*>(va));
  };

  // RAM: the kernel image and every frame the kernel hands out.
  for (u64 off = 0; off < ram_bytes;) {
    u64 pa = layout::RAM_BASE + off;
    if (config::kernel_map_superpages) {
      bool text = pa < text_hi && pa + layout::MEGA_SIZE > text_lo;
      map(window_va + off, pa, text ? rw | PteFlags::X : rw, PageLevel::Mega2M);
      off += layout::MEGA_SIZE;
    } else {
      PteFlags flags = rw;
      if (pa >= text_lo && pa < text_hi) flags = PteFlags::R | PteFlags::X | extra;
      else if (pa >= text_hi && pa < rodata_hi) flags = PteFlags::R | extra;
      map(window_va + off, pa, flags, PageLevel::Page4K);
      off += layout::PAGE_SIZE;
    }
  }

  // Kernel stacks, 4 KiB pages, each below an unmapped guard page.
  for (int slot = 0; slot < config::nproc; slot++) {
    for (u64 off = layout::kstack_bottom(slot); off < layout::kstack_top(slot); off += layout::PAGE_SIZE) {
      auto frame = frames::alloc_zeroed();
      if (!frame.ok()) panic("no memory for kernel stacks");
      map(window_va + off, frame.value().addr().value, rw, PageLevel::Page4K);
    }
  }

  // The test device (power off).
  map(window_va + layout::MMIO, layout::TEST_DEVICE_PA, rw, PageLevel::Page4K);
}

Error map_trampoline(PhysPageNum root, const void* code, PteFlags extra, u64& pt_pages) {
  return PageTable(root).map(VirtAddr(layout::TRAMPOLINE).page(), virt_to_phys(code).page(),
                             PteFlags::R | PteFlags::X | extra, PageLevel::Page4K, pt_pages);
}

void activate(u64 satp) {
  CSR_WRITE(satp, satp);
  if (config::stats) stats::counters_now().satp_writes++;
  tlb::flush_all();
}

}  // namespace kmap
