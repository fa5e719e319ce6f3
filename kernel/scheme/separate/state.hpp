// Scheme 1 (separate kernel page table): per-space, per-process and trap-frame state.
#pragma once

namespace scheme {

// A process table maps the trampoline and the trap frame at the top of VA: it owns the
// level-1 and level-0 tables that lead there (the level-0 table holds its own trap frame).
struct SpaceState {
  PhysPageNum top_l1;
  PhysPageNum top_l0;
};

// The trap frame lives in a page of its own, mapped in the process table at the VA of its slot
// (scheme.cpp: trapframe_va), so the threads of a process each have theirs in the one table.
struct ProcessState {
  PhysPageNum trapframe;
};

// What the trampoline needs to reach the kernel and come back (offsets: trapgen.py's
// extra_fields, checked by the generated trap_checks.hpp).
struct TrapFrameExtra {
  u64 kernel_satp;   // the kernel table's satp
  u64 kernel_sp;     // top of this process's kernel stack (kernel VA)
  u64 kernel_trap;   // user_trap_entry (kernel VA)
  u64 kernel_tf;     // this trap frame's kernel VA
  u64 user_satp;     // the process table's satp
  u64 user_stvec;    // uservec's trampoline VA (the copy this core uses)
  u64 userret;       // userret's trampoline VA
  u64 userret_full;  // userret_full's trampoline VA
  u64 user_tf;       // this trap frame's VA in the process table (one page per thread slot)
};

}  // namespace scheme
