// wc [-s]: count the lines, words and bytes of stdin and print "LINES WORDS BYTES". With -s it
// also checks that the lines are in ascending byte order and prints "sorted" or "unsorted":
// the last stage of the `gen | sort | wc -s` pipeline workload.
#include "user.hpp"

int main(int argc, char** argv) {
  bool check = argc > 1 && strcmp(argv[1], "-s") == 0;
  static char buf[4096];
  static char prev[256], cur[256];
  long lines = 0, words = 0, bytes = 0, curlen = 0;
  bool in_word = false, sorted = true, have_prev = false;
  for (;;) {
    long r = read(0, buf, sizeof buf);
    if (r < 0) return 3;
    if (r == 0) break;
    bytes += r;
    for (long i = 0; i < r; i++) {
      char c = buf[i];
      bool space = c == ' ' || c == '\n' || c == '\t';
      if (!space && !in_word) words++;
      in_word = !space;
      if (c == '\n') {
        lines++;
        cur[curlen < 255 ? curlen : 255] = 0;
        if (check && have_prev && strcmp(prev, cur) > 0) sorted = false;
        strcpy(prev, cur);
        have_prev = true;
        curlen = 0;
      } else if (curlen < 255) {
        cur[curlen++] = c;
      }
    }
  }
  printf("%ld %ld %ld%s\n", lines, words, bytes, check ? (sorted ? " sorted" : " unsorted") : "");
  return check && !sorted ? 1 : 0;
}
