// Scheme 1 (separate kernel page table): the slide. See scheme.cpp.
#pragma once

namespace scheme {

inline constexpr char name[] = "separate kernel table";
inline constexpr int number = 1;

// The kernel always runs in its own table at the link-time window.
constexpr u64 slide() { return 0; }

}  // namespace scheme
