"""Every row's verdict under every analysis choice the data allows (issue 15 item 2).

A row's *default* analysis is one point (ASIDs on, the 2 MiB kernel map, the table preset,
the whole yield, the geomean over the workloads, the cost model's constants, a 2 % tie band).
Each *choice* changes one of those and nothing else (one factor at a time): the tie band 0 /
1 / 2 / 5 %, each real-core preset run, the kernel map 4 KiB, ASIDs off, the net switch, each
workload alone, each cost-model constant at the ends of its range (costmodel.SWEEP), each LRU
L1 size of the runs' profile (the same workloads at every size), the basis (icount or model),
and for the security row the threat model. `robustness(df, facts)` returns one row per (row,
choice, value) with the verdict; the summary says "holds in X of Y" and names the choices
under which the verdict differs.

Pure: the measurement DataFrame and facts in, records out.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import pandas as pd

from .. import select as sel
from ..tlb import LRU_SIZES, PRESETS, TLB_WORKLOADS, TlbWorkload, footprint_pages, lru_metric
from . import costmodel
from .claims import DEFAULT_TOLERANCES, ROW_BY_KEY, SCHEMES
from .figures import _memory_bench, _run_presets, table_preset
from .format import geomean
from .params import params_of
from .ranking import Verdict, compare, judge
from .security import S2_KASLR, THREATS, threat_scores

# Misses per op added to both sides of a miss ratio, so that a workload where a scheme misses
# nothing stays in the geometric mean (0/0 = 1) instead of being dropped.
MISS_EPSILON = 1e-3
TOLERANCES = (0.0, 0.01, 0.02, 0.05)
DEFAULT_TOL = 0.02


@dataclass(frozen=True)
class Analysis:
    """One analysis point. preset None: the table preset."""
    asid: bool = True
    kmap: str = "2M"
    preset: Optional[str] = None
    basis: str = "default"              # "icount" or "model" where a row has both
    switch: str = "whole"               # "whole" or "net"
    workload: Optional[str] = None      # a TlbWorkload key; None: the geomean over all
    l1: Optional[int] = None            # an LRU L1 size (entries); None: the preset's own L1
    model: costmodel.CostModel = costmodel.DEFAULT_MODEL
    tol: float = DEFAULT_TOL
    threat: str = "a"
    s2_kaslr: bool = False              # security: scheme 2 with per-boot KASLR (s2-kaslr)

    def variant(self, scheme: int) -> str:
        return f"s{scheme}-{'asid' if self.asid else 'noasid'}" + \
            ("-4k" if self.kmap == "4K" else "")


@dataclass(frozen=True)
class RowResult:
    scores: Dict[int, float]
    verdict: Verdict


# ------------------------------------------------------------------ scores per row

def _all(f: Callable[[int], Optional[float]]) -> Optional[Dict[int, float]]:
    out = {}
    for k in SCHEMES:
        x = f(k)
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return None
        out[k] = float(x)
    return out


def _workload_params(df: pd.DataFrame, w: TlbWorkload, a: Analysis, preset: str
                     ) -> Optional[str]:
    for p in w.params:
        if all(sel.tlb_value(df, a.variant(k), w.bench, "tlb_l1d_misses_per_op", preset, p)
               is not None for k in SCHEMES):
            return p
    return None


def workloads(df: pd.DataFrame, a: Analysis, preset: str) -> List[Tuple[TlbWorkload, str]]:
    """The TLB workloads measured for all three schemes (the same set at every L1 size; a
    workload that fits an L1 stays in)."""
    out = []
    for w in TLB_WORKLOADS:
        if a.workload is not None and w.key != a.workload:
            continue
        p = _workload_params(df, w, a, preset)
        if p is not None:
            out.append((w, p))
    return out


def _misses(df: pd.DataFrame, v: str, bench: str, p: str, preset: str,
            l1: Optional[int]) -> Optional[float]:
    """L1 I + D misses per op (at an LRU L1 of l1 entries, from the runs' profile)."""
    if l1 is None:
        i = sel.tlb_value(df, v, bench, "tlb_l1i_misses_per_op", preset, p)
        d = sel.tlb_value(df, v, bench, "tlb_l1d_misses_per_op", preset, p)
    else:
        i = sel.tlb_value(df, v, bench, lru_metric("i", l1), preset, p)
        d = sel.tlb_value(df, v, bench, lru_metric("d", l1), preset, p)
    return None if i is None or d is None else i + d


def line_cycles(df: pd.DataFrame, v: str, bench: str, p: str, preset: str,
                model: costmodel.CostModel, l1: Optional[int] = None) -> Optional[float]:
    """Modelled cycles of one line under `model`; at an LRU L1 of `l1` entries the misses it
    adds or removes cost the run's own average miss cost (an assumption, as in crossover)."""
    ev = costmodel.events(df, v, preset, bench, p)
    if ev is None:
        return None
    cyc = sum(costmodel.breakdown_events(ev, preset, model).values())
    if l1 is not None:
        m0 = _misses(df, v, bench, p, preset, None)
        m1 = _misses(df, v, bench, p, preset, l1)
        if m0 is None or m1 is None:
            return None
        # a run without misses: a three-level walk from memory (an assumption)
        penalty = (costmodel.miss_cost(ev, preset, model) / m0 if m0 > 0
                   else 3 * model.constants(preset)["walk_ref"])
        cyc += (m1 - m0) * penalty
    return cyc


def _preset(df: pd.DataFrame, facts: Mapping[str, Any], a: Analysis) -> Optional[str]:
    return a.preset or table_preset(df, facts)


def score_latency(df: pd.DataFrame, facts: Mapping[str, Any], a: Analysis
                  ) -> Optional[Dict[int, float]]:
    if a.basis == "model":
        preset = _preset(df, facts, a)
        if preset is None:
            return None
        return _all(lambda k: line_cycles(df, a.variant(k), "bench_null", "", preset, a.model))
    return _all(lambda k: sel.icount_value(df, a.variant(k), "bench_null", "insns_per_op"))


def score_switch(df: pd.DataFrame, facts: Mapping[str, Any], a: Analysis
                 ) -> Optional[Dict[int, float]]:
    net = a.switch == "net"
    if a.basis == "model":
        preset = _preset(df, facts, a)
        if preset is None:
            return None

        def one(k: int) -> Optional[float]:
            v = a.variant(k)
            c = sel.ctx_choice(df, v, 0, mode="tlb", preset=preset)
            if c is None:
                return None
            x = line_cycles(df, v, "bench_ctx", c.switching, preset, a.model)
            if x is None or not net:
                return x
            if c.baseline is None:
                return None
            b = line_cycles(df, v, "bench_ctx", c.baseline, preset, a.model)
            return None if b is None else x - b
        return _all(one)

    def ic(k: int) -> Optional[float]:
        r = sel.ctx_switch_insns(df, a.variant(k), subtract=net)
        return None if r is None or (net and not r[1]) else r[0]
    return _all(ic)


def score_complexity(df: pd.DataFrame, facts: Mapping[str, Any], a: Analysis
                     ) -> Optional[Dict[int, float]]:
    from .complexity import scheme_loc
    return _all(lambda k: scheme_loc(facts, a.variant(k)))


def score_memory(df: pd.DataFrame, facts: Mapping[str, Any], a: Analysis
                 ) -> Optional[Dict[int, float]]:
    src = _memory_bench(df)
    if src is None:
        return None

    def pt(k: int) -> Optional[float]:
        d = sel.seed_dist(df, a.variant(k), src, "pt_pages", "")
        return None if d is None else d.mean
    return _all(pt)


def score_performance(df: pd.DataFrame, facts: Mapping[str, Any], a: Analysis
                      ) -> Optional[Dict[int, float]]:
    """Geomean over the workloads of each scheme's modelled cycles / scheme 2's."""
    if a.basis == "icount":
        from .figures import perf_insns
        parts = {k: perf_insns(df, a.variant(k)) for k in SCHEMES}
        if any(p is None for p in parts.values()):
            return None
        return {k: geomean([parts[k][b] / parts[2][b] for b in parts[2]])  # type: ignore
                for k in SCHEMES}
    preset = _preset(df, facts, a)
    if preset is None:
        return None
    ratios: Dict[int, List[float]] = {k: [] for k in SCHEMES}
    for w, p in workloads(df, a, preset):
        cyc = {k: line_cycles(df, a.variant(k), w.bench, p, preset, a.model, a.l1)
               for k in SCHEMES}
        if any(c is None or c <= 0 for c in cyc.values()):
            continue
        for k in SCHEMES:
            ratios[k].append(cyc[k] / cyc[2])  # type: ignore[operator]
    if not ratios[2]:
        return None
    return {k: geomean(r) for k, r in ratios.items()}


def score_tlb(df: pd.DataFrame, facts: Mapping[str, Any], a: Analysis
              ) -> Optional[Dict[int, float]]:
    """Geomean over the workloads of (misses + ε) / (scheme 2's misses + ε)."""
    preset = _preset(df, facts, a)
    if preset is None:
        return None
    ratios: Dict[int, List[float]] = {k: [] for k in SCHEMES}
    for w, p in workloads(df, a, preset):
        m = {k: _misses(df, a.variant(k), w.bench, p, preset, a.l1) for k in SCHEMES}
        if any(x is None for x in m.values()):
            continue
        for k in SCHEMES:
            ratios[k].append((m[k] + MISS_EPSILON) / (m[2] + MISS_EPSILON))  # type: ignore
    if not ratios[2]:
        return None
    return {k: geomean(r) for k, r in ratios.items()}


def score_security(df: pd.DataFrame, facts: Mapping[str, Any], a: Analysis
                   ) -> Optional[Dict[int, float]]:
    return threat_scores(df, facts, a.threat, asid=a.asid, kmap=a.kmap,
                         preset=_preset(df, facts, a), s2_kaslr=a.s2_kaslr)


SCORERS: Dict[str, Callable[[pd.DataFrame, Mapping[str, Any], Analysis],
                            Optional[Dict[int, float]]]] = {
    "latency": score_latency, "switch": score_switch, "security": score_security,
    "complexity": score_complexity, "performance": score_performance, "memory": score_memory,
    "tlb": score_tlb,
}

# The basis of each row's default analysis (summary column).
BASIS: Dict[str, str] = {
    "latency": "icount", "switch": "icount", "security": "design; probe: model",
    "complexity": "design (source lines)", "performance": "model", "memory": "design (PT pages)",
    "tlb": "model",
}
DEFAULT_BASIS = {"latency": "icount", "switch": "icount", "performance": "model"}


def verdict(key: str, scores: Optional[Mapping[int, float]], tol: float) -> Verdict:
    spec = ROW_BY_KEY[key]
    if not scores:
        return Verdict("n/a", "not measured")
    relative = key != "security"
    t = tol if relative else DEFAULT_TOLERANCES["security"]

    def cmp(x: float, y: float) -> int:
        return compare(x, y, lower_is_better=spec.lower_is_better, tol=t, relative=relative)
    return judge(spec, scores, cmp, lambda v: f"{v:.3g}", f"tie band ±{t * 100:g} %")


def evaluate(df: pd.DataFrame, facts: Mapping[str, Any], key: str,
             a: Analysis) -> RowResult:
    scores = SCORERS[key](df, facts, a)
    return RowResult(scores or {}, verdict(key, scores, a.tol))


def row_tol(key: str) -> float:
    """The row's default tie band (claims.DEFAULT_TOLERANCES; relative for every row but
    security, whose scores are bits and 'not mapped')."""
    return DEFAULT_TOLERANCES.get(key, DEFAULT_TOL)


def default_analysis(key: str) -> Analysis:
    return Analysis(basis=DEFAULT_BASIS.get(key, "default"), tol=row_tol(key))


# ------------------------------------------------------------------ the choices

def choices(df: pd.DataFrame, facts: Mapping[str, Any], key: str
            ) -> List[Tuple[str, str, Analysis]]:
    """(choice, value, analysis) of every one-factor change of the row's default that the
    data allows; the default itself comes first as ("default", "")."""
    base = default_analysis(key)
    out: List[Tuple[str, str, Analysis]] = [("default", "", base)]
    for t in TOLERANCES + ((base.tol,) if base.tol not in TOLERANCES else ()):
        if t != base.tol and key != "security":
            out.append(("tie band", f"{t * 100:g} %", replace(base, tol=t)))
    out.append(("ASIDs", "off", replace(base, asid=False)))
    out.append(("kernel map", "4 KiB", replace(base, kmap="4K")))
    presets = [p for p in _run_presets(df, facts) if p in PRESETS and p != "ideal"]
    tp = table_preset(df, facts)
    modelled = key in ("performance", "tlb", "security") or base.basis == "model"
    if key in ("latency", "switch"):
        for p in presets:
            out.append(("basis", f"model ({p})", replace(base, basis="model", preset=p)))
    if key == "switch":
        out.append(("switch", "net", replace(base, switch="net")))
        out.append(("switch", "net (model)", replace(base, switch="net", basis="model")))
    if modelled:
        for p in presets:
            if p != tp:
                out.append(("preset", p, replace(base, preset=p)))
    if key in ("performance", "tlb"):
        for w in TLB_WORKLOADS:
            out.append(("workload", w.key, replace(base, workload=w.key)))
        sizes = sorted({n for n in LRU_SIZES
                        if tp and sel.tlb_value(df, "s2-asid", "bench_tlb", lru_metric("d", n),
                                                tp, "pages=64") is not None})
        for n in sizes:
            out.append(("L1 size (LRU)", str(n), replace(base, l1=n)))
    if key == "performance":
        out.append(("basis", "icount", replace(base, basis="icount")))
    cost_rows = {"performance": base, "switch": replace(base, basis="model")}
    if key in cost_rows:
        b = cost_rows[key]
        for name, (lo, hi, _src) in costmodel.SWEEP.items():
            for x in (lo, hi):
                out.append(("cost " + name, f"{x:g}",
                            replace(b, model=b.model.with_constant(name, float(x)))))
    if key == "security":
        for t in THREATS:
            if t != base.threat:
                out.append(("threat", t, replace(base, threat=t)))
        if S2_KASLR in facts.get("variants", {}):
            for t in THREATS:
                out.append(("scheme 2 per-boot KASLR, threat", t,
                            replace(base, threat=t, s2_kaslr=True)))
    return out


@dataclass
class Robustness:
    key: str
    default: RowResult
    records: List[Tuple[str, str, str]]     # (choice, value, verdict), the default first

    @property
    def measured(self) -> List[Tuple[str, str, str]]:
        return [r for r in self.records if r[2] != "n/a"]

    @property
    def holds(self) -> int:
        return sum(1 for r in self.measured if r[2] == self.default.verdict.word)

    @property
    def flips(self) -> List[Tuple[str, str, str]]:
        return [r for r in self.measured if r[2] != self.default.verdict.word]

    def summary(self, limit: int = 3) -> str:
        n = len(self.measured)
        text = f"holds in {self.holds} of {n}"
        if not self.flips:
            return text
        shown = [f"{c} {v} → {w}" for c, v, w in self.flips[:limit]]
        more = len(self.flips) - limit
        return text + "; fails when " + ", ".join(shown) + (f" (+{more})" if more > 0 else "")


def robustness(df: pd.DataFrame, facts: Mapping[str, Any], key: str) -> Robustness:
    recs: List[Tuple[str, str, str]] = []
    default: Optional[RowResult] = None
    for choice, value, a in choices(df, facts, key):
        r = evaluate(df, facts, key, a)
        if default is None:
            default = r
        recs.append((choice, value, r.verdict.word))
    assert default is not None
    return Robustness(key, default, recs)


def robustness_csv(results: Sequence[Robustness]) -> str:
    """results/robustness.csv: row,choice,value,verdict."""
    lines = ["row,choice,value,verdict"]
    for r in results:
        for c, v, w in r.records:
            lines.append(",".join(_csv(x) for x in (r.key, c, v, w)))
    return "\n".join(lines) + "\n"


def _csv(x: str) -> str:
    return f'"{x}"' if ("," in x or '"' in x) else x


def footprint(df: pd.DataFrame, w: TlbWorkload, params: str) -> Optional[int]:
    return footprint_pages(w.bench, params_of(df, w.bench, params))
