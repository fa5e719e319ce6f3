// Strong types for addresses and page numbers.
#pragma once

#include "lib/types.hpp"
#include "mm/layout.hpp"

struct PhysPageNum;
struct VirtPageNum;

struct PhysAddr {
  u64 value;
  constexpr PhysAddr() : value(0) {}
  constexpr explicit PhysAddr(u64 v) : value(v) {}
  constexpr PhysPageNum page() const;
  constexpr u64 page_offset() const { return value & (layout::PAGE_SIZE - 1); }
  constexpr bool page_aligned() const { return page_offset() == 0; }
  constexpr PhysAddr operator+(u64 n) const { return PhysAddr(value + n); }
  constexpr bool operator==(const PhysAddr&) const = default;
  constexpr bool operator<(const PhysAddr& o) const { return value < o.value; }
};

struct VirtAddr {
  u64 value;
  constexpr VirtAddr() : value(0) {}
  constexpr explicit VirtAddr(u64 v) : value(v) {}
  constexpr VirtPageNum page() const;
  constexpr u64 page_offset() const { return value & (layout::PAGE_SIZE - 1); }
  constexpr bool page_aligned() const { return page_offset() == 0; }
  constexpr VirtAddr operator+(u64 n) const { return VirtAddr(value + n); }
  constexpr bool operator==(const VirtAddr&) const = default;
  constexpr bool operator<(const VirtAddr& o) const { return value < o.value; }
};

struct PhysPageNum {
  u64 value;
  constexpr PhysPageNum() : value(0) {}
  constexpr explicit PhysPageNum(u64 v) : value(v) {}
  constexpr PhysAddr addr() const { return PhysAddr(value << 12); }
  constexpr bool operator==(const PhysPageNum&) const = default;
  constexpr bool operator<(const PhysPageNum& o) const { return value < o.value; }
};

struct VirtPageNum {
  u64 value;
  constexpr VirtPageNum() : value(0) {}
  constexpr explicit VirtPageNum(u64 v) : value(v) {}
  constexpr VirtAddr addr() const {
    // Sign-extend bit 38: Sv39 addresses are canonical.
    u64 va = value << 12;
    if (va & (1ul << 38)) va |= ~((1ul << 39) - 1);
    return VirtAddr(va);
  }
  // The 9-bit index into the page table of `level` (2 = root, 0 = leaf table).
  constexpr unsigned index(int level) const { return (value >> (9 * level)) & 511; }
  constexpr VirtPageNum operator+(u64 n) const { return VirtPageNum(value + n); }
  constexpr bool operator==(const VirtPageNum&) const = default;
  constexpr bool operator<(const VirtPageNum& o) const { return value < o.value; }
};

constexpr PhysPageNum PhysAddr::page() const { return PhysPageNum(value >> 12); }
constexpr VirtPageNum VirtAddr::page() const { return VirtPageNum((value >> 12) & ((1ul << 27) - 1)); }

