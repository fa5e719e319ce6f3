// Threads on different harts (issue 17): every thread of one process has registers and FP
// state of its own. One thread per online hart (at least two, so that one hart also switches
// between threads of the same address space), each with its own pattern, pinned to its hart:
// system calls (getpid, yield) and pure user spins long enough for timer interrupts, with the
// pattern live and FP dirty, each checked; then the same unpinned, so that threads move between
// harts with their state. The main thread collects the results and prints one check line.
#include "regcheck.hpp"

namespace regcheck {
namespace {

constexpr int FIRST_TAG = 9;  // tags 1..8 are the process checks'
constexpr int MAX_THREADS = MAX_TAG - FIRST_TAG + 1;
constexpr long ROUNDS = 200;
constexpr long SPIN = 20000;
constexpr long STACK = 16 * 4096;

struct ThreadCheck {
  int tag;
  long hart;  // -1: unpinned
  volatile long* started;
  long threads;
  int bad;
  long on_wrong_hart;
  char why[400];
};

long check_thread(void* arg) {
  auto* t = (ThreadCheck*)arg;
  if (sched_pin(t->hart) != 0) {
    snprintf(t->why, sizeof t->why, "sched_pin(%ld) failed", t->hart);
    t->bad = 1;
    return 1;
  }
  __atomic_add_fetch(t->started, 1, __ATOMIC_ACQ_REL);
  while (__atomic_load_n(t->started, __ATOMIC_ACQUIRE) < t->threads) yield();
  RegSet in;
  fill(in, t->tag);
  for (long i = 0; i < ROUNDS && !t->bad; i++) {
    char why[400] = "";
    long ret = 0;
    const long nr = i % 2 ? SYS_yield : SYS_getpid;
    int n = call_checked(in, nr, 0, &ret, why, sizeof why);
    RegSet out;
    memset(&out, 0, sizeof out);
    rc_run(&in, &out, RC_SPIN, SPIN, 0, 0);
    n += compare(in, out, SKIP_A7, true, why, sizeof why);
    if (n) {
      t->bad = n;
      snprintf(t->why, sizeof t->why, "thread tag %d (hart %ld) round %ld: %s", t->tag,
               current_hart(), i, why);
    }
    if (t->hart >= 0 && current_hart() != t->hart) t->on_wrong_hart++;
  }
  return t->bad ? 1 : 0;
}

bool run_threads(bool pinned, long harts, char* why, size_t n) {
  long threads = harts < 2 ? 2 : harts;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  static ThreadCheck t[MAX_THREADS];
  static volatile long started;
  started = 0;
  long tids[MAX_THREADS];
  void* stacks[MAX_THREADS];
  for (long i = 0; i < threads; i++) {
    t[i] = ThreadCheck{FIRST_TAG + (int)i, pinned ? i % harts : -1, &started, threads, 0, 0, ""};
    long a = mmap(nullptr, STACK, PROT_READ | PROT_WRITE);
    if (a < 0) return snprintf(why, n, "mmap of a stack = %ld", a), false;
    stacks[i] = (void*)a;
    tids[i] = thread_create(check_thread, &t[i], (void*)(a + STACK));
    if (tids[i] <= 0) return snprintf(why, n, "thread_create = %ld", tids[i]), false;
  }
  bool ok = true;
  for (long i = 0; i < threads; i++) {
    long r = thread_join(tids[i]);
    munmap(stacks[i], STACK);
    if (!ok) continue;
    if (t[i].bad) ok = false, snprintf(why, n, "%s", t[i].why);
    else if (r != 0) ok = false, snprintf(why, n, "thread tag %d ended with %ld", t[i].tag, r);
    else if (t[i].on_wrong_hart)
      ok = false, snprintf(why, n, "thread tag %d pinned to hart %ld ran elsewhere %ld times",
                           t[i].tag, t[i].hart, t[i].on_wrong_hart);
  }
  return ok;
}

}  // namespace

void check_threads() {
  long harts = (long)get_stats().harts_online;
  if (harts < 1) harts = 1;
  printf("  threads: %ld harts online\n", harts);
  char why[400] = "";
  bool ok = run_threads(true, harts, why, sizeof why);
  report("threads", ok, why);
  why[0] = 0;
  ok = run_threads(false, harts, why, sizeof why);
  report("threads-unpinned", ok, why);
}

}  // namespace regcheck
