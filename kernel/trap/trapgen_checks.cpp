// Compiles the generator's static_asserts (generated/trap_checks.hpp): every constant and
// trap-frame/context offset that the generated trap.S uses, against the C++ definitions.
#include "arch/riscv.hpp"
#include "mm/layout.hpp"
#include "proc/process.hpp"
#include "trap/trap.hpp"
#include "uapi/syscall.h"

#include "trap_checks.hpp"
