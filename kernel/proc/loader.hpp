// Embedded user programs and the ELF loader.
#pragma once

#include "proc/process.hpp"

// The ELF image of an embedded program, or nullptr.
struct ProgramImage {
  const u8* data;
  size_t size;
};
bool find_program(const char* name, ProgramImage* out);
// Write the NUL-separated list of program names to buf (up to len); returns the full size.
size_t list_programs(char* buf, size_t len);

// Load program `name` into `space` (fresh, with the kernel part attached), build its user
// stack with argv, and set p's trap frame to start it. NoEntry, NotExec, NoMemory, TooBig.
Error load_program(Process& p, AddressSpace& space, const char* name, const char* const* argv, int argc);
