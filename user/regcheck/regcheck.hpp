// regcheck's shared parts (main.cpp says what it checks): the register-file image, the assembly
// that loads and stores it around an action (regs.S), the patterns, and the check helpers.
//   main.cpp       the modes and the order of the checks
//   support.cpp    patterns, results, the checked system call, children
//   traps.cpp      system calls, switches (yield, sleep, a ring) and preemption
//   lifecycle.cpp  fork, exec and the start state of a new image
//   fp.cpp         lazy FP across switches (the FP-dirty and FP-clean ping-pongs)
//   threads.cpp    threads of one process on different harts: each keeps its own registers
//   regs.S         rc_run, rc_persist, rc_snapshot_fp and the start-state snapshot
#pragma once

#include "user.hpp"

using namespace uapi;

// ---------------------------------------------------------------- the register file image
struct RegSet {
  uint64_t x[32];  // by register number; x0 and x2 (sp) unused
  uint64_t f[32];
  uint64_t fcsr;
};
static_assert(sizeof(RegSet) == 520);

// rc_run modes (the low bits) and flags.
constexpr long RC_ECALL = 0;   // a7 = nr, a0 = arg, ecall; a0 is the result
constexpr long RC_SPIN = 1;    // spin `arg` iterations with a7 as the counter (a7 not checked)
constexpr long RC_NONE = 2;    // load and store back: checks the checker
constexpr long RC_ECALL2 = 3;  // like RC_ECALL, and a1 = arg2 (exec)
constexpr long RC_NOFP = 8;    // flag: leave f0-f31 and fcsr alone (no FP instruction at all)

extern "C" {
// Loads the whole of `in` (FP unless RC_NOFP), runs the action, stores every register into `out`
// and returns out->x[10] (a0). Saves and restores what the calling convention requires.
long rc_run(const RegSet* in, RegSet* out, long mode, long arg, long nr, long arg2);
// Loads f0-f31, fcsr, gp and tp from `in` and returns with them in place (no restore).
void rc_persist(const RegSet* in);
// Stores f0-f31 and fcsr into out->f, out->fcsr.
void rc_snapshot_fp(RegSet* out);
// The integer registers as the first code of the program saw them: filled by an .init_array
// entry that start.S calls before main (then t0 = that entry, ra = its return address,
// s0 = 0, s1 = argc, s2 = argv, s3/s4 = the .init_array bounds, a0 = argc, a1 = argv).
extern RegSet rc_start;
}

namespace regcheck {

constexpr long MS = 1000 * 1000;
constexpr int MAX_TAG = 16;

// ---------------------------------------------------------------- patterns (support.cpp)
// Register r (0..31 integer, 32..63 FP) of process pattern `tag`: distinct for every (tag, r),
// never 0, and with the tag readable in the top byte.
uint64_t pat(int tag, int r);
uint64_t pat_fcsr(int tag);
void fill(RegSet& s, int tag);
extern const char* const XNAMES[32];  // integer register names by number
// Whose pattern is v? Returns "tag T's REG" into buf, or "" when it is nobody's.
const char* whose(uint64_t v, char* buf, size_t n);

// ---------------------------------------------------------------- results (support.cpp)
extern int g_passed, g_failed;
extern const char* g_role;  // "parent" / "child" suffix for the process's check names
void report(const char* name, bool ok, const char* why);
// Compare `got` with `want` on every register that is checked (not in skip_x, a bit per
// integer register; FP when fp). Appends up to three mismatches to why; returns their count.
int compare(const RegSet& want, const RegSet& got, uint32_t skip_x, bool fp, char* why, size_t n);

constexpr uint32_t bit(int r) { return 1u << r; }
constexpr uint32_t SKIP_A0 = bit(10);
constexpr uint32_t SKIP_A0_A7 = bit(10) | bit(17);
constexpr uint32_t SKIP_A7 = bit(17);

KernelStats get_stats();
// Run on hart 0 only (sched_pin(0)): see main.cpp. No FP instruction, no gp/tp use.
void pin_to_hart0();
// One system call with the pattern live; checks every register but a0 (returned in *ret).
// Returns the number of wrong registers; the reason accumulates in why.
int call_checked(const RegSet& in, long nr, long arg, long* ret, char* why, size_t n,
                 bool fp = true);
// A child that runs fn(tag) and exits with 0 (all its checks passed) or 1.
long spawn(int (*fn)(int), int tag);
// The parent's accounting of a child that printed its own check line.
void collect(const char* name, long pid);

// ---------------------------------------------------------------- the checks
// traps.cpp
void check_roundtrip();
void check_getpid(const char* name, int tag);
void check_enosys(int tag);
// `rounds` system calls `nr(arg)` with the pattern live, each checked; the process must have
// been switched in at least once meanwhile (it ran beside another process).
int rounds_checked(const char* name, int tag, long nr, long arg, int rounds, long want_ret);
int yield_body(int tag);
int sleep_body(int tag);
void check_pair(const char* name, int (*body)(int), int parent_tag, int child_tag);
void check_ring();
void check_preempt(int parent_tag, int child_tag);
// lifecycle.cpp
void check_fork(int parent_tag, int child_tag);
void check_exec(int parent_tag, int child_tag);
int exec_child_main();
void check_start(const RegSet& fp_at_main);
// fp.cpp
int fp_loop_main(bool dirty, long rounds);
void check_fp_loop(const char* mode, const char* rounds);
// threads.cpp
void check_threads();

}  // namespace regcheck
