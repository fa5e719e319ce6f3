// Scheme 2 (shared table, the same kernel VA everywhere): per-space, per-process and trap-frame state.
#pragma once

namespace scheme {

// Nothing per address space: the kernel entries in the root point at shared tables.
struct SpaceState {};
// The trap frame sits at the top of the process's kernel stack.
struct ProcessState {};
// The trap path needs nothing beyond the common fields.
struct TrapFrameExtra {};

}  // namespace scheme
