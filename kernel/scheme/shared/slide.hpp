// Scheme 2 (shared table, the same kernel VA everywhere): inline part. See shared.cpp.
#pragma once

namespace scheme {

inline constexpr char name[] = "shared table, same kernel VA";
inline constexpr int number = 2;

// The kernel window is at its link-time VA in every table.
constexpr u64 slide() { return 0; }

// Nothing per address space: the kernel entries in the root point at shared tables.
struct SpaceState {};
// The trap frame sits at the top of the process's kernel stack.
struct ProcessState {};

}  // namespace scheme
