// The C string and memory functions the compiler may call on its own.
#include "lib/types.hpp"

extern "C" {

void* memset(void* dst, int c, size_t n) {
  auto* d = static_cast<u8*>(dst);
  if ((reinterpret_cast<uptr>(d) & 7) == 0 && (n & 7) == 0) {
    u64 v = static_cast<u8>(c);
    v |= v << 8;
    v |= v << 16;
    v |= v << 32;
    auto* d64 = reinterpret_cast<u64*>(d);
    for (size_t i = 0; i < n / 8; i++) d64[i] = v;
    return dst;
  }
  for (size_t i = 0; i < n; i++) d[i] = static_cast<u8>(c);
  return dst;
}

void* memcpy(void* dst, const void* src, size_t n) {
  auto* d = static_cast<u8*>(dst);
  const auto* s = static_cast<const u8*>(src);
  if (((reinterpret_cast<uptr>(d) | reinterpret_cast<uptr>(s) | n) & 7) == 0) {
    auto* d64 = reinterpret_cast<u64*>(d);
    const auto* s64 = reinterpret_cast<const u64*>(s);
    for (size_t i = 0; i < n / 8; i++) d64[i] = s64[i];
    return dst;
  }
  for (size_t i = 0; i < n; i++) d[i] = s[i];
  return dst;
}

void* memmove(void* dst, const void* src, size_t n) {
  auto* d = static_cast<u8*>(dst);
  const auto* s = static_cast<const u8*>(src);
  if (d < s) {
    for (size_t i = 0; i < n; i++) d[i] = s[i];
  } else {
    for (size_t i = n; i > 0; i--) d[i - 1] = s[i - 1];
  }
  return dst;
}

int memcmp(const void* a, const void* b, size_t n) {
  const auto* x = static_cast<const u8*>(a);
  const auto* y = static_cast<const u8*>(b);
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

size_t strlen(const char* s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

int strcmp(const char* a, const char* b) {
  while (*a && *a == *b) a++, b++;
  return static_cast<u8>(*a) - static_cast<u8>(*b);
}

int strncmp(const char* a, const char* b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (a[i] != b[i] || !a[i]) return static_cast<u8>(a[i]) - static_cast<u8>(b[i]);
  }
  return 0;
}

}  // extern "C"
