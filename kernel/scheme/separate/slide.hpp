// Scheme 1 (separate kernel page table): inline part. See separate.cpp.
#pragma once

namespace scheme {

inline constexpr char name[] = "separate kernel table";
inline constexpr int number = 1;

// The kernel always runs in its own table at the link-time window.
constexpr u64 slide() { return 0; }

// A process table maps the trampoline and the trap frame at the top of VA: it owns the
// level-1 and level-0 tables that lead there (the level-0 table holds its own trap frame).
struct SpaceState {
  PhysPageNum top_l1;
  PhysPageNum top_l0;
};

// The trap frame lives in a page of its own, mapped at TRAPFRAME in the process table.
struct ProcessState {
  PhysPageNum trapframe;
};

}  // namespace scheme
