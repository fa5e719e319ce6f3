// Basic freestanding types and small helpers used everywhere in the kernel.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "config.hpp"
#include "uapi/syscall.h"

using u8 = uint8_t;
using u16 = uint16_t;
using u32 = uint32_t;
using u64 = uint64_t;
using i64 = int64_t;
using uptr = uintptr_t;

// Kernel error codes. One convention inside the kernel: a function that can fail returns Error
// or Result<T> (both [[nodiscard]], so a dropped error is a compiler error with -Werror); the
// negative errno a user sees is made only at the system-call boundary (error_code, to_syscall).
enum class [[nodiscard]] Error : long {
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

// The numbers are the ABI's (include/uapi/syscall.h): tied here, so neither list can drift.
static_assert(long(Error::Perm) == uapi::EPERM && long(Error::NoEntry) == uapi::ENOENT &&
              long(Error::NoProcess) == uapi::ESRCH && long(Error::TooBig) == uapi::E2BIG &&
              long(Error::NotExec) == uapi::ENOEXEC && long(Error::BadFd) == uapi::EBADF &&
              long(Error::NoChild) == uapi::ECHILD && long(Error::Again) == uapi::EAGAIN &&
              long(Error::NoMemory) == uapi::ENOMEM && long(Error::Fault) == uapi::EFAULT &&
              long(Error::Invalid) == uapi::EINVAL && long(Error::TooManyFilesSystem) == uapi::ENFILE &&
              long(Error::TooManyFiles) == uapi::EMFILE && long(Error::BrokenPipe) == uapi::EPIPE &&
              long(Error::NameTooLong) == uapi::ENAMETOOLONG && long(Error::NoSys) == uapi::ENOSYS,
              "kernel Error must equal uapi::Errno");

constexpr long error_code(Error e) { return -static_cast<long>(e); }

// Result<T>: either a T or an Error. Small, trivially copyable T only.
template <typename T>
class [[nodiscard]] Result {
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

// The system-call boundary: a result as the user sees it in a0 (a value, or -errno).
inline long to_syscall(Result<long> r) { return r.ok() ? r.value() : error_code(r.error()); }
inline long to_syscall(Error e) { return error_code(e); }

// TRY(expr): evaluate an Error or Result<T>; on failure return the error from the enclosing
// function (which returns Error or some Result<U>); else the expression's value (none for Error).
inline bool try_failed(Error e) { return e != Error::None; }
inline Error try_error(Error e) { return e; }
inline void try_value(Error) {}
template <typename T>
bool try_failed(const Result<T>& r) { return !r.ok(); }
template <typename T>
Error try_error(const Result<T>& r) { return r.error(); }
template <typename T>
T try_value(const Result<T>& r) { return r.value(); }
#define TRY(expr)                                          \
  ({                                                       \
    auto try_result_ = (expr);                             \
    if (try_failed(try_result_)) return try_error(try_result_); \
    try_value(try_result_);                                \
  })

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
