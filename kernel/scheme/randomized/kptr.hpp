// KPtr: the pointer representation for shared kernel data, a part of scheme 3.
//
// In scheme 3 every address space runs the kernel at its own slot, so a plain pointer stored in
// shared kernel data (the process table, the heap's free lists, containers) would be valid only
// in the address space that stored it. KPtr stores the link-time address and resolves it at the
// running slot. It is compiled in every scheme; in schemes 1 and 2 the slide is the constant 0
// and KPtr is a plain pointer in disguise (no instruction added). The other half of the rule,
// "no absolute address in the image", is checked at link time by check_relocs.py (scheme.mk).
#pragma once

#include "scheme/slide.hpp"

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
