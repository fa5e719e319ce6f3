// bench_app [scale]: two application-like workloads, each a mix a reader recognises.
//
//   pipeline   `gen N | sort | wc -s`: three processes exec'd from the embedded programs and
//              connected by pipes (fork, exec, pipe I/O, page allocation, a sort over the whole
//              input); one op is one line through the whole pipeline; N = 2000 * scale.
//   kv         a key-value server answering a client over two pipes: 512-byte values in a
//              table of kv_kb KiB (256 and 1024: 64 and 256 pages, more than any preset's L1
//              TLB), 10% PUT and 90% GET on pseudo-random keys; one op is one request and its
//              reply (two pipe writes, two reads, two switches); 1000 * scale requests.
//
// The client (this process) checks every reply against its own copy of the expected values.
//
// The harness's declaration of this benchmark (harness/benchspec.py reads it; TOML after `//!`):
//! [bench_app]
//! wall = false  # wall time only for bench_null and bench_ctx (reported, never ranked)
//! regions = "700 pipeline; 701 + log2(kv_kb/256) kv"
//! arguments = "scale (1)"
//! op = "`gen | sort | wc -s` of 2000 lines (per line), and a key-value server answering GET/PUT over pipes with 256 KiB and 1 MiB tables (per request)"
//! params = "`workload`, `lines` / `kv_kb`"
//! checks = "sorted output, every reply"
//! args = ["1"]
//! quick = ["1"]
//! lines = 3
//! quick_lines = 3
//! paging = true
//! [bench_app.tlb]
//! args = ["1"]
//! quick = ["1"]
//! lines = 3
//! quick_lines = 3
#include "bench.hpp"

using namespace uapi;

constexpr int REGION_APP = 700;  // 700: pipeline; 701 + log2(kv_kb / 256): kv
constexpr long VALUE = 512;

static void must(long r, const char* what) {
  if (r < 0) bench_fail("bench_app: %s failed (%ld)", what, r);
}

// Fork a child that runs `argv` with stdin `in` and stdout `out` (-1: unchanged).
static long spawn(const char* const* argv, int in, int out, const int* close_fds, int n_close) {
  long pid = fork();
  must(pid, "fork");
  if (pid == 0) {
    if (in >= 0) dup2(in, 0);
    if (out >= 0) dup2(out, 1);
    for (int i = 0; i < n_close; i++) close(close_fds[i]);
    exec(argv[0], argv);
    exit(127);
  }
  return pid;
}

static void pipeline(long lines) {
  char n[24];
  snprintf(n, sizeof n, "%ld", lines);
  const char* gen[] = {"gen", n, "7", nullptr};
  const char* sort[] = {"sort", nullptr};
  const char* wc[] = {"wc", "-s", nullptr};
  Sample a, b;
  bench_begin(a);
  TLB_REGION_BEGIN(REGION_APP);
  int p1[2], p2[2], p3[2];
  must(pipe(p1), "pipe");
  must(pipe(p2), "pipe");
  must(pipe(p3), "pipe");
  int all[] = {p1[0], p1[1], p2[0], p2[1], p3[0], p3[1]};
  long pids[3] = {spawn(gen, -1, p1[1], all, 6), spawn(sort, p1[0], p2[1], all, 6),
                  spawn(wc, p2[0], p3[1], all, 6)};
  for (int fd : all)
    if (fd != p3[0]) close(fd);
  char out[96] = {};
  long got = 0, r;
  while ((r = read(p3[0], out + got, sizeof out - 1 - got)) > 0) got += r;
  close(p3[0]);
  int bad = 0;
  for (long pid : pids) {
    int st = -1;
    if (waitpid(pid, &st, 0) != pid || st != 0) bad++;
  }
  TLB_REGION_END();
  bench_end(b);
  char want[96];
  snprintf(want, sizeof want, "%ld %ld %ld sorted\n", lines, lines, lines * 10);
  if (bad || strcmp(out, want) != 0) bench_fail("bench_app: pipeline printed '%s', want '%s' (%d stages failed)", out, want, bad);
  char params[64];
  snprintf(params, sizeof params, "{\"workload\":\"pipeline\",\"lines\":%ld}", lines);
  bench_report("bench_app", params, (uint64_t)lines, (uint64_t)lines, a, b);
}

struct Request {
  long op;   // 0 GET, 1 PUT, 2 stop
  long key;
  char value[VALUE];
};

static void fill_value(char* v, long key, long version) {
  for (long i = 0; i < VALUE; i += 8) *(long*)(v + i) = key * 1000003 + version * 7 + i;
}

// The server: a table of `keys` values in one mmap'd region.
static int kv_server(int in, int out, long keys) {
  char* table = (char*)mmap(nullptr, (size_t)(keys * VALUE), PROT_READ | PROT_WRITE);
  if ((long)table < 0) return 4;
  for (long k = 0; k < keys; k++) fill_value(table + k * VALUE, k, 0);
  static Request rq;
  for (;;) {
    char* p = (char*)&rq;
    for (long n = sizeof rq; n > 0;) {
      long r = read(in, p, n);
      if (r <= 0) return 5;
      p += r, n -= r;
    }
    if (rq.op == 2) return 0;
    if (rq.key < 0 || rq.key >= keys) return 6;
    char* slot = table + rq.key * VALUE;
    if (rq.op == 1) memcpy(slot, rq.value, VALUE);
    if (write(out, slot, VALUE) != VALUE) return 7;
  }
}

static void kv(long requests, long kv_kb) {
  long keys = kv_kb * 1024 / VALUE;
  int to_server[2], to_client[2];
  must(pipe(to_server), "pipe");
  must(pipe(to_client), "pipe");
  long pid = fork();
  must(pid, "fork");
  if (pid == 0) {
    close(to_server[1]), close(to_client[0]);
    exit(kv_server(to_server[0], to_client[1], keys));
  }
  close(to_server[0]), close(to_client[1]);
  long* version = (long*)mmap(nullptr, (size_t)(keys * sizeof(long)), PROT_READ | PROT_WRITE);
  if ((long)version < 0) bench_fail("bench_app: no memory for the client's versions");
  static Request rq;
  static char reply[VALUE], want[VALUE];
  uint64_t x = 0x2545F4914F6CDD1Dull;
  long bad = 0;
  Sample a, b;
  bench_begin(a);
  region_begin<REGION_APP + 1>(ilog2((unsigned long)(kv_kb / 256)));
  for (long i = 0; i < requests; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    rq.key = (long)(x % (uint64_t)keys);
    rq.op = (x >> 40) % 10 == 0 ? 1 : 0;
    if (rq.op == 1) fill_value(rq.value, rq.key, ++version[rq.key]);
    bench_write_exact(to_server[1], &rq, sizeof rq);
    bench_read_exact(to_client[0], reply, VALUE);
    fill_value(want, rq.key, version[rq.key]);
    bad += memcmp(reply, want, VALUE) != 0;
  }
  TLB_REGION_END();
  bench_end(b);
  rq.op = 2;
  bench_write_exact(to_server[1], &rq, sizeof rq);
  int st = -1;
  if (waitpid(pid, &st, 0) != pid || st != 0) bench_fail("bench_app: the kv server ended with status %d", st);
  close(to_server[1]), close(to_client[0]);
  munmap(version, (size_t)(keys * sizeof(long)));
  if (bad) bench_fail("bench_app: %ld of %ld replies were wrong", bad, requests);
  char params[64];
  snprintf(params, sizeof params, "{\"workload\":\"kv\",\"kv_kb\":%ld}", kv_kb);
  bench_report("bench_app", params, (uint64_t)requests, (uint64_t)requests, a, b);
}

int main(int argc, char** argv) {
  long scale = bench_arg(argc, argv, 1, 1);
  bench_init();
  pipeline(2000 * scale);
  kv(1000 * scale, 256);
  kv(1000 * scale, 1024);
  bench_mem();
  return 0;
}
