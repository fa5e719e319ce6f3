// The scheme's operations: everything that differs between the three kernel VM designs, as
// functions the rest of the kernel calls without asking which scheme it runs. One scheme is
// compiled in (kernel/scheme/<scheme>/scheme.cpp). The scheme's two lower layers are
// scheme/slide.hpp (where the kernel window is) and scheme/state.hpp (what a scheme keeps in
// address spaces, processes and trap frames); this header needs neither.
#pragma once

#include "lib/types.hpp"

struct Process;
class AddressSpace;
struct Context;
struct TrapFrame;

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

// Threads: give thread `t` what it needs in its process's table `space` (scheme 1: its trap
// frame's mapping), and take it away (fenced wherever the table may be cached) before t's slot
// is released.
Error attach_thread(Process& t, AddressSpace& space);
void detach_thread(Process& t, AddressSpace& space);

// The process's trap frame as the running kernel sees it.
TrapFrame* trapframe(Process& p);

// Hand the CPU from `from` to `to` (returns when `from` runs again).
void switch_to(Process& from, Process& to);

// Save `from`'s context and start idle(0) on this hart's idle stack, on the kernel table (the
// kernel lock passes to it). Returns when `from` is resumed (by enter(), on any hart).
void switch_to_idle(Process& from, void (*idle)(u64));

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

// Global (G) entries in the page-table pages this address space owns, which destroy() frees
// after an ASID-scoped fence; that fence does not order global entries, so this must be 0
// (diagnostics: DIAG_PRIVATE_GLOBALS).
u64 private_global_entries(const AddressSpace& space);

// The VA of the kernel window in this address space (diagnostics, backtraces).
u64 window_base(const AddressSpace& space);
// log2(number of possible windows) * 1000 (0 when the window is fixed).
u64 slot_entropy_millibits();

}  // namespace scheme
