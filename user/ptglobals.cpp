// ptglobals: no page-table page that a process's table owns may hold a global (G) entry
// (issue 16, bug 2). Those pages are freed when the process's table is destroyed, after a fence
// scoped to its ASID, and the privileged spec says such a fence does not order global entries:
// a cached walk through a freed (and reused) page could survive it.
//
// Prints `@ptglobals {"self":N,"child":M}` (diag DIAG_PRIVATE_GLOBALS in this process and in a
// forked child) and exits 0 only when both are 0. Needs CONFIG_DIAG=y.
#include "user.hpp"

using namespace uapi;

int main(int, char**) {
  long self = diag(DIAG_PRIVATE_GLOBALS, 0);
  int fds[2];
  if (pipe(fds) != 0) return 2;
  long pid = fork();
  if (pid < 0) return 2;
  if (pid == 0) {
    long n = diag(DIAG_PRIVATE_GLOBALS, 0);
    write(fds[1], &n, sizeof n);
    exit(0);
  }
  long child = -1;
  if (read(fds[0], &child, sizeof child) != (long)sizeof child) return 2;
  int st = -1;
  if (waitpid(pid, &st, 0) != pid || st != 0) return 2;
  printf("@ptglobals {\"self\":%ld,\"child\":%ld}\n", self, child);
  return self == 0 && child == 0 ? 0 : 1;
}
