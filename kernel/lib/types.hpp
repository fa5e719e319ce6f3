// Basic freestanding types and small helpers used everywhere in the kernel.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "config.hpp"

using u8 = uint8_t;
using u16 = uint16_t;
using u32 = uint32_t;
using u64 = uint64_t;
using i64 = int64_t;
using uptr = uintptr_t;

// A value or a negative error code, as system calls return it.
enum class Error : long {
  None = 0,
  Perm = 1,
  NoEntry = 2,
  NoProcess = 3,
  TooBig = 7,
  NotExec = 8,
  BadFd = 9,
  NoChild = 10,
  Again = 11,
  NoMemory = 12,
  Fault = 14,
  Invalid = 22,
  TooManyFilesSystem = 23,  // ENFILE: the pipe table is full
  TooManyFiles = 24,        // EMFILE: this process's descriptor table is full
  BrokenPipe = 32,          // EPIPE: write to a pipe with no reader
  NameTooLong = 36,
  NoSys = 38,
};

constexpr long error_code(Error e) { return -static_cast<long>(e); }

// Result<T>: either a T or an Error. Small, trivially copyable T only.
template <typename T>
class Result {
 public:
  Result(T value) : value_(value), error_(Error::None) {}
  Result(Error e) : value_(), error_(e) {}
  bool ok() const { return error_ == Error::None; }
  Error error() const { return error_; }
  T value() const { return value_; }

 private:
  T value_;
  Error error_;
};

template <typename T>
constexpr T align_down(T v, T a) { return v & ~(a - 1); }
template <typename T>
constexpr T align_up(T v, T a) { return (v + a - 1) & ~(a - 1); }
template <typename T>
constexpr T min(T a, T b) { return a < b ? a : b; }
template <typename T>
constexpr T max(T a, T b) { return a > b ? a : b; }

extern "C" {
void* memset(void* dst, int c, size_t n);
void* memcpy(void* dst, const void* src, size_t n);
void* memmove(void* dst, const void* src, size_t n);
int memcmp(const void* a, const void* b, size_t n);
size_t strlen(const char* s);
int strcmp(const char* a, const char* b);
int strncmp(const char* a, const char* b, size_t n);
}

// Placement new without <new>.
inline void* operator new(size_t, void* p) noexcept { return p; }

template <typename T>
struct RemoveRef { using type = T; };
template <typename T>
struct RemoveRef<T&> { using type = T; };
template <typename T>
constexpr typename RemoveRef<T>::type&& move(T&& t) { return static_cast<typename RemoveRef<T>::type&&>(t); }
