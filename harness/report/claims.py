"""The design document's claims: its ratings per dimension and scheme (the rows of the
comparison), the tie tolerances, and the workloads table's rows. Data, no logic."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Tuple



SCHEMES = (1, 2, 3)


SCHEME_TITLES = {1: "Scheme 1 (separate table)", 2: "Scheme 2 (shared, same VA)",
                 3: "Scheme 3 (shared, per-process VA)"}


DEFAULT_TOLERANCES: Dict[str, float] = {
    "latency": 0.02,      # relative: within 2 % is a tie
    "switch": 0.02,
    "security": 0.5,      # absolute, in bits of kernel-address entropy
    "complexity": 0.10,   # relative, lines of code
    "performance": 0.02,
    "memory": 0.0,        # absolute, page-table pages
    "tlb": 0.02,          # relative, L1 TLB misses (model): the same band as every ratio
}


RELATIVE = {"latency", "switch", "complexity", "performance", "tlb"}


@dataclass(frozen=True)
class DocRating:
    zh: str
    en: str
    order: Optional[int]  # higher is better in this dimension; None: the document states nothing

    def text(self) -> str:
        return f"{self.zh} ({self.en})" if self.zh and self.zh != self.en else self.en


@dataclass(frozen=True)
class RowSpec:
    key: str
    title: str
    doc: Mapping[int, DocRating]
    lower_is_better: bool
    unit: str
    doc_ties_claimed: bool = True  # a document tie is a claim of equality
    alt_noasid: bool = False       # the secondary ranking is the no-ASID variants' (not wall ns)


ROWS: List[RowSpec] = [
    RowSpec("latency", "Trap/syscall latency (陷阱/系统调用延迟)",
            {1: DocRating("最差", "worst", 1), 2: DocRating("最佳", "best", 3),
             3: DocRating("好", "good", 2)}, True, "insns"),
    RowSpec("switch", "Process-switch cost (切换进程开销)",
            {1: DocRating("差", "poor", 1), 2: DocRating("最佳", "best", 3),
             3: DocRating("好", "good", 2)}, True, "insns"),
    RowSpec("security", "Security/isolation (安全性/隔离性)",
            {1: DocRating("高", "high", 2), 2: DocRating("低", "low", 1),
             3: DocRating("最高", "highest", 3)}, False, "bits"),
    RowSpec("complexity", "Implementation complexity (实现复杂性)",
            {1: DocRating("低", "low", 2), 2: DocRating("低", "low", 2),
             3: DocRating("高", "high", 1)}, True, "LOC"),
    RowSpec("performance", "Performance (性能)",
            {1: DocRating("低", "low", 1), 2: DocRating("高", "high", 3),
             3: DocRating("中/高", "medium/high", 2)}, True, "× S2", alt_noasid=True),
    RowSpec("memory", "Memory overhead (内存开销; not in the document's final table)",
            {1: DocRating("缺点: 内存开销", "text: a con", 1),
             2: DocRating("未列为缺点", "text: not a con", 2),
             3: DocRating("缺点: 每进程内核页表", "text: a con (per-process kernel tables)", 1)},
            True, "PT pages", doc_ties_claimed=False),
    # Not in the final table either: the document's text calls scheme 1's TLB behaviour
    # "TLB 污染" (each switch invalidates the user's entries) and scheme 2's "TLB 缓存友好"
    # (kernel entries survive process switches); about scheme 3 it says nothing.
    RowSpec("tlb", "TLB behaviour (model)",
            {1: DocRating("TLB 污染", "pollution → worst", 1),
             2: DocRating("TLB 缓存友好", "cache-friendly → best", 3),
             3: DocRating("", "not stated", None)},
            True, "× S2 L1 misses", alt_noasid=True),
]


CTX_WHOLE = "procs=2,ws_kb=0"   # the whole yield to another process (bench_ctx, ws 0)


PERF_PARTS = ("bench_null", "bench_ctx", "bench_fork")


ROW_BY_KEY: Dict[str, RowSpec] = {r.key: r for r in ROWS}


@dataclass(frozen=True)
class Workload:
    """One row of the workloads table: an icount figure per scheme (the ASID variant, or the
    -dc variant where the workload is about demand paging / COW), judged against the design
    document's row `doc_row` (the row that covers that kind of cost)."""
    title: str
    doc_row: str
    suffix: str            # variant name after s<N>: "-asid" or "-asid-dc"
    bench: str
    params: Tuple[str, ...]  # candidates, first present wins
    unit: str = "insns"


WORKLOADS: List[Workload] = [
    Workload("Pipe round trip (lat_pipe: 1 byte there and back)", "switch", "-asid",
             "bench_pipe", ("mode=lat,size=1",)),
    Workload("Switch over pipes (lat_ctx, 2 processes, 0 KiB)", "switch", "-asid",
             "bench_pipe", ("mode=ctx,procs=2,ws_kb=0",)),
    Workload("First-touch fault, per page (demand paging, 1 MiB)", "latency", "-asid-dc",
             "bench_fault", ("kb=1024,mode=first_touch", "kb=64,mode=first_touch")),
    Workload("COW fault, per page (child writes 1 MiB)", "latency", "-asid-dc",
             "bench_fault", ("kb=1024,mode=cow", "kb=64,mode=cow")),
    Workload("Fork of a 4 MiB process, eager copy", "performance", "-asid", "bench_fork",
             ("touched_kb=4096", "touched_kb=1024")),
    Workload("Fork of a 4 MiB process, COW", "performance", "-asid-dc", "bench_fork",
             ("touched_kb=4096", "touched_kb=1024")),
    Workload("App: pipeline gen | sort | wc -s (per line)", "performance", "-asid",
             "bench_app", ("lines=2000,workload=pipeline",)),
    Workload("App: key-value server over pipes, 1 MiB table (per request)", "performance",
             "-asid", "bench_app", ("kv_kb=1024,workload=kv",)),
]
