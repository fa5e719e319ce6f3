#pragma once

#include "proc/process.hpp"


// kernelvec's frame (generated trap.S) as kernel_trap(u64* regs) reads it: x1..x31 at regs[i],
// the interrupted sepc at regs[KERNELVEC_SEPC_INDEX] (checked by generated/trap_checks.hpp).
namespace trapgen_abi {
inline constexpr int KERNELVEC_SEPC_INDEX = 32;
}
