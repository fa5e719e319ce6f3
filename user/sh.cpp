// sh: a small interactive shell, the default first program.
//
//   $ bench_null 1000          run an embedded program with arguments (fork, exec, waitpid)
//   $ gen 1000 | sort | wc     a pipeline: each stage's stdout is the next one's stdin
//   $ ls                       list the embedded programs
//   $ exit [status]            leave the shell
//
// `sh -c WORD...` runs the words as one command line and exits with its status (the kernel
// command line `init=sh -c gen 100 | wc` runs a pipeline without a terminal).
//
// Ctrl-C while a job runs kills its processes (kill(2) on each; the shell polls the console).
//
// The console hands us raw bytes without echo or line editing, so the shell does both:
// printable characters are echoed, backspace (0x7f or 0x08) erases, CR or LF ends the line.
#include "user.hpp"

using namespace uapi;

static constexpr int MAX_LINE = 256;
static constexpr int MAX_ARGS = 32;  // the kernel's exec limit

// Bytes typed while a job ran (the shell watches the console for Ctrl-C then): the next
// command line starts with them.
static char typeahead[MAX_LINE];
static int typeahead_len = 0;

// Read one line into buf (NUL-terminated, without the newline), echoing as we go.
static void read_line(char* buf, int size) {
  int len = 0;
  static bool last_was_cr = false;  // CR LF from a terminal is one line end, not two
  int typeahead_at = 0;
  for (;;) {
    char c;
    long n = 1;
    if (typeahead_at < typeahead_len) c = typeahead[typeahead_at++];
    else typeahead_len = typeahead_at = 0, n = read(0, &c, 1);
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
         "anything else runs the named program: NAME [ARGS...]\n"
         "or a pipeline: NAME [ARGS...] | NAME [ARGS...] ...\n");
}

static constexpr int MAX_STAGES = 8;

// Run `argv` as a pipeline: the words split at each "|" into stages, stage i's stdout feeding
// stage i+1's stdin through a pipe. Returns the last stage's exit status (127: not run).
static constexpr char CTRL_C = 0x03;

// Wait for the job's processes (reaping each; status[i] gets pids[i]'s status). Interactive:
// poll the console meanwhile; Ctrl-C kills every one still running (they are our children)
// and says so; other bytes are kept for the next command line. A job that reads the console
// itself competes with this poll for typed bytes.
static void wait_job(const long* pids, int* status, int n, bool interactive) {
  bool done[MAX_STAGES] = {};
  int left = n;
  bool interrupted = false;
  while (left > 0) {
    for (int i = 0; i < n; i++) {
      if (done[i]) continue;
      long r = waitpid(pids[i], &status[i], interactive && !interrupted ? int(WNOHANG) : 0);
      if (r == 0) continue;
      if (r != pids[i]) printf("sh: waitpid failed (%ld)\n", r), status[i] = 127;
      done[i] = true, left--;
    }
    if (left == 0) break;
    char c;
    if (console_poll(&c, 1) == 1) {
      if (c == CTRL_C) {
        for (int i = 0; i < n; i++)
          if (!done[i]) kill(pids[i]);
        printf("^C\nsh: interrupted\n");
        interrupted = true;  // now wait for them without polling
        continue;
      }
      if (typeahead_len < MAX_LINE) typeahead[typeahead_len++] = c;
    }
    sleep_ns(10 * 1000 * 1000);  // about a tick: the job keeps the CPU meanwhile
  }
}

static int run(char** argv, bool interactive) {
  char** stage[MAX_STAGES];
  int stages = 0;
  stage[stages++] = argv;
  for (char** a = argv; *a; a++) {
    if (strcmp(*a, "|") != 0) continue;
    *a = nullptr;
    if (stages == MAX_STAGES) {
      printf("sh: at most %d stages in a pipeline\n", MAX_STAGES);
      return 127;
    }
    stage[stages++] = a + 1;
  }
  for (int i = 0; i < stages; i++) {
    if (!stage[i][0]) {
      printf("sh: empty command in a pipeline\n");
      return 127;
    }
    if (!is_program(stage[i][0])) {
      printf("sh: %s: not found\n", stage[i][0]);
      return 127;
    }
  }
  long pids[MAX_STAGES];
  int in = 0;  // the stdin of the next stage (0: ours)
  int started = 0;
  for (int i = 0; i < stages; i++) {
    int fds[2] = {-1, -1};
    if (i + 1 < stages && pipe(fds) < 0) {
      printf("sh: pipe failed\n");
      break;
    }
    long pid = fork();
    if (pid < 0) {
      printf("sh: fork failed (%ld)\n", pid);
      if (fds[0] >= 0) close(fds[0]), close(fds[1]);
      break;
    }
    if (pid == 0) {
      if (in != 0) dup2(in, 0), close(in);
      if (fds[1] >= 0) dup2(fds[1], 1), close(fds[1]), close(fds[0]);
      long r = exec(stage[i][0], stage[i]);
      printf("sh: %s: exec failed (%ld)\n", stage[i][0], r);
      exit(127);
    }
    pids[started++] = pid;
    if (in != 0) close(in);
    if (fds[1] >= 0) close(fds[1]);
    in = fds[0];
  }
  if (in > 0) close(in);
  int status[MAX_STAGES];
  wait_job(pids, status, started, interactive);
  int last = started == stages ? status[stages - 1] : 127;
  return last;
}

static int run_line(char** argv, bool interactive) {
  int status = run(argv, interactive);
  if (interactive && status != 0) printf("[exit %d]\n", status);
  return status;
}

int main(int argc_in, char** argv_in) {
  static char line[MAX_LINE];
  char* argv[MAX_ARGS + 1];
  if (argc_in >= 2 && strcmp(argv_in[1], "-c") == 0) {
    int n = 0;
    for (int i = 2; i < argc_in && n < MAX_ARGS; i++) argv[n++] = argv_in[i];
    argv[n] = nullptr;
    return n ? run_line(argv, false) : 0;
  }
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
      run_line(argv, true);
    }
    // As the first process we inherit orphans; reap any that have finished.
    int status;
    while (waitpid(-1, &status, WNOHANG) > 0) {
    }
  }
}
