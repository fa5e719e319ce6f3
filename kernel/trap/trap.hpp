#pragma once

#include "proc/process.hpp"

// Execute the system call in tf (a7 = number, a0..a5 = arguments); returns the a0 result.
long do_syscall(TrapFrame* tf);
// The console bytes arriving through SBI, for read(0, ...).
void console_init();
