"""Cost-model sweeps and crossover maps from the TLB-model runs (docs/harness.md "Crossover
maps"; docs/tlbmodel.md "Cost model").

Modelled cycles are a linear function of counted events, so a cost constant can be swept
without a new run: for one measured operation (a variant, a preset, a workload line)

    cycles(c) = tlb_model_cycles_per_op + satp_writes_per_op × (c − the preset's satp cost)

and, when the report carried an LRU stack-distance profile (the plugin's `lru_profile=on`,
rows `tlb_lru_l1{i,d}_misses_e<N>_per_op`), for a fully associative LRU L1 of N entries

    cycles(c, N) = cycles(c) + (misses(N) − misses) × penalty

with `penalty` the measured run's own cost per L1 miss (the cost model's L2-hit and walk cycles,
harness/report/costmodel.py, divided by its L1 misses; ASSUMED_MISS_PENALTY when it had none): an assumption, since
the misses a smaller or larger L1 adds need not cost what the measured ones did. Without an
LRU profile the size axis is the presets that were run, each at its own L1 size (and with
its own L2, walk cache and other cost constants): the points, not a sweep.

Pure functions of the measurement DataFrame; no QEMU.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import pandas as pd

from . import select as sel
from .report import costmodel
from .tidy import parse_params
from .tlb import (LRU_SIZES, PRESETS, TLB_WORKLOADS, TlbWorkload, exceeds_l1, footprint_pages,
                  lru_metric)

SCHEMES = (1, 2, 3)
# The swept satp-write cost, cycles: 0 .. 100 (the presets assume 5 .. 15).
SATP_COSTS: Tuple[int, ...] = tuple(range(0, 101))
# Cycles per L1 miss when the measured run had no miss to take the average from: a
# three-level walk from memory at 20 cycles a reference. An assumption.
ASSUMED_MISS_PENALTY = 60.0
# The cost per miss the L2-hit and walk-reference counts are charged in every preset
# (docs/tlbmodel.md "Cost model": l2_hit 4, walk_ref_mem 20; ideal has no L2).
PANELS = ("asid", "noasid")


def panel_variant(scheme: int, panel: str) -> str:
    return f"s{scheme}-{panel}"


@dataclass
class Events:
    """The events of one measured operation (per op) that the sweep needs."""
    preset: str
    params: str
    cycles: float                 # tlb_model_cycles_per_op: the preset's cost model
    satp: float                   # satp writes per op
    satp_source: str              # "model" (the report's count) or "icount" (kernel counter)
    misses: float                 # L1 I + D misses per op
    miss_cost: float              # the cost model's cycles of those misses (L2 hits, walks)
    lru: Dict[int, float] = field(default_factory=dict)   # N -> L1 I + D misses (LRU profile)

    @property
    def penalty(self) -> float:
        return self.miss_cost / self.misses if self.misses > 0 else ASSUMED_MISS_PENALTY

    def cycles_at(self, satp_cost: float, entries: Optional[int] = None) -> float:
        c_p = PRESETS[self.preset].satp_write if self.preset in PRESETS else 0.0
        out = self.cycles + self.satp * (satp_cost - c_p)
        if entries is not None:
            out += (self.lru[entries] - self.misses) * self.penalty
        return out

    def misses_at(self, entries: Optional[int] = None) -> float:
        return self.misses if entries is None else self.lru[entries]


def _tlb(df: pd.DataFrame, v: str, bench: str, metric: str, preset: str,
         params: str) -> Optional[float]:
    return sel.tlb_value(df, v, bench, metric, preset, params)


def events(df: pd.DataFrame, v: str, preset: str, bench: str, params: str,
           need_satp: bool = True) -> Optional[Events]:
    """The events of variant v's `bench params` line under `preset`, or None when the run
    lacks the per-preset modelled cycles (or, with need_satp, a satp-write count: then
    without one satp is NaN and satp_source "none")."""
    cyc = _tlb(df, v, bench, "tlb_model_cycles_per_op", preset, params)
    i = _tlb(df, v, bench, "tlb_l1i_misses_per_op", preset, params)
    d = _tlb(df, v, bench, "tlb_l1d_misses_per_op", preset, params)
    if cyc is None or i is None or d is None:
        return None
    satp = _tlb(df, v, bench, "tlb_satp_writes_per_op", preset, params)
    src = "model"
    if satp is None:
        satp = sel.icount_value(df, v, bench, "satp_per_op", params)
        src = "icount"
    if satp is None:
        if need_satp:
            return None
        satp, src = math.nan, "none"
    ev = costmodel.events(df, v, preset, bench, params)
    miss_cost = costmodel.miss_cost(ev, preset) if ev is not None else 0.0
    lru: Dict[int, float] = {}
    for n in LRU_SIZES:
        li = _tlb(df, v, bench, lru_metric("i", n), preset, params)
        ld = _tlb(df, v, bench, lru_metric("d", n), preset, params)
        if li is not None and ld is not None:
            lru[n] = li + ld
    return Events(preset, params, cyc, satp, src, i + d, miss_cost, lru)


def workload_params(df: pd.DataFrame, w: TlbWorkload, preset: str,
                    variants: Sequence[str]) -> Optional[str]:
    """The first candidate params of w that every one of `variants` has under preset."""
    for p in w.params:
        if all(_tlb(df, v, w.bench, "tlb_l1d_misses_per_op", preset, p) is not None
               for v in variants):
            return p
    return None


def workload_pages(w: TlbWorkload, params: str) -> Optional[int]:
    return footprint_pages(w.bench, parse_params(params))


@dataclass
class Point:
    """One point of the size axis: an LRU size under one preset's run, or a preset itself."""
    label: str
    entries: int                  # L1 D entries (the axis value)
    preset: str
    lru: Optional[int] = None     # the LRU size, when the point comes from an LRU profile

    @property
    def hypothetical(self) -> bool:
        """An LRU size that is not the preset's own (nor its replacement: the preset is PLRU)."""
        return self.lru is not None


def lru_available(df: pd.DataFrame, w: TlbWorkload, preset: str, variants: Sequence[str]
                  ) -> Optional[Tuple[str, List[int]]]:
    p = workload_params(df, w, preset, variants)
    if p is None:
        return None
    sizes = None
    for v in variants:
        ev = events(df, v, preset, w.bench, p)
        if ev is None or not ev.lru:
            return None
        sizes = set(ev.lru) if sizes is None else sizes & set(ev.lru)
    return (p, sorted(sizes)) if sizes else None


def size_axis(df: pd.DataFrame, w: TlbWorkload, panel: str, presets: Sequence[str],
              lru_preset: Optional[str], need_satp: bool = True) -> List[Point]:
    """The size axis of workload w's map for a panel ("asid": the ASID variants under the
    presets with ASIDs; "noasid": the no-ASID variants under every preset). With an LRU
    profile in lru_preset's runs: its LRU sizes; otherwise the presets' own L1 sizes."""
    variants = [panel_variant(s, panel) for s in SCHEMES]
    usable = [p for p in presets if p in PRESETS and p != "ideal"
              and (panel == "noasid" or PRESETS[p].asid_bits > 0)]
    if lru_preset in usable:
        got = lru_available(df, w, lru_preset, variants)
        if got:
            return [Point(f"LRU {n}", n, lru_preset, lru=n) for n in got[1]]
    pts = []
    for p in usable:
        if scheme_events(df, w, panel, p, need_satp) is None:
            continue
        info = PRESETS[p]
        pts.append(Point(f"{p} ({info.l1i}/{info.l1d})", int(info.l1d or 0), p))
    return sorted(pts, key=lambda q: (q.entries, q.preset))


def scheme_events(df: pd.DataFrame, w: TlbWorkload, panel: str, preset: str,
                  need_satp: bool = True) -> Optional[Dict[int, Events]]:
    variants = [panel_variant(s, panel) for s in SCHEMES]
    for p in w.params:
        out = {}
        for s, v in zip(SCHEMES, variants):
            ev = events(df, v, preset, w.bench, p, need_satp)
            if ev is None:
                break
            out[s] = ev
        if len(out) == len(SCHEMES):
            return out
    return None


@dataclass
class Map:
    """One panel of a crossover map: ratio[pair][row][col] over points × SATP_COSTS."""
    workload: TlbWorkload
    panel: str
    points: List[Point]
    costs: Tuple[int, ...]
    ratio: Dict[Tuple[int, int], List[List[float]]]
    params: Dict[str, str]            # preset -> params used
    satp_source: str                  # "model" or "icount" (or "model+icount")
    loads: Dict[str, bool]            # preset -> the footprint exceeds its L1

    @property
    def uses_lru(self) -> bool:
        return any(p.lru is not None for p in self.points)

    def crossing(self, pair: Tuple[int, int], row: int) -> Optional[float]:
        """The satp cost where ratio[pair] crosses 1 in a row (linear in c), if in range."""
        r = self.ratio[pair][row]
        for k in range(1, len(r)):
            a, b = r[k - 1] - 1.0, r[k] - 1.0
            if a * b < 0 or (a == 0 and b != 0) or (b == 0 and a != 0 and k == len(r) - 1):
                c0, c1 = self.costs[k - 1], self.costs[k]
                return c0 + (c1 - c0) * a / (a - b)
        return None


PAIRS: Tuple[Tuple[int, int], ...] = ((1, 2), (3, 2))


def crossover_map(df: pd.DataFrame, w: TlbWorkload, panel: str, presets: Sequence[str],
                  lru_preset: Optional[str], costs: Sequence[int] = SATP_COSTS
                  ) -> Optional[Map]:
    points = size_axis(df, w, panel, presets, lru_preset)
    if not points:
        return None
    ratio: Dict[Tuple[int, int], List[List[float]]] = {pr: [] for pr in PAIRS}
    params: Dict[str, str] = {}
    sources = set()
    loads: Dict[str, bool] = {}
    for pt in points:
        evs = scheme_events(df, w, panel, pt.preset)
        assert evs is not None
        params[pt.preset] = evs[2].params
        sources |= {e.satp_source for e in evs.values()}
        loads[pt.preset] = exceeds_l1(pt.preset, workload_pages(w, evs[2].params))
        for a, b in PAIRS:
            row = []
            for c in costs:
                den = evs[b].cycles_at(c, pt.lru)
                row.append(evs[a].cycles_at(c, pt.lru) / den if den > 0 else math.nan)
            ratio[(a, b)].append(row)
    return Map(w, panel, points, tuple(costs), ratio, params,
               "+".join(sorted(sources)), loads)


def maps(df: pd.DataFrame, presets: Sequence[str], lru_preset: Optional[str]
         ) -> List[Tuple[TlbWorkload, Dict[str, Map]]]:
    """Every TLB workload with at least one panel of data."""
    out = []
    for w in TLB_WORKLOADS:
        panels = {}
        for panel in PANELS:
            m = crossover_map(df, w, panel, presets, lru_preset)
            if m is not None:
                panels[panel] = m
        if panels:
            out.append((w, panels))
    return out


# ------------------------------------------------------------------ regions of a verdict

def intervals(costs: Sequence[int], words: Sequence[str]) -> List[Tuple[int, int, str]]:
    """Runs of equal words over the swept costs: (first cost, last cost, word)."""
    out: List[Tuple[int, int, str]] = []
    for c, wd in zip(costs, words):
        if out and out[-1][2] == wd:
            out[-1] = (out[-1][0], c, wd)
        else:
            out.append((c, c, wd))
    return out


def fmt_intervals(iv: Sequence[Tuple[int, int, str]]) -> str:
    return ", ".join(f"{wd} at {a}–{b}" if a != b else f"{wd} at {a}" for a, b, wd in iv)


def region_text(rows: Sequence[Tuple[str, Sequence[Tuple[int, int, str]]]]) -> str:
    """`label: agree for satp write 0–100 cycles` per row of the size axis."""
    parts = []
    for label, iv in rows:
        if len(iv) == 1:
            parts.append(f"{label}: {iv[0][2]} over the whole range")
        else:
            parts.append(f"{label}: {fmt_intervals(iv)} cycles")
    return "; ".join(parts)


def sweep_words(costs: Sequence[int], score_at: Callable[[int], Optional[Mapping[int, float]]],
                judge_word: Callable[[Mapping[int, float]], str]
                ) -> List[Tuple[int, int, str]]:
    words = []
    for c in costs:
        sc = score_at(c)
        words.append("n/a" if sc is None else judge_word(sc))
    return intervals(costs, words)


def asid_preset(presets: Sequence[str]) -> Optional[str]:
    """The first preset of a real core with ASIDs (the table's TLB preset)."""
    for p in presets:
        if p in PRESETS and p != "ideal" and PRESETS[p].asid_bits > 0:
            return p
    return None


def axis_note(m: Map) -> str:
    """What the size axis of a map is, for a caption."""
    if m.uses_lru:
        p = m.points[0].preset
        return (f"size axis: fully associative LRU L1 I and D of N entries each, from one "
                f"{p} run's LRU profile; hypothetical except N = {PRESETS[p].l1d} "
                f"({p}'s own size, PLRU there); {p}'s L2 and costs, each added miss charged "
                f"the run's own cost per miss (an assumption)")
    return ("size axis: the presets that were run, each at its own L1 size with its own L2, "
            "walk cache and cost constants (no LRU profile in these runs)")


def workload_label(w: TlbWorkload, params: str) -> str:
    """A workload's name from the params used: `bench_tlb K=64`, `mix 256 KiB/10`."""
    p = parse_params(params)
    if w.bench == "bench_tlb":
        return f"bench_tlb K={p.get('pages')}"
    if w.bench == "bench_ctx":
        return f"ctx {p.get('procs')}×{p.get('ws_kb')} KiB"
    if w.bench == "bench_pipe":
        return f"pipe ctx {p.get('procs')}×{p.get('ws_kb')} KiB"
    if w.bench == "bench_mix":
        return f"mix {p.get('ws_kb')} KiB/{p.get('every')}"
    if w.bench == "bench_app":
        return f"kv {p.get('kv_kb')} KiB"
    return f"{w.bench} {params}"
