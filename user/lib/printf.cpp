// printf, snprintf and vsnprintf.
//
// One formatter writes into a Sink. snprintf's sink is the caller's buffer. printf's sink is a
// buffer on the stack that is written to fd 1 when full and at the end, so a line of normal
// length leaves in a single write() and lines of different processes do not interleave.
//
// Supported: %d %i %u %x %X %p %s %c %%; flags '-', '0' and '#' (0x before %x); a width
// (digits or '*'); a precision for %s ('.' digits or '*'); length modifiers h, hh, l, ll, z.
#include "user.hpp"

namespace {

struct Sink {
  char* buf;
  size_t cap;    // bytes of buf we may use
  size_t pos;    // bytes stored in buf
  size_t total;  // bytes produced so far (what printf/snprintf return)
  int fd;        // >= 0: flush to this fd when buf fills; < 0: truncate (snprintf)
};

void flush(Sink& s) {
  size_t done = 0;
  while (done < s.pos) {
    long n = write(s.fd, s.buf + done, s.pos - done);
    if (n <= 0) break;  // nothing better to do with a console error
    done += (size_t)n;
  }
  s.pos = 0;
}

void put(Sink& s, char c) {
  s.total++;
  if (s.fd >= 0) {
    if (s.pos == s.cap) flush(s);
    s.buf[s.pos++] = c;
  } else if (s.pos + 1 < s.cap) {  // keep room for the terminating NUL
    s.buf[s.pos++] = c;
  }
}

void put_padding(Sink& s, char c, int n) {
  for (; n > 0; n--) put(s, c);
}

// One number: digits of `v` in `base` after `prefix` ("-", "0x" or ""), in a field of `width`.
void put_number(Sink& s, unsigned long v, int base, const char* prefix, bool upper, int width,
                bool left, bool zero) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = digits[v % base];
    v /= base;
  } while (v != 0);
  int len = n + (int)strlen(prefix);
  if (!left && !zero) put_padding(s, ' ', width - len);
  for (const char* p = prefix; *p; p++) put(s, *p);
  if (!left && zero) put_padding(s, '0', width - len);
  while (n > 0) put(s, tmp[--n]);
  if (left) put_padding(s, ' ', width - len);
}

void format(Sink& s, const char* fmt, va_list ap) {
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      put(s, *fmt);
      continue;
    }
    const char* start = fmt++;
    bool left = false, zero = false, alt = false;
    for (;; fmt++) {
      if (*fmt == '-') left = true;
      else if (*fmt == '0') zero = true;
      else if (*fmt == '#') alt = true;
      else break;
    }
    int width = 0;
    if (*fmt == '*') {
      width = va_arg(ap, int);
      if (width < 0) {
        left = true;
        width = -width;
      }
      fmt++;
    } else {
      while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    }
    int precision = -1;
    if (*fmt == '.') {
      fmt++;
      precision = 0;
      if (*fmt == '*') {
        precision = va_arg(ap, int);
        fmt++;
      } else {
        while (*fmt >= '0' && *fmt <= '9') precision = precision * 10 + (*fmt++ - '0');
      }
    }
    int longs = 0;  // 0: int, 1: long, 2: long long; 'z' is long on lp64
    int shorts = 0;
    for (;; fmt++) {
      if (*fmt == 'l' || *fmt == 'z') longs++;
      else if (*fmt == 'h') shorts++;
      else break;
    }
    if (left) zero = false;

    switch (*fmt) {
      case 'd':
      case 'i': {
        long v = longs ? va_arg(ap, long) : va_arg(ap, int);
        if (shorts == 1) v = (short)v;
        if (shorts >= 2) v = (signed char)v;
        unsigned long mag = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
        put_number(s, mag, 10, v < 0 ? "-" : "", false, width, left, zero);
        break;
      }
      case 'u':
      case 'x':
      case 'X': {
        unsigned long v = longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
        if (shorts == 1) v = (unsigned short)v;
        if (shorts >= 2) v = (unsigned char)v;
        const char* prefix = "";
        if (alt && v != 0) prefix = *fmt == 'x' ? "0x" : *fmt == 'X' ? "0X" : "";
        put_number(s, v, *fmt == 'u' ? 10 : 16, prefix, *fmt == 'X', width, left, zero);
        break;
      }
      case 'p': {
        unsigned long v = (unsigned long)va_arg(ap, void*);
        put_number(s, v, 16, "0x", false, width, left, zero);
        break;
      }
      case 's': {
        const char* str = va_arg(ap, const char*);
        if (str == nullptr) str = "(null)";
        int len = 0;
        while (str[len] && (precision < 0 || len < precision)) len++;
        if (!left) put_padding(s, ' ', width - len);
        for (int i = 0; i < len; i++) put(s, str[i]);
        if (left) put_padding(s, ' ', width - len);
        break;
      }
      case 'c':
        if (!left) put_padding(s, ' ', width - 1);
        put(s, (char)va_arg(ap, int));
        if (left) put_padding(s, ' ', width - 1);
        break;
      case '%':
        put(s, '%');
        break;
      default:
        // Unknown conversion: print it as written, so the mistake is visible.
        for (const char* p = start; p <= fmt && *p; p++) put(s, *p);
        if (*fmt == 0) return;
        break;
    }
  }
}

}  // namespace

int vsnprintf(char* buf, size_t size, const char* fmt, va_list ap) {
  Sink s{buf, size, 0, 0, -1};
  format(s, fmt, ap);
  if (size > 0) buf[s.pos] = 0;
  return (int)s.total;
}

int snprintf(char* buf, size_t size, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

int printf(const char* fmt, ...) {
  char buf[512];
  Sink s{buf, sizeof buf, 0, 0, 1};
  va_list ap;
  va_start(ap, fmt);
  format(s, fmt, ap);
  va_end(ap);
  flush(s);
  return (int)s.total;
}
