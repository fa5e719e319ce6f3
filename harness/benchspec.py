"""The benchmark programs (user/bench/*) and their arguments. The names are an interface."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple


@dataclass(frozen=True)
class BenchSpec:
    name: str
    args: Tuple[str, ...]        # full run
    quick_args: Tuple[str, ...]  # --quick: small iteration counts, for tests
    min_lines: int = 1           # fewest `@bench` lines a successful full run prints
    quick_min_lines: int = 1     # the same for --quick
    # Whether wall-time (no -icount) runs are made. Without -icount QEMU's rdinstret and
    # rdcycle read host clock ticks, so a program that checks or reports instruction counts
    # cannot run there: bench_timer checks "instructions retired >= the spin's", which then
    # fails or passes by chance, and its only wall figure is the configured tick period.
    wall: bool = True
    # The program run (argv[0]) when it differs from `name`: one program measured two ways
    # (bench_fork plain and bench_fork with touched_kb sizes) needs two names.
    program: str = ""
    # Whether the demand-paging/COW (-dc) variants run it: only the benchmarks where the
    # paging choice matters (faults, fork of a touched process, pipes, the applications).
    demand_cow: bool = False

    @property
    def prog(self) -> str:
        return self.program or self.name

    def argv(self, quick: bool) -> Tuple[str, ...]:
        return self.quick_args if quick else self.args

    def expected_lines(self, quick: bool) -> int:
        return self.quick_min_lines if quick else self.min_lines


COPY_SIZES = [2 ** k for k in range(3, 17)]  # 8 .. 65536 bytes: bench_copy prints one line each
CTX_WORKING_SETS_KB = (0, 4, 16, 64, 256)
CTX_QUICK_WORKING_SETS_KB = (0, 16)
PIPE_SIZES = (64, 256, 1024, 4096, 16384, 65536)   # bench_pipe bw message sizes (bytes)
PIPE_QUICK_SIZES = (64, 4096)
FAULT_KB = (4, 16, 64, 256, 1024, 4096, 16384, 65536)  # bench_fault sizes (KiB)
FAULT_QUICK_KB = (4, 64, 1024)
FORK_KB = (64, 256, 1024, 4096, 16384)             # bench_fork touched_kb sizes
FORK_QUICK_KB = (64, 1024)
MIX_WS_KB = (4, 64, 1024, 16384)                   # bench_mix working sets
MIX_QUICK_WS_KB = (4, 64, 1024)

BENCHES: List[BenchSpec] = [
    BenchSpec("bench_null", ("100000",), ("2000",)),
    BenchSpec("bench_copy", ("2000",), ("20",), min_lines=len(COPY_SIZES), quick_min_lines=len(COPY_SIZES)),
    BenchSpec("bench_ctx", ("2000", "2") + tuple(map(str, CTX_WORKING_SETS_KB)),
              ("50", "2") + tuple(map(str, CTX_QUICK_WORKING_SETS_KB)),
              min_lines=len(CTX_WORKING_SETS_KB), quick_min_lines=len(CTX_QUICK_WORKING_SETS_KB)),
    BenchSpec("bench_tlb", ("200",), ("5",)),
    BenchSpec("bench_fork", ("200",), ("5",)),
    BenchSpec("bench_exec", ("100",), ("3",)),
    BenchSpec("bench_mmap", ("50",), ("3",)),
    BenchSpec("bench_timer", (), (), wall=False),  # icount only (see BenchSpec.wall)
    # lat (1 line), bw per size, ctx over pipes: procs 2/4/8 x ws 0/16/64 KiB (9 lines)
    BenchSpec("bench_pipe", ("1000",) + tuple(map(str, PIPE_SIZES)),
              ("50",) + tuple(map(str, PIPE_QUICK_SIZES)),
              min_lines=1 + len(PIPE_SIZES) + 9, quick_min_lines=1 + len(PIPE_QUICK_SIZES) + 9,
              demand_cow=True),
    # first_touch per size, cow per size (sizes <= 16 MiB), protfault: extra key "faults"
    BenchSpec("bench_fault", ("40",) + tuple(map(str, FAULT_KB)),
              ("5",) + tuple(map(str, FAULT_QUICK_KB)),
              min_lines=len(FAULT_KB) + sum(k <= 16384 for k in FAULT_KB) + 1,
              quick_min_lines=2 * len(FAULT_QUICK_KB) + 1, demand_cow=True),
    # fork after touching 64 KiB .. 16 MiB (lat_proc with a larger process): eager vs COW
    # 40 iterations: 11 forks per size (an eager 16 MiB fork copies 4096 pages)
    BenchSpec("bench_fork_sizes", ("40",) + tuple(map(str, FORK_KB)),
              ("8",) + tuple(map(str, FORK_QUICK_KB)), min_lines=len(FORK_KB),
              quick_min_lines=len(FORK_QUICK_KB), program="bench_fork", demand_cow=True),
    # one line per (ws_kb, every): every = 1, 10, ..., 100000 (6 values). icount only: its
    # figures are instructions (and, in the TLB runs, misses) per access; a full run takes
    # about 10 s of QEMU time, and under QEMU wall time mostly shows QEMU's own TLB flushes
    BenchSpec("bench_mix", ("100000",) + tuple(map(str, MIX_WS_KB)),
              ("2000",) + tuple(map(str, MIX_QUICK_WS_KB)),
              min_lines=6 * len(MIX_WS_KB), quick_min_lines=6 * len(MIX_QUICK_WS_KB),
              wall=False),
    # one line per case (the kernel's system calls, small and large arguments): 24, or 23
    # on a kernel without the diag call
    BenchSpec("bench_lebench", ("1",), ("1",), min_lines=23, quick_min_lines=23),
    # pipeline (gen | sort | wc -s), kv at 256 and 1024 KiB: 3 lines
    BenchSpec("bench_app", ("1",), ("1",), min_lines=3, quick_min_lines=3, demand_cow=True),
]
BENCH_BY_NAME: Dict[str, BenchSpec] = {b.name: b for b in BENCHES}


def runs_in(spec: BenchSpec, variant) -> bool:
    """Whether `variant` (harness.variants.Variant) runs `spec`: every variant runs every
    benchmark, except that the -dc variants run only those with spec.demand_cow."""
    return spec.demand_cow or not getattr(variant, "demand_cow", False)


def select_benches(names: List[str] | None) -> List[BenchSpec]:
    if not names:
        return list(BENCHES)
    out = []
    for n in names:
        if n not in BENCH_BY_NAME:
            raise ValueError(f"unknown benchmark {n!r}; known: {', '.join(BENCH_BY_NAME)}")
        out.append(BENCH_BY_NAME[n])
    return out


# Scheme 3 draws each process's kernel slot at random, so some of its figures (page-table
# pages, walk counts, fork instructions) depend on the draw. Its measurement runs boot with
# `kaslr_seed=N` (the kernel then draws reproducibly and says so on the console): one icount
# run (and one TLB-model run) per seed, wall repetitions cycling through them. The figures are
# reported over the seeds (mean, min-max, n); the list is stored in metadata.json. kaslr_probe
# is never seeded: it measures the real randomness source.
KASLR_SEEDS = (1, 2, 3, 4, 5)
KASLR_SEEDS_QUICK = (1, 2)

# The security probe: `kaslr_probe N seq` forks N processes one after another, each prints
# `@slot 0x...`: N independent draws, enough for an entropy estimate (issue 15: >= 4,096).
KASLR_PROBE = "kaslr_probe"
KASLR_PROCESSES = 4096
KASLR_MODE = "seq"


# ------------------------------------------------------------------ TLB-model runs
# One -icount run per (variant, preset) under the TLB-model plugin (harness/tlb.py) for each of
# these, with the counts chosen for time (each run takes about 0.5 s under the plugin on the
# project machine); per-op figures come from the benchmarks' region markers, so the counts
# only set how many operations are averaged.
TLB_BENCHES: List[BenchSpec] = [
    BenchSpec("bench_null", ("2000",), ("200",)),
    # procs 2 and 1 at ws 0 and 16 KiB: 4 lines (quick: ws 0 only, 2 lines)
    BenchSpec("bench_ctx", ("200", "2", "0", "16"), ("20", "2", "0"), min_lines=4,
              quick_min_lines=2),
    # K = 1, 2, 4 ... 1024 pages: 11 lines
    BenchSpec("bench_tlb", ("20",), ("3",), min_lines=11, quick_min_lines=11),
    # lat and ctx only (size 64 for the one bw line it always prints): 11 lines
    BenchSpec("bench_pipe", ("200", "64"), ("20", "64"), min_lines=11, quick_min_lines=11,
              demand_cow=True),
    # N = 1 .. 100000 at 64 and 256 KiB (16 and 64 pages: within and beyond a 32-entry L1;
    # quick: 64 KiB): 12 lines (6). Not 1 MiB and above: bench_mix's region offset
    # 8*log2(W/4) + log10(N) passes region_begin's 0..63 there, so those lines share one id.
    BenchSpec("bench_mix", ("20000", "64", "256"), ("2000", "64"), min_lines=12,
              quick_min_lines=6),
    BenchSpec("bench_app", ("1",), ("1",), min_lines=3, quick_min_lines=3, demand_cow=True),
]
TLB_BENCH_BY_NAME: Dict[str, BenchSpec] = {b.name: b for b in TLB_BENCHES}
# The Meltdown-style probe (user/kernel_probe.cpp): `kernel_probe TRIALS`, no @bench lines;
# each probe repeated TRIALS times so that the report gives a hit rate (issue 15: >= 100).
TLB_PROBE = "kernel_probe"
TLB_PROBE_TRIALS = 100
TLB_PRESETS_DEFAULT = ("u54", "c906")


def select_tlb_benches(benches: List[BenchSpec]) -> List[BenchSpec]:
    """The TLB-model runs for a benchmark selection: those of the selected benchmarks."""
    names = {b.name for b in benches}
    return [t for t in TLB_BENCHES if t.name in names]
