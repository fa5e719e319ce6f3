// The kernel's view of memory: physical memory through the window, and KPtr, the pointer
// representation for shared kernel data.
#pragma once

#include "mm/addr.hpp"
#include "scheme/scheme.hpp"

// The kernel reaches physical memory through its window: RAM at window + (pa - RAM_BASE).
// The window's VA is the link-time one plus the slide (0 except in scheme 3).
inline u64 window_va() { return layout::LINK_WINDOW + scheme::slide(); }

template <typename T = void>
inline T* phys_to_virt(PhysAddr pa) {
  return reinterpret_cast<T*>(window_va() + (pa.value - layout::RAM_BASE));
}
inline PhysAddr virt_to_phys(const void* p) {
  return PhysAddr(reinterpret_cast<u64>(p) - window_va() + layout::RAM_BASE);
}

// KPtr<T>: a pointer kept in shared kernel data (the process table, the heap's free lists,
// containers). It stores the link-time address and resolves it at the running slot, so it is
// valid in every address space. In schemes 1 and 2 the slide is the constant 0 and KPtr is a
// plain pointer in disguise.
template <typename T>
class KPtr {
 public:
  constexpr KPtr() = default;
  KPtr(T* p) : link_(p ? reinterpret_cast<u64>(p) - scheme::slide() : 0) {}
  T* get() const { return link_ ? reinterpret_cast<T*>(link_ + scheme::slide()) : nullptr; }
  T* operator->() const { return get(); }
  T& operator*() const { return *get(); }
  T& operator[](size_t i) const { return get()[i]; }
  explicit operator bool() const { return link_ != 0; }
  u64 link_address() const { return link_; }

 private:
  u64 link_ = 0;
};
