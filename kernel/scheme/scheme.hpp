// The scheme interface: everything that differs between the three kernel VM designs.
//
// The rest of the kernel calls these and never asks which scheme it runs. One scheme is
// compiled in (kernel/scheme/separate.cpp, shared.cpp or randomized.cpp); its inline part
// (the slide and the per-address-space state) comes from the matching .hpp via SCHEME_HEADER.
#pragma once

#include "lib/types.hpp"
#include "mm/addr.hpp"
#include "mm/layout.hpp"

struct Process;
class AddressSpace;
struct Context;
struct TrapFrame;

// Per-scheme inline definitions:
//   uptr scheme::slide()   how far the running kernel window is from LINK_WINDOW (0 unless scheme 3)
//   struct scheme::SpaceState      kernel-side state of one address space (slot, private tables)
//   struct scheme::ProcessState    kernel-side state of one process (scheme 1: its trap frame)
#include SCHEME_HEADER

namespace scheme {

// Boot: build the kernel's own mappings once the frame allocator works, and switch to them.
void init_kernel_space();

// Address spaces: give a new table its kernel part (window, trampoline, ...), and take it away
// before the table is freed. `attach` may pick a new slot (scheme 3).
Error attach_kernel(Process& p, AddressSpace& space);
void detach_kernel(AddressSpace& space);

// Processes: set up and tear down a process's scheme state (scheme 1: its trap-frame page).
Error init_process(Process& p);
void release_process(Process& p);

// The process's trap frame as the running kernel sees it.
TrapFrame* trapframe(Process& p);

// Hand the CPU from `from` to `to` (returns when `from` runs again).
void switch_to(Process& from, Process& to);

// Make p's saved context start fn(arg) on p's empty kernel stack, in p's address space.
void prepare_fresh(Process& p, void (*fn)(u64), u64 arg);
// Load p's table and resume p's saved context; the current stack is abandoned.
[[noreturn]] void enter(Process& p);

// Return to user mode for the first time (fresh process or after exec): all registers from
// the trap frame. Interrupt-enable and previous-mode bits are set here.
[[noreturn]] void return_to_user_first(Process& p);

// User memory: copy between kernel memory and an already-validated user range.
void copy_from_user(AddressSpace& space, void* dst, u64 user_src, size_t len);
void copy_to_user(AddressSpace& space, u64 user_dst, const void* src, size_t len);

// The VA of the kernel window in this address space (diagnostics, backtraces).
u64 window_base(const AddressSpace& space);
// log2(number of possible windows) * 1000 (0 when the window is fixed).
u64 slot_entropy_millibits();

}  // namespace scheme
