// fuzz SEED CALLS [BATCH [trace]]: a seeded system-call fuzzer (issue 8). `trace` prints every
// call before it is made (to find the call of a hang). `fuzz --threads N SEED CALLS [BATCH]`:
// the same with N threads per batch process on several harts (threads.cpp).
//
// The top process stays simple: it runs CALLS fuzzed calls in batches of BATCH (default 1000),
// each batch in a forked "batch process" that fuzzes and then reaps everything it created, and
// around every batch it checks the kernel's frame accounting (frames_free + the kernel heap's
// frames, as usertests' leak test): after a batch every process of the batch is gone, so any
// frame missing is a leak. Lines:
//   fuzz: seed S, C calls in batches of B, scheme N, ASIDs on|off     (start)
//   fuzz: batch I: K planned, T calls issued (children included), F frames free, heap H
//         frames, lost L                                           (one per batch)
//   fuzz: odd: ...        a result that contradicts docs/syscalls.md (at most 3 per process)
//   fuzz: KILLED ...      a fuzz process was killed by the kernel (no system call may do that)
//   fuzz: N calls, M batches, leaks L     (the last line; N counts every call issued by
//         every fuzz process, children and exec'd leaves included)
// The exit status is 0 iff no frame leaked, no fuzz process was killed or lost, and no result
// contradicted the documented contract (the `odd` lines; the checks are listed at oddity()).
//
// What is fuzzed: random system-call numbers (valid ones, out-of-range, negative, huge, and
// numbers whose low 32 bits are a valid call), with hostile arguments: null, tiny, kernel-half
// addresses (fixed ones, this process's own kernel slot and kernel data address from diag),
// non-canonical and above-user-space addresses, unmapped ones, misaligned, read-only (text,
// rodata), ranges that straddle the end of a mapping, wrapping ranges, huge and negative
// lengths; mmap/munmap/sbrk churn (fixed-address and kernel-chosen mappings, partial unmaps
// that split areas, unmaps of the image/heap/stack that must fail); fork trees (depth <= 2,
// <= 3 live children per process, each child fuzzes 20..220 calls and then reaps and exits;
// waitpid with hostile pids, status pointers and options); exec of valid names (`fuzz --leaf`,
// `echo`) with valid and hostile argv, and of invalid names (unknown, empty, with a slash,
// 63/64+ characters, unterminated at the end of a mapping, bad pointers), 32/33 arguments,
// argument strings of 4096 bytes and more.
//
// Excluded (each would legitimately block forever, end the fuzzer, or make the run depend on
// memory it must not use):
//   - exit in the top process and in a batch process (only tree children and leaf images
//     exit, with their report status, after the fuzzed call's junk arguments);
//   - read on fd 0 with len > 0 (it waits for console input): such a read gets len 0;
//   - pipes stay within one handler: created, written while empty, read while holding data or
//     after the write end closed, dup2'd to a free number, and closed again; fds 0-2 are never
//     closed or replaced by dup2 (so no other descriptor is open between calls, and no read or
//     write can block);
//   - sleep longer than 2 ms (huge values would block for good once the overflow is fixed);
//   - write of a valid buffer to the console (noise in the log): it gets len 0; bad buffers
//     are written with any length;
//   - blocking waitpid is only issued when the caller has live children (which all end);
//   - mmap and sbrk sizes between 1 MiB and 1 GiB (they would succeed and exhaust memory for
//     the other fuzz processes): sizes are small, or huge (>= 8 GiB), or negative/wrapping;
//     rarely (1 in 4096 calls) an sbrk of 1 GiB, which must fail;
//   - pointers into the fuzzer's own data, bss and stack (the kernel would rightly overwrite
//     its state): writable pointers go to a scratch mapping, the fuzz arena, fuzzed mmap areas
//     and the fuzzed heap, which the fuzzer itself never reads;
//   - fork beyond the tree bounds (a waitpid on the oldest child is issued instead);
//   - exec of a valid program from a batch process (done in a forked child instead).
// Deterministic for a seed: every process's sequence of calls depends only on its seed (a
// child's seed is drawn by its parent before the fork), never on a result, except that the
// addresses of kernel-chosen mappings are reused as arguments.
#include "fuzz.hpp"

namespace fuzz {

// ---------------------------------------------------------------- the top process
long leaf_main(int argc, char** argv) {
  Fuzzer f;
  f.init((uint64_t)atol(argc > 2 ? argv[2] : "1"), MAX_DEPTH, argc > 3 ? atol(argv[3]) : 10);
  f.run();
  f.finish();
}

// Create what the kernel makes lazily (a process, an exec'd image) before the first count.
void warm_up() {
  long pid = fork();
  if (pid == 0) exit(0);
  if (pid > 0) waitpid(pid, nullptr, 0);
  pid = fork();
  if (pid == 0) {
    const char* args[] = {"fuzz", "--leaf", "7", "0", nullptr};
    exec("fuzz", args);
    exit(1);
  }
  if (pid > 0) waitpid(pid, nullptr, 0);
}

}  // namespace fuzz

using namespace fuzz;

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "--leaf") == 0) return (int)leaf_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "--threads") == 0) return threads_main(argc, argv);
  if (argc < 3 || argv[1][0] < '0' || argv[1][0] > '9') {
    printf("usage: fuzz SEED CALLS [BATCH]\n");
    return 2;
  }
  uint64_t seed = (uint64_t)atol(argv[1]);
  long total = atol(argv[2]);
  long batch = argc > 3 ? atol(argv[3]) : 1000;
  if (batch < 1) batch = 1;
  g_trace = argc > 4 && strcmp(argv[4], "trace") == 0;
  bool is_init = getpid() == 1;
  KernelStats s = get_stats();
  printf("fuzz: seed %lu, %ld calls in batches of %ld, scheme %lu, ASIDs %s (%lu bits)%s\n", seed,
         total, batch, s.scheme, s.asid_enabled ? "on" : "off", s.asid_bits,
         is_init ? " (init)" : "");
  if (mmap((void*)SCRATCH, SCRATCH_PAGES * PAGE, PROT_READ | PROT_WRITE) != SCRATCH) {
    printf("fuzz: cannot map the scratch area\n");
    return 2;
  }
  warm_up();
  long calls = 0, batches = 0, leaks = 0, lost_total = 0, kills = 0, errors = 0, problems = 0;
  for (long done = 0; done < total; done += batch, batches++) {
    long n = total - done < batch ? total - done : batch;
    uint64_t bseed = seed * 1000003ul + (uint64_t)batches;
    KernelStats a = get_stats();
    long pid = fork();
    if (pid == 0) {
      Fuzzer f;
      f.init(bseed, 0, n);
      f.run();
      f.finish();
    }
    if (pid < 0) {
      printf("fuzz: batch %ld: fork failed: %ld\n", batches, pid);
      errors++;
      break;
    }
    int st = 0;
    long r = waitpid(pid, &st, 0);
    // As init, orphans of a killed fuzz process come to us: wait for them all.
    if (is_init)
      while (waitpid(-1, nullptr, 0) > 0) {
      }
    KernelStats b = get_stats();
    long heap_growth = (long)(b.heap_pages - a.heap_pages);
    long lost = (long)a.frames_free - (long)b.frames_free - heap_growth +
                ((long)a.self.pt_pages - (long)b.self.pt_pages);
    long own = 0, desc = 0;
    if (r != pid) {
      printf("fuzz: batch %ld: waitpid = %ld\n", batches, r);
      errors++;
    } else if (st == -1) {
      printf("fuzz: KILLED batch process pid %ld (seed %lu)\n", pid, bseed);
      kills++;
    } else if ((st & 0x30000000) == ST_REPORT) {
      desc = st & 0xfffff;
      own = n;
      problems += (st >> 20) & 0xff;
    } else {
      printf("fuzz: batch %ld: odd status %#x\n", batches, st);
      errors++;
    }
    calls += desc;
    if (lost != 0) leaks++;
    lost_total += lost;
    printf("fuzz: batch %ld: %ld planned, %ld calls issued (children included), %lu frames "
           "free, heap %lu frames, lost %ld\n", batches, own, desc, b.frames_free, b.heap_pages,
           lost);
  }
  KernelStats e = get_stats();
  printf("fuzz: asid generation %lu, %lu rollovers\n", e.asid_generation, e.asid_rollovers);
  printf("fuzz: %ld batch processes killed, %ld problems below them (kills, odd results), %ld "
         "errors, %ld frames lost in all\n", kills, problems, errors, lost_total);
  printf("fuzz: %ld calls, %ld batches, leaks %ld\n", calls, batches, leaks);
  return leaks == 0 && kills == 0 && errors == 0 && problems == 0 ? 0 : 1;
}
