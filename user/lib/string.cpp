// Strings and memory.
//
// GCC may compile the compiler-generated calls (struct copies, zeroing) into calls to memcpy
// and memset, and at -O2 it may also turn a byte loop back into a call to memset or memcpy.
// Inside memset that would be infinite recursion, so these functions are built with that
// loop-pattern recognition switched off.
#include "user.hpp"

#define NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))

extern "C" {

NO_LIBCALLS size_t strlen(const char* s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

NO_LIBCALLS int strcmp(const char* a, const char* b) {
  while (*a && *a == *b) {
    a++;
    b++;
  }
  return (unsigned char)*a - (unsigned char)*b;
}

NO_LIBCALLS int strncmp(const char* a, const char* b, size_t n) {
  for (; n > 0; n--, a++, b++) {
    if (*a != *b || *a == 0) return (unsigned char)*a - (unsigned char)*b;
  }
  return 0;
}

NO_LIBCALLS char* strcpy(char* dst, const char* src) {
  char* d = dst;
  while ((*d++ = *src++) != 0) {
  }
  return dst;
}

// memset and memcpy go a word at a time when they can: the benchmarks and tests fill and
// compare buffers of up to 64 KiB, and byte loops would dominate their user-mode time.
NO_LIBCALLS void* memset(void* dst, int c, size_t n) {
  unsigned char* d = (unsigned char*)dst;
  unsigned char b = (unsigned char)c;
  while (n > 0 && ((uintptr_t)d & 7) != 0) {
    *d++ = b;
    n--;
  }
  uint64_t word = b * 0x0101010101010101ull;
  for (; n >= 8; n -= 8, d += 8) *(uint64_t*)d = word;
  while (n-- > 0) *d++ = b;
  return dst;
}

NO_LIBCALLS void* memcpy(void* dst, const void* src, size_t n) {
  unsigned char* d = (unsigned char*)dst;
  const unsigned char* s = (const unsigned char*)src;
  if ((((uintptr_t)d ^ (uintptr_t)s) & 7) == 0) {
    while (n > 0 && ((uintptr_t)d & 7) != 0) {
      *d++ = *s++;
      n--;
    }
    for (; n >= 8; n -= 8, d += 8, s += 8) *(uint64_t*)d = *(const uint64_t*)s;
  }
  while (n-- > 0) *d++ = *s++;
  return dst;
}

NO_LIBCALLS void* memmove(void* dst, const void* src, size_t n) {
  unsigned char* d = (unsigned char*)dst;
  const unsigned char* s = (const unsigned char*)src;
  if (d == s || n == 0) return dst;
  if (d < s || d >= s + n) return memcpy(dst, src, n);  // no harmful overlap
  // dst overlaps the tail of src: copy backwards.
  d += n;
  s += n;
  while (n-- > 0) *--d = *--s;
  return dst;
}

NO_LIBCALLS int memcmp(const void* a, const void* b, size_t n) {
  const unsigned char* x = (const unsigned char*)a;
  const unsigned char* y = (const unsigned char*)b;
  for (; n > 0; n--, x++, y++) {
    if (*x != *y) return *x - *y;
  }
  return 0;
}

}  // extern "C"

long atol(const char* s) {
  bool neg = false;
  if (*s == '-') {
    neg = true;
    s++;
  }
  if (*s < '0' || *s > '9') return 0;
  unsigned long v = 0;
  while (*s >= '0' && *s <= '9') v = v * 10 + (unsigned long)(*s++ - '0');
  if (*s != 0) return 0;  // trailing garbage: the whole string is not a number
  return neg ? -(long)v : (long)v;
}
