// The kernel's view of memory: physical memory through the window (at the running slide), and
// KPtr, the pointer representation for shared kernel data (kernel/scheme/randomized/kptr.hpp).
#pragma once

#include "mm/addr.hpp"
#include "scheme/randomized/kptr.hpp"
#include "scheme/slide.hpp"

template <typename T = void>
inline T* phys_to_virt(PhysAddr pa) {
  return reinterpret_cast<T*>(window_va() + (pa.value - layout::RAM_BASE));
}
inline PhysAddr virt_to_phys(const void* p) {
  return PhysAddr(reinterpret_cast<u64>(p) - window_va() + layout::RAM_BASE);
}
