// bench_kv_harts [requests]: bench_app's key-value server (512-byte values in a 256 KiB table,
// 10% writes) with N client threads, one pinned to each online hart, each talking to its own
// server thread over its own pair of pipes. The server is one process whose threads share the
// table; client i writes only the keys k with k % N == i, so each client can check every reply
// against the versions it wrote, without locks.
//
// insns_per_op: instructions retired on all harts per request (the sum of each client thread's
// hart's rdinstret over its loop, divided by all requests; the server threads run wherever the
// scheduler puts them, and each hart's count includes them).
//
//! [bench_kv_harts]
//! regions = "1170 + clients - 1 (1170..1177)"
//! arguments = "requests per client (2000)"
//! op = "one request (read or write of a 512-byte value) and its reply"
//! params = "`clients` (online)"
//! checks = "every reply equals the value last written"
//! args = ["2000"]
//! quick = ["100"]
//! harts = true
//! wall = false
#include "harts.hpp"

constexpr int REGION = 1170;
constexpr long VALUE = 512;
constexpr long KEYS = 256 * 1024 / VALUE;

struct Request {
  long op;  // 0 read, 1 write, 2 stop
  long key;
  char value[VALUE];
};

static void fill_value(char* v, long key, long version) {
  for (long i = 0; i < VALUE; i += 8) *(long*)(v + i) = key * 1000003 + version * 7 + i;
}

struct Channel {
  int to_server[2], to_client[2];
};
static Channel g_ch[MAX_HARTS];
static char* g_table;

static long serve(void* arg) {
  Channel* c = &g_ch[(long)arg];
  static Request rq[MAX_HARTS];
  Request& r = rq[(long)arg];
  for (;;) {
    bench_read_exact(c->to_server[0], &r, sizeof r);
    if (r.op == 2) return 0;
    if (r.key < 0 || r.key >= KEYS) return 6;
    char* slot = g_table + r.key * VALUE;
    if (r.op == 1) memcpy(slot, r.value, VALUE);
    bench_write_exact(c->to_client[1], slot, VALUE);
  }
}

struct Client {
  long id, clients, requests;
  volatile long* ready;
  uint64_t insns;
  long bad;
  long version[KEYS];
  Request rq;
  char reply[VALUE], want[VALUE];
};

static long client(void* arg) {
  auto* c = (Client*)arg;
  pin(c->id);
  Channel* ch = &g_ch[c->id];
  uint64_t x = 0x2545F4914F6CDD1Dull + (uint64_t)c->id;
  barrier(c->ready, c->clients);
  uint64_t i0 = rdinstret();
  for (long i = 0; i < c->requests; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    long key = (long)(x % (uint64_t)KEYS);
    c->rq.op = (x >> 40) % 10 == 0 && key % c->clients == c->id ? 1 : 0;
    c->rq.key = key;
    if (c->rq.op == 1) fill_value(c->rq.value, key, ++c->version[key]);
    bench_write_exact(ch->to_server[1], &c->rq, sizeof c->rq);
    bench_read_exact(ch->to_client[0], c->reply, VALUE);
    if (key % c->clients == c->id) {  // only our own keys have a known value
      fill_value(c->want, key, c->version[key]);
      c->bad += memcmp(c->reply, c->want, VALUE) != 0;
    }
  }
  c->insns = rdinstret() - i0;
  c->rq.op = 2;
  bench_write_exact(ch->to_server[1], &c->rq, sizeof c->rq);
  return 0;
}

int main(int argc, char** argv) {
  long requests = bench_arg(argc, argv, 1, 2000);
  bench_init();
  long n = harts_online();
  for (long i = 0; i < n; i++)
    if (pipe(g_ch[i].to_server) != 0 || pipe(g_ch[i].to_client) != 0) bench_fail("pipe failed");
  g_table = (char*)mmap(nullptr, (size_t)(KEYS * VALUE), uapi::PROT_READ | uapi::PROT_WRITE);
  if ((long)g_table < 0) bench_fail("no memory for the table");
  for (long k = 0; k < KEYS; k++) fill_value(g_table + k * VALUE, k, 0);
  long server = fork();
  if (server < 0) bench_fail("fork = %ld", server);
  if (server == 0) {
    long tids[MAX_HARTS];
    for (long i = 0; i < n; i++) tids[i] = spawn(serve, (void*)i);
    for (long i = 0; i < n; i++)
      if (thread_join(tids[i]) != 0) exit(5);
    exit(0);
  }
  static volatile long ready;
  static Client cl[MAX_HARTS];
  long tids[MAX_HARTS];
  Sample a, b;
  bench_begin(a);
  region_begin<REGION>((int)n - 1);
  for (long i = 0; i < n; i++) {
    cl[i].id = i, cl[i].clients = n, cl[i].requests = requests, cl[i].ready = &ready;
    tids[i] = spawn(client, &cl[i]);
  }
  for (long i = 0; i < n; i++) join_ok(tids[i]);
  TLB_REGION_END();
  bench_end(b);
  int st = -1;
  if (waitpid(server, &st, 0) != server || st != 0) bench_fail("the kv server ended with status %d", st);
  uint64_t insns = 0;
  for (long i = 0; i < n; i++) {
    if (cl[i].bad) bench_fail("client %ld: %ld wrong replies", i, cl[i].bad);
    insns += cl[i].insns;
  }
  uint64_t ops = (uint64_t)(n * requests);
  Deltas d = bench_deltas(a, b);
  d.insns = (int64_t)insns;
  char params[32];
  snprintf(params, sizeof params, "{\"clients\":%ld}", n);
  bench_report_deltas("bench_kv_harts", params, ops, ops, d);
  bench_mem();
  return 0;
}
