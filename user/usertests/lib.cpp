// usertests: the user library (printf, strings, malloc).
#include "framework.hpp"

namespace {

TEST(printf) {
  char buf[128];
  snprintf(buf, sizeof buf, "%d|%5d|%-5d|%05d|%x|%X|%lx|%c|%%|%s|%.3s|%3s", -42, 42, 42, -42, 255,
           255, 0xdeadbeefcaful, 'c', "str", "abcdef", "x");
  const char* want = "-42|   42|42   |-0042|ff|FF|deadbeefcaf|c|%|str|abc|  x";
  CHECK(strcmp(buf, want) == 0, "got '%s', want '%s'", buf, want);
  snprintf(buf, sizeof buf, "%ld %lu %zu %u %p", (long)(1ul << 63), ~0ul, (size_t)7, ~0u,
           (void*)0x1234);
  want = "-9223372036854775808 18446744073709551615 7 4294967295 0x1234";
  CHECK(strcmp(buf, want) == 0, "got '%s', want '%s'", buf, want);
  snprintf(buf, sizeof buf, "%#x|%#08x|%#x|%8p|%-6x|", 255, 255, 0, (void*)0xab, 0xab);
  want = "0xff|0x0000ff|0|    0xab|ab    |";
  CHECK(strcmp(buf, want) == 0, "got '%s', want '%s'", buf, want);
  const char* volatile nothing = nullptr;
  snprintf(buf, sizeof buf, "%s", nothing);
  CHECK(strcmp(buf, "(null)") == 0, "null string printed as '%s'", buf);
  EXPECT(snprintf(buf, 4, "hello"), 5);
  CHECK(strcmp(buf, "hel") == 0, "truncated to '%s'", buf);
  EXPECT(snprintf(nullptr, 0, "%d", 12345), 5);
  return true;
}

TEST(string) {
  char buf[32];
  strcpy(buf, "0123456789");
  memmove(buf + 2, buf, 5);  // overlapping, forwards
  CHECK(memcmp(buf, "0101234789", 10) == 0, "memmove forwards gave '%s'", buf);
  strcpy(buf, "0123456789");
  memmove(buf, buf + 3, 5);  // overlapping, backwards
  CHECK(memcmp(buf, "3456756789", 10) == 0, "memmove backwards gave '%s'", buf);
  CHECK(memcmp("abc", "abd", 3) < 0 && memcmp("abd", "abc", 3) > 0, "memcmp order");
  CHECK(strcmp("abc", "abc") == 0 && strcmp("ab", "abc") < 0 && strcmp("b", "abc") > 0, "strcmp");
  CHECK(strncmp("abcx", "abcy", 3) == 0 && strncmp("abcx", "abcy", 4) < 0, "strncmp");
  EXPECT(strlen(""), 0);
  EXPECT(strlen("hello"), 5);
  EXPECT(atol("12345"), 12345);
  EXPECT(atol("-77"), -77);
  EXPECT(atol("abc"), 0);
  EXPECT(atol("12x"), 0);
  static char big[1000];
  memset(big + 3, 0x5a, 900);
  for (int i = 0; i < 1000; i++) CHECK(big[i] == ((i >= 3 && i < 903) ? 0x5a : 0), "memset at %d", i);
  return true;
}

TEST(malloc) {
  char* blocks[40];
  for (int i = 0; i < 40; i++) {
    size_t n = (size_t)(i * 97 + 1);
    blocks[i] = (char*)malloc(n);
    CHECK(blocks[i] != nullptr, "malloc(%zu) failed", n);
    CHECK(((uintptr_t)blocks[i] & 15) == 0, "malloc result %p not 16-byte aligned", blocks[i]);
    memset(blocks[i], i, n);
  }
  for (int i = 1; i < 40; i += 2) free(blocks[i]);
  for (int i = 1; i < 40; i += 2) {
    blocks[i] = (char*)malloc((size_t)(i * 97 + 1));
    CHECK(blocks[i] != nullptr, "malloc after free failed");
    memset(blocks[i], i, (size_t)(i * 97 + 1));
  }
  for (int i = 0; i < 40; i++)
    for (int k = 0; k < i * 97 + 1; k++) CHECK(blocks[i][k] == (char)i, "block %d overwritten", i);
  for (int i = 0; i < 40; i++) free(blocks[i]);
  char* big = (char*)malloc(1 << 20);
  CHECK(big != nullptr, "malloc(1 MiB) failed");
  big[0] = 1, big[(1 << 20) - 1] = 2;
  free(big);
  CHECK(malloc(1ul << 45) == nullptr, "an impossible malloc succeeded");
  return true;
}

}  // namespace
