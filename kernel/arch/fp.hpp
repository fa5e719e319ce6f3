// User floating-point state. The kernel itself never uses an FP register (it is built lp64,
// integer-only); user programs are lp64d. sstatus.FS tells the kernel what the registers hold:
//
//   Off      the running process has not used FP since its exec: any FP instruction traps
//            (illegal instruction), and that first use gives it a zeroed register file;
//   Clean    the registers hold the running process's saved state;
//   Dirty    the process changed them since they were loaded: save them before someone else
//            runs.
//
// So a process that never uses FP costs a switch one CSR read and one CSR write; one that used
// FP pays a restore (33 loads) when switched in, and a save (33 stores) only if it dirtied the
// registers during its time slice.
#pragma once

#include "lib/types.hpp"

namespace fp {

struct State {
  u64 f[32];
  u64 fcsr;
  bool in_use;  // the process has used FP since its exec (its registers live here or in the FPU)
};

// Boot: FP off.
void init();
// A switch from `from` to `to`: save from's registers if dirty, load to's (or turn FP off).
// The two halves of switch_out_in, for a switch through the idle loop (another hart may do the second).
void switch_out(State& from);
void switch_in(State& to);
void switch_out_in(State& from, State& to);
// Fork: the child gets a copy of the parent's state as it is now.
void fork_copy(State& parent, State& child);
// Exec: the process starts with FP off and, at its first use, a zeroed register file.
void exec_reset(State& s);
// An illegal-instruction trap from user mode: if it is the process's first FP use, give it a
// zeroed register file and return true (the instruction is retried).
bool first_use(State& s);

u64 saves();
u64 restores();

}  // namespace fp
