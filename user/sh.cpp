// sh: a small interactive shell, the default first program.
//
//   $ bench_null 1000          run an embedded program with arguments (fork, exec, waitpid)
//   $ ls                       list the embedded programs
//   $ exit [status]            leave the shell
//
// The console hands us raw bytes without echo or line editing, so the shell does both:
// printable characters are echoed, backspace (0x7f or 0x08) erases, CR or LF ends the line.
#include "user.hpp"

using namespace uapi;

static constexpr int MAX_LINE = 256;
static constexpr int MAX_ARGS = 32;  // the kernel's exec limit

// Read one line into buf (NUL-terminated, without the newline), echoing as we go.
static void read_line(char* buf, int size) {
  int len = 0;
  static bool last_was_cr = false;  // CR LF from a terminal is one line end, not two
  for (;;) {
    char c;
    long n = read(0, &c, 1);
    if (n <= 0) {
      // The console should block until a byte arrives; if it fails, do not spin hot.
      sleep_ns(10 * 1000 * 1000);
      continue;
    }
    if (c == '\n' && last_was_cr) {
      last_was_cr = false;
      continue;
    }
    last_was_cr = (c == '\r');
    if (c == '\r' || c == '\n') {
      write(1, "\n", 1);
      buf[len] = 0;
      return;
    }
    if (c == 0x7f || c == 0x08) {
      if (len > 0) {
        len--;
        write(1, "\b \b", 3);
      }
      continue;
    }
    if (c == 0x15) {  // ^U: erase the whole line
      for (; len > 0; len--) write(1, "\b \b", 3);
      continue;
    }
    if (c < ' ' || c > '~') continue;  // other control bytes and non-ASCII are ignored
    if (len < size - 1) {
      buf[len++] = c;
      write(1, &c, 1);
    }
  }
}

// Split line in place at spaces and tabs; returns argc, argv ends with nullptr.
static int split(char* line, char** argv) {
  int argc = 0;
  char* p = line;
  for (;;) {
    while (*p == ' ' || *p == '\t') *p++ = 0;
    if (*p == 0) break;
    if (argc == MAX_ARGS) {
      printf("sh: too many arguments (at most %d)\n", MAX_ARGS);
      return -1;
    }
    argv[argc++] = p;
    while (*p && *p != ' ' && *p != '\t') p++;
  }
  argv[argc] = nullptr;
  return argc;
}

// The NUL-separated names of the embedded programs; returns the byte count (0 on error).
static long program_list(char* buf, size_t size) {
  long n = programs(buf, size - 1);
  if (n < 0) return 0;
  if ((size_t)n > size - 1) n = (long)(size - 1);
  buf[n] = 0;
  return n;
}

static bool is_program(const char* name) {
  static char names[2048];
  long n = program_list(names, sizeof names);
  for (long i = 0; i < n; i += (long)strlen(names + i) + 1) {
    if (strcmp(names + i, name) == 0) return true;
  }
  return false;
}

static void cmd_ls() {
  static char names[2048];
  long n = program_list(names, sizeof names);
  for (long i = 0; i < n; i += (long)strlen(names + i) + 1) {
    if (names[i]) printf("%s\n", names + i);
  }
}

static void cmd_help() {
  printf("builtins:\n"
         "  help            this text\n"
         "  ls              list the programs you can run\n"
         "  exit [status]   leave the shell\n"
         "anything else runs the named program: NAME [ARGS...]\n");
}

static void run(char** argv) {
  if (!is_program(argv[0])) {
    printf("sh: %s: not found\n", argv[0]);
    return;
  }
  long pid = fork();
  if (pid < 0) {
    printf("sh: fork failed (%ld)\n", pid);
    return;
  }
  if (pid == 0) {
    long r = exec(argv[0], argv);
    if (r == -ENOENT) printf("sh: %s: not found\n", argv[0]);
    else printf("sh: %s: exec failed (%ld)\n", argv[0], r);
    exit(127);
  }
  int status = 0;
  long r = waitpid(pid, &status, 0);
  if (r != pid) printf("sh: waitpid failed (%ld)\n", r);
  else if (status != 0) printf("[exit %d]\n", status);
}

int main(int, char**) {
  static char line[MAX_LINE];
  char* argv[MAX_ARGS + 1];
  for (;;) {
    printf("$ ");
    read_line(line, sizeof line);
    int argc = split(line, argv);
    if (argc <= 0) continue;
    if (strcmp(argv[0], "help") == 0) {
      cmd_help();
    } else if (strcmp(argv[0], "ls") == 0) {
      cmd_ls();
    } else if (strcmp(argv[0], "exit") == 0) {
      return argc > 1 ? (int)atol(argv[1]) : 0;
    } else {
      run(argv);
    }
    // As the first process we inherit orphans; reap any that have finished.
    int status;
    while (waitpid(-1, &status, WNOHANG) > 0) {
    }
  }
}
