// bench_pipe [iters] [sizes...]: pipes, in the style of lmbench's lat_pipe, bw_pipe and lat_ctx.
//
//   lat   one byte bounced between two processes through two pipes (lat_pipe): per round trip,
//         which is two pipe writes, two reads and two process switches;
//   bw    `size`-byte writes streamed to a reader process that drains them (bw_pipe), for each
//         size (default 64 256 1024 4096 16384 65536 bytes): per write;
//   ctx   lat_ctx over pipes: a ring of `procs` processes (2, 4, 8) passing a one-byte token,
//         each touching its own working set (0, 16, 64 KiB) before passing it on: per pass.
//
// Every mode checks the bytes it moved (a wrong byte or count fails the run). Counters are the
// measuring process's own, per op.
//
// The harness's declaration of this benchmark (harness/benchspec.py reads it; TOML after `//!`):
//! [bench_pipe]
//! wall = false  # wall time only for bench_null and bench_ctx (reported, never ranked)
//! regions = "600 lat; 601 + log2(size) bw; 620 + 8*b + p-1 ctx, b capped at 6 (620..675)"
//! arguments = "iters (2000), sizes... (64 .. 65536)"
//! op = "`lat`: one byte round trip over two pipes (lat_pipe); `bw`: writes of `size` bytes to a reader (bw_pipe); `ctx`: a token passed round a ring of 2/4/8 processes touching 0/16/64 KiB each (lat_ctx over pipes)"
//! params = "`mode`, `size` / `procs`, `ws_kb`"
//! checks = "token values, every byte"
//! args = ["1000", "64", "256", "1024", "4096", "16384", "65536"]
//! quick = ["50", "64", "4096"]
//! lines = 16
//! quick_lines = 12
//! paging = true
//! [bench_pipe.tlb]
//! args = ["200", "64"]
//! quick = ["20", "64"]
//! lines = 11
//! quick_lines = 11
#include "bench.hpp"

using namespace uapi;

constexpr int REGION_LAT = 600;  // 600: lat; 601 + log2(size): bw; 620 + 8*bucket + procs: ctx
constexpr long LINE_WORDS = 64 / sizeof(long);

static void must(long r, const char* what) {
  if (r < 0) bench_fail("bench_pipe: %s failed (%ld)", what, r);
}

static void pipe_or_fail(int fds[2]) { must(pipe(fds), "pipe"); }

static void reap(long pid) {
  int st = -1;
  if (waitpid(pid, &st, 0) != pid || st != 0) bench_fail("bench_pipe: child ended with status %d", st);
}

// lat: parent -> child -> parent, one byte each way, the byte incremented by the child.
static void lat(long iters) {
  int down[2], up[2];
  pipe_or_fail(down);
  pipe_or_fail(up);
  long pid = fork();
  must(pid, "fork");
  if (pid == 0) {
    close(down[1]), close(up[0]);
    unsigned char c;
    for (;;) {
      long r = read(down[0], &c, 1);
      if (r == 0) exit(0);
      if (r != 1) exit(2);
      c++;
      if (write(up[1], &c, 1) != 1) exit(3);
    }
  }
  close(down[0]), close(up[1]);
  unsigned char c = 0;
  for (long i = 0; i < iters / 10 + 10; i++) {  // warm up both processes
    bench_write_exact(down[1], &c, 1);
    bench_read_exact(up[0], &c, 1);
  }
  Sample a, b;
  unsigned char start = c;
  bench_begin(a);
  TLB_REGION_BEGIN(REGION_LAT);
  for (long i = 0; i < iters; i++) {
    bench_write_exact(down[1], &c, 1);
    bench_read_exact(up[0], &c, 1);
  }
  TLB_REGION_END();
  bench_end(b);
  close(down[1]), close(up[0]);
  reap(pid);
  if (c != (unsigned char)(start + iters)) bench_fail("bench_pipe: lat token %u, want %u", c, (unsigned char)(start + iters));
  bench_report("bench_pipe", "{\"mode\":\"lat\",\"size\":1}", iters, iters, a, b);
}

// bw: `writes` writes of `size` bytes; the reader checks every byte and acknowledges the total.
static void bw(long writes, long size, char* buf) {
  int data[2], ack[2];
  pipe_or_fail(data);
  pipe_or_fail(ack);
  long pid = fork();
  must(pid, "fork");
  if (pid == 0) {
    close(data[1]), close(ack[0]);
    long total = 0, bad = 0;
    for (;;) {
      long r = read(data[0], buf, size);
      if (r < 0) exit(2);
      if (r == 0) break;
      for (long i = 0; i < r; i += 512) bad += buf[i] != (char)((total + i) / 512);
      total += r;
    }
    long reply[2] = {total, bad};
    exit(write(ack[1], reply, sizeof reply) == sizeof reply ? 0 : 3);
  }
  close(data[0]), close(ack[1]);
  Sample a, b;
  long sent = 0;
  bench_begin(a);
  region_begin<REGION_LAT + 1>(ilog2((unsigned long)size));
  for (long i = 0; i < writes; i++) {
    for (long k = 0; k < size; k += 512) buf[k] = (char)((sent + k) / 512);
    bench_write_exact(data[1], buf, size);
    sent += size;
  }
  TLB_REGION_END();
  bench_end(b);
  close(data[1]);
  long reply[2];
  bench_read_exact(ack[0], reply, sizeof reply);
  close(ack[0]);
  reap(pid);
  if (reply[0] != sent || reply[1] != 0)
    bench_fail("bench_pipe: bw %ld bytes: the reader got %ld, %ld wrong", sent, reply[0], reply[1]);
  char params[64];
  snprintf(params, sizeof params, "{\"mode\":\"bw\",\"size\":%ld}", size);
  bench_report("bench_pipe", params, writes, writes, a, b);
}

static long touch(const volatile long* ws, long words) {
  long sum = 0;
  for (long i = 0; i < words; i += LINE_WORDS) sum += ws[i];
  return sum;
}

// ctx: a ring of `procs` processes; process i reads the token from pipe i, touches its working
// set, writes the token + 1 to pipe i+1. The parent is process 0 and measures its passes.
static void ctx(long iters, long procs, long ws_kb) {
  constexpr long MAX = 8;
  int ring[MAX][2];
  for (long i = 0; i < procs; i++) pipe_or_fail(ring[i]);
  long words = ws_kb * 1024 / (long)sizeof(long);
  long total = iters + iters / 10 + 10;
  long pids[MAX] = {};
  for (long i = 1; i < procs; i++) {
    long pid = fork();
    must(pid, "fork");
    if (pid == 0) {
      long* ws = words ? (long*)mmap(nullptr, ws_kb * 1024, PROT_READ | PROT_WRITE) : nullptr;
      if (words && (long)ws < 0) exit(4);
      for (long w = 0; w < words; w++) ws[w] = w;
      int in = ring[i][0], out = ring[(i + 1) % procs][1];
      long token;
      for (long pass = 0; pass < total; pass++) {
        if (read(in, &token, sizeof token) != sizeof token) exit(5);
        touch(ws, words);
        token++;
        if (write(out, &token, sizeof token) != sizeof token) exit(6);
      }
      exit(0);
    }
    pids[i] = pid;
  }
  long* ws = words ? (long*)mmap(nullptr, ws_kb * 1024, PROT_READ | PROT_WRITE) : nullptr;
  if (words && (long)ws < 0) bench_fail("bench_pipe: mmap of the working set failed");
  for (long w = 0; w < words; w++) ws[w] = w;
  int in = ring[0][0], out = ring[1 % procs][1];
  long token = 0;
  auto pass = [&] {
    touch(ws, words);
    token++;
    bench_write_exact(out, &token, sizeof token);
    bench_read_exact(in, &token, sizeof token);
  };
  for (long p = 0; p < total - iters; p++) pass();
  long before = token;
  Sample a, b;
  sample_begin(a);
  int bucket = ws_kb == 0 ? 0 : 1 + ilog2((unsigned long)ws_kb);
  region_begin<REGION_LAT + 20>(8 * (bucket > 6 ? 6 : bucket) + (int)procs - 1);
  for (long p = 0; p < iters; p++) pass();
  TLB_REGION_END();
  bench_end(b);
  for (long i = 0; i < procs; i++) close(ring[i][0]), close(ring[i][1]);
  for (long i = 1; i < procs; i++) reap(pids[i]);
  if (token - before != iters * procs) bench_fail("bench_pipe: ctx token advanced %ld, want %ld", token - before, iters * procs);
  char params[80];
  snprintf(params, sizeof params, "{\"mode\":\"ctx\",\"procs\":%ld,\"ws_kb\":%ld}", procs, ws_kb);
  // Per switch: each pass of the ring is `procs` switches.
  bench_report("bench_pipe", params, (uint64_t)(iters * procs), (uint64_t)iters, a, b);
}

int main(int argc, char** argv) {
  long iters = bench_arg(argc, argv, 1, 2000);
  static const long default_sizes[] = {64, 256, 1024, 4096, 16384, 65536};
  long sizes[16];
  int n = 0;
  for (int i = 2; i < argc && n < 16; i++) sizes[n++] = bench_arg(argc, argv, i, 64, 1);
  if (n == 0)
    for (long s : default_sizes) sizes[n++] = s;
  bench_init();
  lat(iters);
  long max = 0;
  for (int i = 0; i < n; i++) max = sizes[i] > max ? sizes[i] : max;
  char* buf = (char*)mmap(nullptr, (size_t)max, PROT_READ | PROT_WRITE);
  if ((long)buf < 0) bench_fail("bench_pipe: no buffer of %ld bytes", max);
  for (int i = 0; i < n; i++) {
    // The same number of bytes for every size (at least 64 writes): comparable totals.
    long writes = (iters * 64) / sizes[i];
    if (writes < 64) writes = 64;
    bw(writes, sizes[i], buf);
  }
  static const long procs_list[] = {2, 4, 8};
  static const long ws_list[] = {0, 16, 64};
  for (long p : procs_list)
    for (long w : ws_list) ctx(iters / 4 + 1, p, w);
  bench_mem();
  return 0;
}
