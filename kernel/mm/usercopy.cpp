#include "mm/usercopy.hpp"

using namespace uapi;

namespace usercopy {

Error copy_in(AddressSpace& space, void* dst, u64 user_src, size_t len) {
  if (!space.range_ok(user_src, len, PROT_READ)) return Error::Fault;
  if (Error e = space.prepare_kernel_access(user_src, len, false); e != Error::None) return e;
  if (len) scheme::copy_from_user(space, dst, user_src, len);
  return Error::None;
}

Error copy_out(AddressSpace& space, u64 user_dst, const void* src, size_t len) {
  if (!space.range_ok(user_dst, len, PROT_WRITE)) return Error::Fault;
  if (Error e = space.prepare_kernel_access(user_dst, len, true); e != Error::None) return e;
  if (len) scheme::copy_to_user(space, user_dst, src, len);
  return Error::None;
}

Result<size_t> string_in(AddressSpace& space, char* dst, u64 user_src, size_t max) {
  if (max == 0) return Error::NameTooLong;  // no room even for the NUL (exec: argv filled the buffer)
  // Page by page: a string may end just before an unmapped page.
  size_t n = 0;
  while (n < max) {
    u64 va = user_src + n;
    size_t chunk = min<size_t>(max - n, layout::PAGE_SIZE - (va & (layout::PAGE_SIZE - 1)));
    if (!space.range_ok(va, chunk, PROT_READ)) return Error::Fault;
    if (Error e = space.prepare_kernel_access(va, chunk, false); e != Error::None) return e;
    scheme::copy_from_user(space, dst + n, va, chunk);
    for (size_t i = 0; i < chunk; i++)
      if (dst[n + i] == 0) return n + i;
    n += chunk;
  }
  dst[max - 1] = 0;
  return Error::NameTooLong;
}

}  // namespace usercopy
