"""Where a verdict holds: the satp-write cost and L1-size axes (harness.crossover)."""
from __future__ import annotations

import pandas as pd
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from .. import crossover as xo
from ..tlb import TLB_WORKLOADS
from .claims import CTX_WHOLE, RELATIVE, ROW_BY_KEY, RowSpec, SCHEMES
from .figures import MISS_EPSILON, _run_presets, table_preset
from .format import fmt_num, geomean
from .ranking import compare, judge


def _word_fn(spec: RowSpec, tol: Mapping[str, float]
             ) -> Callable[[Mapping[int, float]], str]:
    def word(scores: Mapping[int, float]) -> str:
        def cmp(a: float, b: float) -> int:
            return compare(a, b, lower_is_better=spec.lower_is_better, tol=tol[spec.key],
                           relative=spec.key in RELATIVE)
        return judge(spec, scores, cmp, fmt_num, "").word
    return word


def _panel_title(panel: str) -> str:
    return "with ASIDs" if panel == "asid" else "without ASIDs"


def _points(df: pd.DataFrame, facts: Mapping[str, Any], panel: str,
            need_satp: bool = True) -> List[xo.Point]:
    pts: Dict[Tuple[str, Optional[int]], xo.Point] = {}
    for w in TLB_WORKLOADS:
        for pt in xo.size_axis(df, w, panel, _run_presets(df, facts), table_preset(df, facts),
                               need_satp):
            pts[(pt.preset, pt.lru)] = pt
    return sorted(pts.values(), key=lambda q: (q.entries, q.preset))


def _loading_events(df: pd.DataFrame, panel: str, pt: xo.Point, need_satp: bool = True
                    ) -> List[Dict[int, xo.Events]]:
    """The scheme events of every measured TLB workload: the same set at every L1 size (a
    workload that fits the point's L1 stays in the mean)."""
    out = []
    for w in TLB_WORKLOADS:
        e = xo.scheme_events(df, w, panel, pt.preset, need_satp)
        if e is None or (pt.lru is not None and not all(pt.lru in x.lru for x in e.values())):
            continue
        out.append(e)
    return out


def _group_rows(rows: List[Tuple[str, Any, List[Tuple[int, int, str]]]]
                ) -> List[Tuple[str, List[Tuple[int, int, str]]]]:
    """Consecutive points of one panel with the same intervals share one entry: rows are
    (panel, (point or label, number of workloads or None), intervals)."""
    groups: List[Tuple[str, List[Any], List[Tuple[int, int, str]]]] = []
    for panel, pt, iv in rows:
        if groups and groups[-1][0] == panel and groups[-1][2] == iv:
            groups[-1][1].append(pt)
        else:
            groups.append((panel, [pt], iv))
    out = []
    for panel, pts, iv in groups:
        lru = [p for p, _ in pts if isinstance(p, xo.Point) and p.lru is not None]
        if lru and len(lru) == len(pts):
            a, b = lru[0].lru, lru[-1].lru
            label = f"LRU L1 {a}{'' if a == b else f'–{b}'} entries"
        else:
            label = " / ".join(p.label if isinstance(p, xo.Point) else str(p) for p, _ in pts)
        ns = sorted({n for _, n in pts if n is not None})
        if ns:
            label += f" [{ns[0]}{'' if len(ns) == 1 else f'–{ns[-1]}'} workloads]"
        out.append((f"{_panel_title(panel)}, {label}", iv))
    return out


def _fail_text(grouped: Sequence[Tuple[str, Sequence[Tuple[int, int, str]]]],
               costs: bool) -> str:
    bad = []
    for label, iv in grouped:
        for a, b, wd in iv:
            if wd in ("disagree", "partly"):
                where = f"{label}" + (f" at satp write {a}–{b} cycles" if costs else "")
                bad.append(f"{wd} ({where})")
    if not bad:
        return "the document's order holds everywhere in this region"
    return "where the document's claim fails or ties: " + "; ".join(bad)


def region_performance(df: pd.DataFrame, facts: Mapping[str, Any],
                       tol: Mapping[str, float]) -> str:
    """Where the performance verdict holds: over satp-write cost 0..100 × the size axis."""
    spec = ROW_BY_KEY["performance"]
    word = _word_fn(spec, tol)
    rows = []
    for panel in xo.PANELS:
        for pt in _points(df, facts, panel):
            evs = _loading_events(df, panel, pt)
            if not evs:
                continue

            def score_at(c: int, evs: List[Dict[int, xo.Events]] = evs,
                         pt: xo.Point = pt) -> Dict[int, float]:
                return {k: geomean([e[k].cycles_at(c, pt.lru) for e in evs]) for k in SCHEMES}
            rows.append((panel, (pt, len(evs)), xo.sweep_words(xo.SATP_COSTS, score_at, word)))
    if not rows:
        return ""
    g = _group_rows(rows)
    lru = any(pt.lru is not None for pn in xo.PANELS for pt in _points(df, facts, pn))
    axis = ("L1 sizes: fully associative LRU L1s from the runs' LRU profile, hypothetical "
            "sizes with the table preset's L2 and costs" if lru else
            "L1 sizes = the presets run, each with its own L2 and costs")
    return (f"Region (geomean of modelled cycles over the TLB workloads, satp write "
            f"swept {xo.SATP_COSTS[0]}–{xo.SATP_COSTS[-1]} cycles; {axis}): "
            + xo.region_text(g) + "; " + _fail_text(g, True))


def region_tlb(df: pd.DataFrame, facts: Mapping[str, Any], tol: Mapping[str, float]) -> str:
    """Where the TLB verdict holds over the size axis (misses do not depend on costs)."""
    spec = ROW_BY_KEY["tlb"]
    word = _word_fn(spec, tol)
    rows = []
    for panel in xo.PANELS:
        for pt in _points(df, facts, panel, need_satp=False):
            evs = _loading_events(df, panel, pt, need_satp=False)
            ratios: Dict[int, List[float]] = {k: [] for k in SCHEMES}
            for e in evs:
                ref = e[2].misses_at(pt.lru) + MISS_EPSILON
                for k in SCHEMES:
                    ratios[k].append((e[k].misses_at(pt.lru) + MISS_EPSILON) / ref)
            if not ratios[2]:
                continue
            sc = {k: geomean(r) for k, r in ratios.items()}
            rows.append((panel, (pt, len(ratios[2])), [(0, 0, word(sc))]))
    if not rows:
        return ""
    g = _group_rows(rows)
    lru = any(pt.lru is not None for pn in xo.PANELS for pt in _points(df, facts, pn, False))
    axis = ("LRU sizes from the runs' profile, hypothetical" if lru else "the presets run")
    return (f"Region (L1 size axis: {axis}): " + "; ".join(f"{lab}: {iv[0][2]}" for lab, iv in g)
            + "; " + _fail_text(g, False))


def region_switch(df: pd.DataFrame, facts: Mapping[str, Any], tol: Mapping[str, float]) -> str:
    """Where the whole-yield ranking holds in modelled cycles over the satp-write cost."""
    spec = ROW_BY_KEY["switch"]
    word = _word_fn(spec, tol)
    preset = table_preset(df, facts)
    if preset is None:
        return ""
    rows = []
    for panel in xo.PANELS:
        evs = {}
        for k in SCHEMES:
            e = xo.events(df, xo.panel_variant(k, panel), preset, "bench_ctx", CTX_WHOLE)
            if e is not None:
                evs[k] = e
        if len(evs) < len(SCHEMES):
            continue

        def score_at(c: int, evs: Dict[int, xo.Events] = evs) -> Dict[int, float]:
            return {k: e.cycles_at(c) for k, e in evs.items()}
        rows.append((panel, (preset, None), xo.sweep_words(xo.SATP_COSTS, score_at, word)))
    if not rows:
        return ""
    g = _group_rows(rows)
    return (f"In modelled cycles of the whole yield ({preset} events, satp write swept "
            f"{xo.SATP_COSTS[0]}–{xo.SATP_COSTS[-1]} cycles): " + xo.region_text(g) + "; "
            + _fail_text(g, True))


REGIONS: Dict[str, Callable[[pd.DataFrame, Mapping[str, Any], Mapping[str, float]], str]] = {
    "performance": region_performance, "tlb": region_tlb, "switch": region_switch,
}
