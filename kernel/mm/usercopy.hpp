// The one audited way into user memory. Every user pointer a system call receives goes through
// these: the range is checked against the process's areas (with the needed permission) before a
// byte moves, and the copy itself is the scheme's (page-table walk in scheme 1, direct access
// with sstatus.SUM in schemes 2 and 3).
#pragma once

#include "mm/addrspace.hpp"

namespace usercopy {

Error copy_in(AddressSpace& space, void* dst, u64 user_src, size_t len);
Error copy_out(AddressSpace& space, u64 user_dst, const void* src, size_t len);
// Copy a NUL-terminated string of at most max-1 characters; returns its length,
// Fault for a bad address, NameTooLong if no NUL within max-1.
Result<size_t> string_in(AddressSpace& space, char* dst, u64 user_src, size_t max);

}  // namespace usercopy
