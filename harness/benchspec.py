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

    def argv(self, quick: bool) -> Tuple[str, ...]:
        return self.quick_args if quick else self.args

    def expected_lines(self, quick: bool) -> int:
        return self.quick_min_lines if quick else self.min_lines


COPY_SIZES = [2 ** k for k in range(3, 17)]  # 8 .. 65536 bytes: bench_copy prints one line each
CTX_WORKING_SETS_KB = (0, 4, 16, 64, 256)
CTX_QUICK_WORKING_SETS_KB = (0, 16)

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
    BenchSpec("bench_timer", (), ()),
]
BENCH_BY_NAME: Dict[str, BenchSpec] = {b.name: b for b in BENCHES}


def select_benches(names: List[str] | None) -> List[BenchSpec]:
    if not names:
        return list(BENCHES)
    out = []
    for n in names:
        if n not in BENCH_BY_NAME:
            raise ValueError(f"unknown benchmark {n!r}; known: {', '.join(BENCH_BY_NAME)}")
        out.append(BENCH_BY_NAME[n])
    return out


# The security probe: `kaslr_probe N` forks N processes, each prints `@slot 0x...`.
KASLR_PROBE = "kaslr_probe"
KASLR_PROCESSES = 64
