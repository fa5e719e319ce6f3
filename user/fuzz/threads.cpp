// fuzz --threads N SEED CALLS [BATCH]: the fuzzer with N threads per batch process, thread i
// pinned to hart i % harts_online (issue 17). Each batch process's threads fuzz at once, so
// calls from several harts meet in the kernel: the calls whose contract holds whatever the
// other threads do (read, write, sleep, stats, programs, bench_echo, diag, unknown numbers,
// yield, getpid), the thread calls with hostile arguments (thread_create with bad stacks,
// thread_create at non-executable fns, thread_join of bad or foreign tids, sched_pin to any
// value, current_hart), short-lived
// threads that are created and joined, mmap/touch/munmap churn in a per-thread arena (each
// munmap is a shootdown when the space runs on other harts), and fork and exec from a thread.
//
// Left out here (each breaks another thread's oracle, not the kernel's contract): pipes and
// close/dup2 (the single-thread fuzzer's "only 0-2 open between calls" rule), sbrk ("returns
// the old break"), waitpid(-1) (it could reap another thread's child), the shared fixed arena.
// The single-threaded fuzzer still covers those.
//
// Oracles beyond the generic one (a negative result is a known -errno): sched_pin(h) is 0 and
// current_hart() then h for an online hart, -EINVAL for any other value but -1;
// current_hart() is in 0..harts-1; thread_create with a misaligned stack is -EINVAL and with an
// unmapped or kernel stack -EFAULT, at a non-executable fn -EFAULT; thread_join of a bad tid -ESRCH, of itself -EINVAL; a
// created thread's status comes back from thread_join; fresh pages read back what this thread
// wrote; a forked child's status comes back from waitpid. Per batch the top process checks the
// frames and heap as in the single-threaded mode.
//
// The fuzzer's own memory is out of reach of its calls: each worker has its own state (RNG,
// counters, arena, stack), set before it starts and published (with its tid) before `go`;
// mmap/munmap only touch the worker's own arena; hostile pointers never point into data, bss
// or stacks (the break is padded, see batch).
#include "fuzz.hpp"

namespace fuzz {
namespace {

constexpr int MAX_THREADS = 8;
constexpr long STACK_BYTES = 16 * PAGE;
constexpr long THREAD_ARENA = 0x1400000000;  // + i * ARENA_SPAN: thread i's own churn area
constexpr long ARENA_SPAN = 64 * PAGE;
constexpr long BREAK_PAD = 2 * PAGE;  // between bss and the break (see batch)

struct Worker {
  Fuzzer f;
  long index;
  long harts;
  long calls_planned;
  long my_tid;  // set by the batch process before `go`
  volatile long* started;
  volatile long* go;
  long threads;
};

long harts_now() {
  long h = (long)get_stats().harts_online;
  return h < 1 ? 1 : h;
}

long short_thread(void* arg) {
  long v = (long)arg;
  getpid();
  if (v & 1) yield();
  return v * 3 + 1;
}

// One fuzzed call (or a small group of them with its own oracle).
void thread_one(Worker& w, long arena_pages[]) {
  Fuzzer& f = w.f;
  const long arena = THREAD_ARENA + w.index * ARENA_SPAN;
  switch (f.rng.below(26)) {
    case 0: f.f_read(); break;
    case 1: f.f_write(); break;
    case 2: f.call(SYS_yield, f.junk()); break;
    case 3: f.call(SYS_getpid, f.junk()); break;
    case 4: f.f_sleep(); break;
    case 5: f.f_stats(); break;
    case 6: f.f_programs(); break;
    case 7: f.f_echo(); break;
    case 8: f.f_diag(); break;
    case 9: f.f_unknown(); break;
    case 10: case 11: {  // sched_pin to anything
      long h = f.rng.chance(2) ? f.rng.below(w.harts) : f.rng.chance(2) ? -1 : f.junk() % 16;
      long r = f.call(SYS_sched_pin, h, f.junk());
      bool valid = h == -1 || (h >= 0 && h < w.harts);
      if (valid && r != 0) f.oddity("sched_pin of a valid hart failed", SYS_sched_pin, h, 0, 0, r);
      if (!valid && r != -EINVAL) f.oddity("sched_pin of a bad hart", SYS_sched_pin, h, 0, 0, r);
      if (valid && h >= 0) {
        long c = f.call(SYS_current_hart);
        if (c != h) f.oddity("current_hart after sched_pin", SYS_current_hart, h, 0, 0, c);
      }
      break;
    }
    case 12: {
      long c = f.call(SYS_current_hart, f.junk());
      if (c < 0 || c >= w.harts) f.oddity("current_hart out of range", SYS_current_hart, 0, 0, 0, c);
      break;
    }
    case 13: {  // thread_create with a bad stack: nothing may start
      long kind = f.rng.below(4);
      // misaligned but mapped (the scratch area), a kernel address, unmapped, null
      long top = kind == 0 ? SCRATCH + 16 * (1 + f.rng.below(8)) + 1 + f.rng.below(15)
                 : kind == 1 ? (long)0xffffffc000200000ul
                 : kind == 2 ? UNMAPPED + PAGE * f.rng.below(64)
                             : 0;
      long r = f.call(SYS_thread_create, (long)&short_thread, 0, top);
      long want = kind == 0 ? -EINVAL : -EFAULT;
      if (r != want) {
        f.oddity("thread_create with a bad stack", SYS_thread_create, 0, 0, top, r);
        if (r > 0) thread_join(r);
      }
      break;
    }
    case 14: {  // thread_join of what is no thread of ours, or of itself
      long tid = f.rng.chance(3) ? w.my_tid : f.rng.chance(2) ? -f.rng.below(100) : 1000000 + f.rng.below(1000);
      long r = f.call(SYS_thread_join, tid);
      long want = tid == w.my_tid ? -EINVAL : -ESRCH;
      if (r != want) f.oddity("thread_join of a bad tid", SYS_thread_join, tid, 0, 0, r);
      break;
    }
    case 15: case 16: {  // a short-lived thread on a stack at the top of this thread's arena
      long stack = arena + ARENA_SPAN - STACK_BYTES;
      long m = f.call(SYS_mmap, stack, STACK_BYTES, PROT_READ | PROT_WRITE);
      if (m != stack) {
        if (m >= 0) f.oddity("fixed mmap elsewhere", SYS_mmap, stack, STACK_BYTES, 0, m);
        break;  // -ENOMEM is allowed
      }
      long v = f.rng.below(1000);
      long tid = thread_create(short_thread, (void*)v, (void*)(stack + STACK_BYTES));
      f.calls++;
      if (tid > 0) {
        long st = f.call(SYS_thread_join, tid);
        if (st != v * 3 + 1) f.oddity("joined thread's status", SYS_thread_join, tid, 0, 0, st);
      } else if (tid != -EAGAIN && tid != -ENOMEM) {
        f.oddity("thread_create with a good stack", SYS_thread_create, 0, v, stack, tid);
      }
      f.call(SYS_munmap, stack, STACK_BYTES);
      break;
    }
    case 17: case 18: case 19: {  // map, touch and check pages of the arena (below the stack slot)
      long first = f.rng.below(32), n = 1 + f.rng.below(16);
      long a = arena + first * PAGE;
      bool free_range = true;
      for (long p = first; p < first + n; p++) free_range &= arena_pages[p] == 0;
      long r = f.call(SYS_mmap, a, n * PAGE, PROT_READ | PROT_WRITE);
      if (free_range && r != a && r != -ENOMEM) f.oddity("fixed mmap of a free range", SYS_mmap, a, n * PAGE, 3, r);
      if (!free_range && r >= 0) f.oddity("fixed mmap over a mapping", SYS_mmap, a, n * PAGE, 3, r);
      if (r == a) {
        for (long p = first; p < first + n; p++) {
          long v = (long)f.rng.next();
          arena_pages[p] = v | 1;
          *(volatile long*)(arena + p * PAGE) = arena_pages[p];
        }
      }
      break;
    }
    case 22: {  // thread_create at a non-executable fn with a good stack: -EFAULT, nothing starts
      long stack = arena + ARENA_SPAN - STACK_BYTES;
      if (f.call(SYS_mmap, stack, STACK_BYTES, PROT_READ | PROT_WRITE) != stack) break;
      const long bad_fn[] = {0, f.junk(), KERNEL_IMAGE, (long)RODATA_WORDS, (long)&w,
                             stack + PAGE, UNMAPPED, TRAMPOLINE};
      long fn = bad_fn[f.rng.below(8)];
      long r = f.call(SYS_thread_create, fn, f.junk(), stack + STACK_BYTES);
      // junk may land in text (executable): then a thread starts there, which is allowed
      bool maybe_text = fn >= 0x10000 && fn < (long)RODATA_WORDS;
      if (r != -EFAULT && !(maybe_text && r > 0)) f.oddity("thread_create at a bad fn", SYS_thread_create, fn, 0, stack + STACK_BYTES, r);
      if (r > 0) thread_join(r);  // a thread at garbage kills this process (reported as KILLED)
      f.call(SYS_munmap, stack, STACK_BYTES);
      break;
    }
    default: {  // check and unmap part of the arena (a shootdown when other harts run this space)
      long first = f.rng.below(48), n = 1 + f.rng.below(16);
      for (long p = first; p < first + n && p < 48; p++)
        if (arena_pages[p] && *(volatile long*)(arena + p * PAGE) != arena_pages[p])
          f.oddity("a page lost its value", 0, arena + p * PAGE, arena_pages[p], 0, 0);
      if (first + n > 48) n = 48 - first;  // pages 48..63 are the short threads' stack slot
      long r = f.call(SYS_munmap, arena + first * PAGE, n * PAGE);
      if (r != 0) f.oddity("munmap of an arena range", SYS_munmap, arena + first * PAGE, n * PAGE, 0, r);
      for (long p = first; p < first + n; p++) arena_pages[p] = 0;
      break;
    }
    case 20: {  // fork from a thread: the child has this thread only, and exits at once
      long pid = f.call(SYS_fork);
      // the child's only thread is its first, whose tid is the child's pid
      if (pid == 0) exit(thread_join(getpid()) == -EINVAL ? 5 : 6);
      if (pid > 0) {
        int st = 0;
        long r = f.call(SYS_waitpid, pid, (long)&st, 0);
        if (r != pid || st != 5) f.oddity("forked child from a thread", SYS_waitpid, pid, st, 0, r);
      }
      break;
    }
    case 21: {  // exec in a child forked from a thread
      long pid = f.call(SYS_fork);
      if (pid == 0) {
        const char* args[] = {"fuzz", "--leaf", "9", "0", nullptr};
        exec("fuzz", args);
        exit(1);
      }
      if (pid > 0) {
        int st = 0;
        long r = f.call(SYS_waitpid, pid, (long)&st, 0);
        if (r != pid || (st & 0x30000000) != ST_REPORT)
          f.oddity("exec'd leaf from a thread", SYS_waitpid, pid, st, 0, r);
      }
      break;
    }
  }
}

long worker_main(void* arg) {
  auto* w = (Worker*)arg;
  long arena_pages[48] = {};
  // sched_pin first: the worker runs on its hart from its first fuzzed call
  if (sched_pin(w->index % w->harts) != 0) w->f.oddity("sched_pin of the worker's hart", SYS_sched_pin, w->index, 0, 0, -1);
  __atomic_add_fetch(w->started, 1, __ATOMIC_ACQ_REL);  // then wait for the batch's `go`
  while (__atomic_load_n(w->go, __ATOMIC_ACQUIRE) == 0) yield();
  for (long i = 0; i < w->calls_planned; i++) thread_one(*w, arena_pages);
  munmap((void*)(THREAD_ARENA + w->index * ARENA_SPAN), ARENA_SPAN);
  return 0;
}

// The batch process: N workers at once; exits with the report status of them all.
[[noreturn]] void batch(uint64_t seed, long threads, long calls) {
  static Worker w[MAX_THREADS];
  static volatile long started, go;
  // The workers' state is in bss, right below the initial break, and hostile pointers include
  // "straddles the break" (heap_end() - 1 - up to a page): without a pad the kernel would
  // rightly write stats, program lists and echo copies over the workers' RNG, index and tid.
  // The single-threaded mode moves the break with its sbrk churn; here no one calls sbrk, so a
  // pad of pages the fuzzer never reads goes between bss and the break.
  if (sbrk(BREAK_PAD) < 0) {
    printf("fuzz: odd: batch seed %lu: cannot pad the break\n", seed);
    exit(ST_REPORT | (1 << 20));
  }
  long harts = harts_now();
  long tids[MAX_THREADS];
  for (long i = 0; i < threads; i++) {
    w[i].f.init(seed * 31 + (uint64_t)i, 0, 0);
    w[i].index = i, w[i].harts = harts, w[i].threads = threads, w[i].started = &started;
    w[i].go = &go;
    w[i].calls_planned = calls / threads + (i < calls % threads ? 1 : 0);
    long stack = mmap(nullptr, STACK_BYTES, PROT_READ | PROT_WRITE);
    tids[i] = stack < 0 ? stack : thread_create(worker_main, &w[i], (void*)(stack + STACK_BYTES));
    if (tids[i] <= 0) {
      printf("fuzz: odd: batch seed %lu: worker %ld did not start (%ld)\n", seed, i, tids[i]);
      exit(ST_REPORT | (1 << 20));
    }
  }
  // a worker's tid is known only after thread_create returned: hand them out, then start
  for (long i = 0; i < threads; i++) w[i].my_tid = tids[i];
  while (__atomic_load_n(&started, __ATOMIC_ACQUIRE) < threads) yield();
  __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
  long total = 0, odd = 0;
  for (long i = 0; i < threads; i++) {
    long r = thread_join(tids[i]);
    if (r != 0) odd++;
    total += w[i].f.calls;
    odd += w[i].f.odd + w[i].f.errors;
  }
  if (total > 0xfffff) total = 0xfffff;
  exit(ST_REPORT | ((odd > 255 ? 255 : (int)odd) << 20) | (int)total);
}

}  // namespace

int threads_main(int argc, char** argv) {
  // fuzz --threads N SEED CALLS [BATCH]
  if (argc < 5) {
    printf("usage: fuzz --threads N SEED CALLS [BATCH]\n");
    return 2;
  }
  long threads = atol(argv[2]);
  if (threads < 1 || threads > MAX_THREADS) {
    printf("fuzz: --threads wants 1..%d threads\n", MAX_THREADS);
    return 2;
  }
  uint64_t seed = (uint64_t)atol(argv[3]);
  long total = atol(argv[4]);
  long per_batch = argc > 5 ? atol(argv[5]) : 1000;
  if (per_batch < 1) per_batch = 1;
  bool is_init = getpid() == 1;
  KernelStats s = get_stats();
  printf("fuzz: threads %ld on %lu harts, seed %lu, %ld calls in batches of %ld, scheme %lu, ASIDs %s\n",
         threads, s.harts_online, seed, total, per_batch, s.scheme, s.asid_enabled ? "on" : "off");
  if (mmap((void*)SCRATCH, SCRATCH_PAGES * PAGE, PROT_READ | PROT_WRITE) != SCRATCH) {
    printf("fuzz: cannot map the scratch area\n");
    return 2;
  }
  long calls = 0, batches = 0, leaks = 0, kills = 0, errors = 0, problems = 0;
  for (long done = 0; done < total; done += per_batch, batches++) {
    long n = total - done < per_batch ? total - done : per_batch;
    KernelStats a = get_stats();
    long pid = fork();
    if (pid == 0) batch(seed * 1000003ul + (uint64_t)batches, threads, n);
    if (pid < 0) {
      printf("fuzz: batch %ld: fork failed: %ld\n", batches, pid);
      errors++;
      break;
    }
    int st = 0;
    long r = waitpid(pid, &st, 0);
    if (is_init)
      while (waitpid(-1, nullptr, 0) > 0) {
      }
    KernelStats b = get_stats();
    long lost = (long)a.frames_free - (long)b.frames_free - (long)(b.heap_pages - a.heap_pages) +
                ((long)a.self.pt_pages - (long)b.self.pt_pages);
    if (r != pid) {
      printf("fuzz: batch %ld: waitpid = %ld\n", batches, r);
      errors++;
    } else if (st == -1) {
      printf("fuzz: KILLED batch process pid %ld (threads)\n", pid);
      kills++;
    } else if ((st & 0x30000000) == ST_REPORT) {
      calls += st & 0xfffff;
      problems += (st >> 20) & 0xff;
    } else {
      printf("fuzz: batch %ld: odd status %#x\n", batches, st);
      errors++;
    }
    if (lost != 0) leaks++;
    printf("fuzz: batch %ld: %ld planned, %ld calls issued, %lu frames free, heap %lu frames, "
           "lost %ld\n", batches, n, (long)(st & 0xfffff), b.frames_free, b.heap_pages, lost);
  }
  printf("fuzz: %ld batch processes killed, %ld problems below them, %ld errors\n", kills,
         problems, errors);
  printf("fuzz: %ld calls, %ld batches, leaks %ld\n", calls, batches, leaks);
  return leaks == 0 && kills == 0 && errors == 0 && problems == 0 ? 0 : 1;
}

}  // namespace fuzz
