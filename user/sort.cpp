// sort: read all of stdin, sort its lines (byte order), write them out. The middle stage of the
// `gen | sort | wc` pipeline workload; a heap sort over line pointers, so no recursion and no
// memory beyond the input and one pointer per line.
#include "user.hpp"

static int cmp(const char* a, const char* b) {
  while (*a && *a == *b) a++, b++;
  return (unsigned char)*a - (unsigned char)*b;
}

static void sift(char** v, long n, long i) {
  for (;;) {
    long l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && cmp(v[l], v[m]) > 0) m = l;
    if (r < n && cmp(v[r], v[m]) > 0) m = r;
    if (m == i) return;
    char* t = v[i];
    v[i] = v[m], v[m] = t;
    i = m;
  }
}

int main(int, char**) {
  long cap = 1 << 16, len = 0;
  char* buf = (char*)malloc((size_t)cap);
  if (!buf) return 2;
  for (;;) {
    if (len + 4096 > cap) {
      char* bigger = (char*)malloc((size_t)cap * 2);
      if (!bigger) return 2;
      memcpy(bigger, buf, (size_t)len);
      free(buf);
      buf = bigger, cap *= 2;
    }
    long r = read(0, buf + len, 4096);
    if (r < 0) return 3;
    if (r == 0) break;
    len += r;
  }
  long lines = 0;
  for (long i = 0; i < len; i++) lines += buf[i] == '\n';
  if (len && buf[len - 1] != '\n') lines++;
  char** v = (char**)malloc((size_t)(lines + 1) * sizeof(char*));
  if (!v) return 2;
  long k = 0;
  for (long i = 0; i < len;) {
    v[k++] = buf + i;
    while (i < len && buf[i] != '\n') i++;
    if (i < len) buf[i++] = 0;
  }
  if (len) buf[len - 1] = buf[len - 1] == '\n' ? 0 : buf[len - 1];
  for (long i = k / 2 - 1; i >= 0; i--) sift(v, k, i);
  for (long end = k - 1; end > 0; end--) {
    char* t = v[0];
    v[0] = v[end], v[end] = t;
    sift(v, end, 0);
  }
  static char out[4096];
  size_t used = 0;
  for (long i = 0; i < k; i++) {
    size_t n = strlen(v[i]);
    if (used + n + 1 > sizeof out) {
      if (write(1, out, used) != (long)used) return 1;
      used = 0;
    }
    memcpy(out + used, v[i], n);
    out[used + n] = '\n';
    used += n + 1;
  }
  if (used && write(1, out, used) != (long)used) return 1;
  return 0;
}
