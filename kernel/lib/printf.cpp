// A small vsnprintf: %d %i %u %x %p %s %c %% with l/ll/z modifiers, width and zero padding.
#include "lib/log.hpp"

#include "arch/riscv.hpp"

namespace {

// Formatted output into buf; a streaming Out (kprintf) writes buf to the console each time it
// fills, so it needs no buffer that outlives the call.
struct Out {
  char* buf;
  size_t size;
  size_t len = 0;
  bool stream = false;
  size_t pending = 0;
  void put(char c) {
    len++;
    if (stream) {
      buf[pending++] = c;
      if (pending == size) flush();
    } else if (len < size) {
      buf[len - 1] = c;
    }
  }
  void flush() {
    console_write(buf, pending);
    pending = 0;
  }
};

void put_number(Out& out, u64 v, unsigned base, bool negative, int width, char pad) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[v % base];
    v /= base;
  } while (v);
  if (negative) digits[n++] = '-';
  for (int i = n; i < width; i++) out.put(pad);
  while (n) out.put(digits[--n]);
}

}  // namespace

namespace {

void format(Out& out, const char* fmt, va_list ap) {
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      out.put(*fmt);
      continue;
    }
    fmt++;
    char pad = ' ';
    int width = 0;
    if (*fmt == '0') pad = '0', fmt++;
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    int longs = 0;
    while (*fmt == 'l' || *fmt == 'z') longs++, fmt++;
    switch (*fmt) {
      case 'd':
      case 'i': {
        i64 v = longs ? va_arg(ap, i64) : va_arg(ap, int);
        put_number(out, v < 0 ? -static_cast<u64>(v) : v, 10, v < 0, width, pad);
        break;
      }
      case 'u':
        put_number(out, longs ? va_arg(ap, u64) : va_arg(ap, unsigned), 10, false, width, pad);
        break;
      case 'x':
        put_number(out, longs ? va_arg(ap, u64) : va_arg(ap, unsigned), 16, false, width, pad);
        break;
      case 'p':
        out.put('0'), out.put('x');
        put_number(out, va_arg(ap, u64), 16, false, 16, '0');
        break;
      case 's': {
        const char* s = va_arg(ap, const char*);
        if (!s) s = "(null)";
        size_t n = strlen(s);
        for (size_t i = n; i < size_t(width); i++) out.put(' ');
        while (*s) out.put(*s++);
        break;
      }
      case 'c':
        out.put(static_cast<char>(va_arg(ap, int)));
        break;
      case '%':
        out.put('%');
        break;
      default:
        out.put('%');
        if (*fmt) out.put(*fmt); else fmt--;
    }
  }
}

}  // namespace

int kvsnprintf(char* buf, size_t size, const char* fmt, va_list ap) {
  Out out{buf, size};
  format(out, fmt, ap);
  if (size) buf[out.len < size ? out.len : size - 1] = 0;
  return static_cast<int>(out.len);
}

int ksnprintf(char* buf, size_t size, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = kvsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

void console_write(const char* s, size_t len) {
  // The SBI debug console takes a physical address.
  while (len) {
    long n = sbi::console_write(kernel_phys_addr(s), len);
    if (n <= 0) break;
    s += n, len -= n;
  }
}

// The SBI console takes a physical address, so the buffer must be in the kernel image (the
// window), not on a kernel stack. One buffer per nesting level: a trap taken inside kprintf (a
// fault while formatting) prints its report with kprintf, which must not overwrite this call's
// text. Deeper nesting (a fault inside that report) shares the last level.
void kprintf(const char* fmt, ...) {
  constexpr int LEVELS = 3;
  static char bufs[LEVELS][128];
  static int depth = 0;
  char* buf = bufs[depth < LEVELS ? depth : LEVELS - 1];
  depth++;
  Out out{buf, sizeof bufs[0]};
  out.stream = true;
  va_list ap;
  va_start(ap, fmt);
  format(out, fmt, ap);
  va_end(ap);
  out.flush();
  depth--;
}
