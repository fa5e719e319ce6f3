// Scheme 3 (shared table, per-process randomized kernel VA): per-space, per-process and trap-frame state.
#pragma once

namespace scheme {

// Each address space has its own window slot, and the level-1 tables that map the window
// there (the level-0 tables under them are shared).
struct SpaceState {
  u64 window;  // VA of this table's kernel window
  PhysPageNum l1[2];
};
struct ProcessState {};
// The trap path is scheme 2's: nothing beyond the common fields.
struct TrapFrameExtra {};

}  // namespace scheme
