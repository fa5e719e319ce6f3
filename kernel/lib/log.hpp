// Kernel console output: printf-style formatting, log levels, panic.
#pragma once

#include <stdarg.h>

#include "lib/types.hpp"

int kvsnprintf(char* buf, size_t size, const char* fmt, va_list ap);
int ksnprintf(char* buf, size_t size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
void kprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// Write raw bytes to the console (physically contiguous kernel memory).
void console_write(const char* s, size_t len);

[[noreturn]] void panic(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// Print the kernel call chain starting at frame pointer `fp` (link-time addresses).
void backtrace(u64 fp);

#define LOG_ERROR(...) kprintf(__VA_ARGS__)
#define LOG_INFO(...)                                \
  do {                                               \
    if (config::log_level >= 1) kprintf(__VA_ARGS__); \
  } while (0)
#define LOG_DEBUG(...)                               \
  do {                                               \
    if (config::log_level >= 2) kprintf(__VA_ARGS__); \
  } while (0)

#define KASSERT(cond)                                                      \
  do {                                                                     \
    if (!(cond)) panic("assertion failed: %s at %s:%d", #cond, __FILE__, __LINE__); \
  } while (0)

// The physical address of kernel memory at `p` (mm/kview.cpp: lib/ does not know the window).
u64 kernel_phys_addr(const void* p);

// End QEMU with this exit status (0 = success) through the virt test device.
[[noreturn]] void power_off(int status);
