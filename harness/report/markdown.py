"""The design document's final comparison table, regenerated from measurements.

`render_comparison(df, facts)` is a pure function: the tidy measurement DataFrame (see tidy.py)
and the facts dict (see facts.py) in, markdown out. No clock, no file system, no QEMU.

For each dimension and scheme a cell holds the measured figure(s) of the ASID and no-ASID
variants, the ranking derived from the figures (best / middle / worst, ties within a stated
tolerance) and the document's own rating; the last columns say whether the measurement agrees
with the document and why, in one line. The ranking uses the scheme's ASID variant (the
default configuration), or the no-ASID variant when the ASID one has no data.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import pandas as pd

from . import crossover as xo
from . import select as sel
from .facts import varying_bits
from .tlb import (CYCLE_MODEL_SHORT, CYCLE_MODEL_TEXT, PRESET_TEXT, PRESETS, TLB_WORKLOADS,
                  TlbWorkload, exceeds_l1, footprint_pages)
from .tidy import parse_params
from .variants import VARIANT_NAMES

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
    "tlb": 0.05,          # relative, L1 TLB misses (model)
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


@dataclass
class Figure:
    """One variant's figure for one dimension."""
    score: Optional[float]          # what the ranking uses (None: not measured)
    text: str                       # what the cell shows
    alt: Optional[float] = None     # secondary ranking value (wall ns), if any
    notes: List[str] = field(default_factory=list)
    # further rankings shown in the Reason when they differ: name -> value (lower is better)
    extra: Dict[str, float] = field(default_factory=dict)


# ------------------------------------------------------------------ formatting

def fmt_num(v: float) -> str:
    if math.isinf(v):
        return "∞"
    if float(v).is_integer():
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_dist(d: Optional[sel.SeedDist]) -> str:
    """A figure over scheme 3's kaslr seeds: the mean, and (min–max, n) when it varies."""
    if d is None:
        return "–"
    if d.varies:
        return f"{fmt_num(d.mean)} (mean; {fmt_num(d.min)}–{fmt_num(d.max)}, n={d.n} seeds)"
    return fmt_num(d.mean)


def fmt_wall(s: sel.WallStats) -> str:
    return f"{fmt_num(s.median)} ns median ({fmt_num(s.min)}–{fmt_num(s.max)}, n={s.n})"


# ------------------------------------------------------------------ the figures

def _variant_names(scheme: int) -> Tuple[str, str]:
    return f"s{scheme}-asid", f"s{scheme}-noasid"


def fig_latency(df: pd.DataFrame, facts: Mapping[str, Any], v: str) -> Figure:
    insns = sel.icount_value(df, v, "bench_null", "insns_per_op")
    wall = sel.stats(sel.wall_values(df, v, "bench_null"))
    if insns is None and wall is None:
        return Figure(None, "not measured")
    parts = []
    if insns is not None:
        parts.append(f"{fmt_num(insns)} insns")
    if wall is not None:
        parts.append(fmt_wall(wall))
    return Figure(insns, "; ".join(parts), alt=wall.median if wall else None)


CTX_WHOLE = "procs=2,ws_kb=0"   # the whole yield to another process (bench_ctx, ws 0)


def fig_switch(df: pd.DataFrame, facts: Mapping[str, Any], v: str) -> Figure:
    """The whole yield to another process (trap + switch + return: bench_ctx at working set 0
    with 2 processes, per switch, raw), with its satp writes, sfence.vma and modelled cycles;
    the net figure (minus the 1-process yield) beside it."""
    raw = sel.ctx_switch_insns(df, v, subtract=False)
    net = sel.ctx_switch_insns(df, v)
    wall = sel.ctx_switch_wall(df, v, subtract=False)
    if raw is None and wall is None:
        return Figure(None, "not measured")
    parts = []
    extra: Dict[str, float] = {}
    if raw is not None:
        satp = sel.ctx_switch_insns(df, v, "satp_per_op", subtract=False)
        sfence = sel.ctx_switch_insns(df, v, "sfence_per_op", subtract=False)
        text = f"whole yield {fmt_num(raw[0])} insns"
        if satp is not None and sfence is not None:
            text += f", {fmt_num(satp[0])} satp + {fmt_num(sfence[0])} sfence.vma"
        parts.append(text + " per switch")
    preset = table_preset(df, facts)
    if preset is not None:
        cyc = sel.ctx_switch_tlb(df, v, "tlb_model_cycles_per_op", preset, subtract=False)
        if cyc is not None:
            parts.append(f"{fmt_num(cyc[0])} modelled cycles ({preset})")
            extra[f"modelled cycles ({preset})"] = cyc[0]
    if wall is not None:
        parts.append(fmt_wall(wall[0]))
    if net is not None and net[1]:
        parts.append(f"net (minus the 1-process yield) {fmt_num(net[0])} insns")
    elif raw is not None:
        parts.append("net: no 1-process line †")
    return Figure(raw[0] if raw else None, "; ".join(parts),
                  alt=wall[0].median if wall else None, extra=extra)


def security_score(vf: Mapping[str, Any]) -> Tuple[Optional[float], str]:
    mapped = vf.get("kernel_mapped_in_user")
    if mapped is None:
        return None, "not measured"
    if mapped is False:
        return math.inf, "kernel not mapped in user tables"
    k = vf.get("kaslr")
    if not k:
        return None, "kernel mapped in user tables; not measured (no kaslr_probe run)"
    n, distinct = int(k["processes"]), int(k["distinct"])
    if distinct <= 1:
        return 0.0, f"kernel mapped; same kernel VA in {n}/{n} processes (0 bits)"
    theory: Optional[float] = None
    source = ""
    if k.get("kernel_entropy_bits") is not None:
        theory, source = float(k["kernel_entropy_bits"]), "kernel-reported"
    elif k.get("kernel_slots"):
        theory, source = math.log2(k["kernel_slots"]), f"log2 of {k['kernel_slots']} slots"
    elif k.get("documented_slots"):
        theory, source = (math.log2(k["documented_slots"]),
                          f"log2 of {k['documented_slots']} documented slots")
    est, est_text = varying_bits(list(k.get("slots", [])))
    text = f"kernel mapped; {distinct}/{n} distinct slots"
    score: Optional[float] = theory
    if est is not None:
        # The observation caps the claim: a source cannot have more bits than vary.
        score = float(est) if score is None else min(score, float(est) + 1.0)
    if theory is not None:
        text += f"; {theory:.1f} bits ({source})"
    text += f"; {est_text}"
    if score is None:
        score = math.log2(distinct)  # the least the observation supports
        text += f"; ≥ {score:.1f} bits observed"
    return score, text


def _yes(b: Any) -> str:
    return "yes" if b else "no"


def first_preset(df: pd.DataFrame, facts: Mapping[str, Any]) -> Optional[str]:
    """The run's first preset (--tlb-presets), else the first present in the data."""
    ps = (facts.get("tlbmodel") or {}).get("presets") or []
    if ps:
        return str(ps[0])
    present = sel.presets(df)
    return present[0] if present else None


def _run_presets(df: pd.DataFrame, facts: Mapping[str, Any]) -> List[str]:
    ps = [str(p) for p in (facts.get("tlbmodel") or {}).get("presets") or []]
    return list(dict.fromkeys(ps + sel.presets(df)))


def table_preset(df: pd.DataFrame, facts: Mapping[str, Any]) -> Optional[str]:
    """The preset the table's TLB, performance and switch cells use: the run's first preset of
    a real core with ASIDs (c906, c910, xiangshan: the ASID and no-ASID variants differ there)
    that has data; else the run's first preset (whose cells then say it has no ASIDs)."""
    present = set(sel.presets(df))
    for p in _run_presets(df, facts):
        info = PRESETS.get(p)
        if info and info.asid_bits > 0 and p != "ideal" and p in present:
            return p
    return first_preset(df, facts)


def preset_label(preset: str) -> str:
    """`c906` or `u54 (no ASIDs)` for a cell."""
    info = PRESETS.get(preset)
    if info is None:
        return preset
    if preset == "ideal":
        return f"{preset} (hypothetical: no core)"
    return preset if info.asid_bits else f"{preset} (no ASIDs: asid = noasid)"


def tlb_missing_reason(facts: Mapping[str, Any]) -> str:
    """Why TLB figures are absent, as far as the facts say."""
    t = facts.get("tlbmodel")
    if not t:
        return "not measured (no TLB-model runs)"
    if not t.get("enabled"):
        return "not measured (TLB runs skipped: --no-tlb)"
    if t.get("built") is False:
        return (f"not measured (TLB-model plugin not built: {t.get('build_error') or 'failed'}; "
                f"log: {t.get('build_log')})")
    return "not measured"


def tlb_failed(facts: Mapping[str, Any], v: str, benches: Sequence[str],
               preset: Optional[str]) -> List[str]:
    """The TLB-model runs of these benchmarks that failed for a variant and preset."""
    vf = facts.get("variants", {}).get(v, {})
    return sorted({f.get("bench") for f in vf.get("run_failures", [])
                   if f.get("mode") == "tlb" and f.get("preset") == preset
                   and f.get("bench") in benches})


def probe_text(facts: Mapping[str, Any], v: str, preset: Optional[str]) -> str:
    vf = facts.get("variants", {}).get(v, {})
    pr = (vf.get("tlb_probe") or {}).get(preset) if preset else None
    if not pr:
        if tlb_failed(facts, v, ["kernel_probe"], preset):
            return f"TLB probe ({preset}): not measured (failed run, listed below)"
        return f"TLB probe ({preset or 'model'}): not measured"
    return (f"TLB probe ({preset}): own-slot hit {_yes(pr.get('probe_own_slot_hit'))}, "
            f"other-process hit {_yes(pr.get('probe_other_process_hit'))}")


def fig_security(df: pd.DataFrame, facts: Mapping[str, Any], v: str) -> Figure:
    vf = facts.get("variants", {}).get(v, {})
    score, text = security_score(vf)
    return Figure(score, text + "; " + probe_text(facts, v, table_preset(df, facts)))


@dataclass
class TlbFigures:
    preset: str
    null_i: Optional[float] = None
    null_d: Optional[float] = None
    null_user: Optional[float] = None
    null_after_flush: Optional[float] = None
    null_cycles: Optional[float] = None
    sw_i: Optional[float] = None
    sw_d: Optional[float] = None
    sw_cycles: Optional[float] = None
    sw_net: bool = True   # the 1-process line was subtracted

    @property
    def null_l1(self) -> Optional[float]:
        return None if self.null_i is None or self.null_d is None else self.null_i + self.null_d

    @property
    def sw_l1(self) -> Optional[float]:
        return None if self.sw_i is None or self.sw_d is None else self.sw_i + self.sw_d

    @property
    def empty(self) -> bool:
        return self.null_l1 is None and self.sw_l1 is None


def tlb_figures(df: pd.DataFrame, v: str, preset: str) -> TlbFigures:
    f = TlbFigures(preset)

    def null(metric: str) -> Optional[float]:
        return sel.tlb_value(df, v, "bench_null", metric, preset, "")

    f.null_i, f.null_d = null("tlb_l1i_misses_per_op"), null("tlb_l1d_misses_per_op")
    f.null_user = null("tlb_user_misses_per_op")
    f.null_after_flush = null("tlb_misses_after_flush_per_op")
    f.null_cycles = null("model_cycles_per_op")
    i = sel.ctx_switch_tlb(df, v, "tlb_l1i_misses_per_op", preset)
    d = sel.ctx_switch_tlb(df, v, "tlb_l1d_misses_per_op", preset)
    c = sel.ctx_switch_tlb(df, v, "model_cycles_per_op", preset)
    if i is not None and d is not None:
        f.sw_i, f.sw_d, f.sw_net = i[0], d[0], i[1] and d[1]
    if c is not None:
        f.sw_cycles = c[0]
    return f


def _opt(v: Optional[float]) -> str:
    return "–" if v is None else fmt_num(v)


def _ref_variant(v: str) -> str:
    """Scheme 2's variant with the same ASID setting (s1-asid -> s2-asid)."""
    return "s2-" + v.split("-", 1)[1]


short_label = xo.workload_label


@dataclass
class WorkloadFig:
    """One TLB workload of one variant under one preset (per op)."""
    w: TlbWorkload
    params: str
    misses: float               # L1 I + D
    cycles: Optional[float]     # tlb_model_cycles_per_op (the preset's cost model)
    pages: Optional[int]        # the footprint (user data pages)
    loads: bool                 # the footprint exceeds the preset's L1 DTLB

    @property
    def label(self) -> str:
        return short_label(self.w, self.params)


def tlb_workload_figs(df: pd.DataFrame, v: str, preset: str,
                      ref: Optional[str] = None) -> List[WorkloadFig]:
    """The TLB workloads (harness.tlb.TLB_WORKLOADS) measured for v under preset, at the first
    candidate params that v (and `ref`, when given) both have."""
    out = []
    if ref == v:
        ref = None
    for w in TLB_WORKLOADS:
        for params in w.params:
            vals = {}
            for x in ([v] + ([ref] if ref else [])):
                i = sel.tlb_value(df, x, w.bench, "tlb_l1i_misses_per_op", preset, params)
                d = sel.tlb_value(df, x, w.bench, "tlb_l1d_misses_per_op", preset, params)
                if i is None or d is None:
                    break
                vals[x] = i + d
            if len(vals) < 1 + (1 if ref else 0):
                continue
            pages = footprint_pages(w.bench, parse_params(params))
            cyc = sel.tlb_value(df, v, w.bench, "tlb_model_cycles_per_op", preset, params)
            out.append(WorkloadFig(w, params, vals[v], cyc, pages, exceeds_l1(preset, pages)))
            break
    return out


def _ratio_mean(mine: Sequence[WorkloadFig], ref: Sequence[WorkloadFig]) -> Optional[float]:
    """The mean over the TLB-loading workloads of my L1 misses / scheme 2's (workloads where
    scheme 2 misses nothing are left out)."""
    rmap = {(f.w.key, f.params): f for f in ref}
    rs = [f.misses / rmap[(f.w.key, f.params)].misses for f in mine
          if f.loads and (f.w.key, f.params) in rmap and rmap[(f.w.key, f.params)].misses > 0]
    return sum(rs) / len(rs) if rs else None


def fig_tlb(df: pd.DataFrame, facts: Mapping[str, Any], v: str) -> Figure:
    """L1 misses per op of the workloads whose footprint exceeds the preset's L1 (the table's
    preset: a real core with ASIDs), as a mean ratio to scheme 2."""
    preset = table_preset(df, facts)
    if preset is None:
        return Figure(None, tlb_missing_reason(facts))
    ref = _ref_variant(v)
    figs = tlb_workload_figs(df, v, preset, ref)
    failed = tlb_failed(facts, v, sorted({w.bench for w in TLB_WORKLOADS}), preset)
    if not figs:
        figs_alone = tlb_workload_figs(df, v, preset)
        if not figs_alone:
            if failed:
                return Figure(None, f"not measured [{preset}]: failed run of "
                                    f"{' and '.join(failed)} (listed below)")
            return Figure(None, tlb_missing_reason(facts) + f" [{preset}]")
        figs = figs_alone
    parts = []
    for f in figs:
        t = f"{f.label} {fmt_num(f.misses)}/{f.w.per}"
        if not f.loads:
            t += " (fits the L1: not ranked)"
        parts.append(t)
    score = _ratio_mean(figs, tlb_workload_figs(df, ref, preset, v))
    n = sum(1 for f in figs if f.loads)
    head = f"{preset_label(preset)}: L1 I+D misses: " + "; ".join(parts)
    if failed:
        head += f"; failed run of {' and '.join(failed)} (listed below)"
    if score is None:
        return Figure(None, head + f"; not ranked (no {ref} reference or no workload "
                                   f"exceeding the L1)")
    return Figure(score, head + f"; mean {score:.2f}× {ref} over the {n} workloads "
                                f"exceeding the L1")


def fig_complexity(df: pd.DataFrame, facts: Mapping[str, Any], v: str) -> Figure:
    vf = facts.get("variants", {}).get(v, {})
    loc = vf.get("loc") or {}
    src, trap = loc.get("scheme_src"), loc.get("trap_s_specific")
    insns = sel.icount_value(df, v, "bench_null", "insns_per_op")
    if src is None:
        return Figure(None, "not measured" + (f"; trap path {fmt_num(insns)} insns"
                                               if insns is not None else ""))
    total = src + (trap or 0)
    name = str(loc.get("scheme_file", "")).rsplit("/", 1)[-1]
    text = (f"{total} LOC ({name} {src} + trap.S {trap if trap is not None else 'n/a'})")
    if insns is not None:
        text += f"; trap path {fmt_num(insns)} insns"
    return Figure(float(total), text)


PERF_PARTS = ("bench_null", "bench_ctx", "bench_fork")


def perf_insns(df: pd.DataFrame, v: str) -> Optional[Dict[str, float]]:
    null = sel.icount_value(df, v, "bench_null", "insns_per_op")
    ctx = sel.ctx_switch_insns(df, v, subtract=False)
    fork = sel.icount_value(df, v, "bench_fork", "insns_per_op")
    if null is None or ctx is None or fork is None:
        return None
    return {"bench_null": null, "bench_ctx": ctx[0], "bench_fork": fork}


def geomean(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(x) for x in values) / len(values))


def _icount_perf_ratio(df: pd.DataFrame, v: str) -> Optional[Tuple[float, float, str]]:
    """(raw geomean, ratio to scheme 2, reference) of the icount instructions of bench_null,
    bench_ctx (ws 0, raw) and bench_fork."""
    mine = perf_insns(df, v)
    if mine is None or any(x <= 0 for x in mine.values()):
        return None
    raw = geomean(list(mine.values()))
    asid = v.endswith("-asid")
    for r in (["s2-asid", "s2-noasid"] if asid else ["s2-noasid", "s2-asid"]):
        ref = perf_insns(df, r)
        if ref is not None and all(x > 0 for x in ref.values()):
            return raw, geomean([mine[k] / ref[k] for k in PERF_PARTS]), r
    return raw, math.nan, ""


def fig_performance(df: pd.DataFrame, facts: Mapping[str, Any], v: str) -> Figure:
    """Modelled cycles (the table preset's cost model) of the TLB-loading workloads, geometric
    mean as a ratio to scheme 2 (same ASID setting); the icount instruction geomean of null,
    switch and fork beside it. Without TLB data: the instruction geomean alone, said so."""
    ic = _icount_perf_ratio(df, v)
    ic_text = "" if ic is None else (
        f"instructions (icount: null, ctx ws 0 raw, fork) {ic[1]:.2f}× {ic[2]}"
        if ic[2] else f"instructions geomean {fmt_num(ic[0])} (no scheme-2 reference)")
    preset = table_preset(df, facts)
    ref = _ref_variant(v)
    if preset is not None:
        mine = {(f.w.key, f.params): f for f in tlb_workload_figs(df, v, preset, ref)
                if f.loads and f.cycles is not None and f.cycles > 0}
        theirs = {(f.w.key, f.params): f for f in tlb_workload_figs(df, ref, preset, v)
                  if f.loads and f.cycles is not None and f.cycles > 0}
        keys = [k for k in mine if k in theirs]
        if keys:
            raw = geomean([mine[k].cycles for k in keys])  # type: ignore[misc]
            ratio = geomean([mine[k].cycles / theirs[k].cycles for k in keys])  # type: ignore
            names = ", ".join(mine[k].label for k in keys)
            text = (f"{ratio:.2f}× {ref} modelled cycles ({preset_label(preset)} cost model; "
                    f"geomean of {len(keys)} TLB-loading workloads: {names})")
            if ic_text:
                text += f"; {ic_text}"
            return Figure(raw, text)
    if ic is None:
        return Figure(None, "not measured")
    return Figure(ic[0], ic_text + " (no TLB-model data: ranked on instructions)")


def fig_memory(df: pd.DataFrame, facts: Mapping[str, Any], v: str) -> Figure:
    src = _memory_bench(df)
    if src is None:
        return Figure(None, "not measured")
    pt = sel.seed_dist(df, v, src, "pt_pages", "")
    if pt is None:
        return Figure(None, "not measured")
    kern = sel.seed_dist(df, v, src, "pt_pages_kernel", "")
    text = f"{fmt_dist(pt)} PT pages/process"
    if kern is not None:
        text += f" ({fmt_dist(kern)} kernel-only)"
    return Figure(pt.mean, text + f" [{src}]")


def _memory_bench(df: pd.DataFrame) -> Optional[str]:
    """The bench whose pt_pages is known for the most variants (bench_null first on a tie)."""
    r = df[(df["mode"] == "icount") & (df["metric"] == "pt_pages")]
    eager = r[~r["variant"].astype(str).str.endswith("-dc")]  # the -dc variants run a subset
    r = eager if not eager.empty else r
    if r.empty:
        return None
    counts = r.groupby("bench")["variant"].nunique()
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] != "bench_null", kv[0]))
    return str(best[0][0])


ROW_BY_KEY: Dict[str, RowSpec] = {r.key: r for r in ROWS}

FIGURES: Dict[str, Callable[[pd.DataFrame, Mapping[str, Any], str], Figure]] = {
    "latency": fig_latency, "switch": fig_switch, "security": fig_security,
    "complexity": fig_complexity, "performance": fig_performance, "memory": fig_memory,
    "tlb": fig_tlb,
}


# ------------------------------------------------------------------ regions of the verdicts

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
    """The scheme events of every TLB workload whose footprint exceeds the point's L1."""
    out = []
    for w in TLB_WORKLOADS:
        e = xo.scheme_events(df, w, panel, pt.preset, need_satp)
        if e is None or (pt.lru is not None and not all(pt.lru in x.lru for x in e.values())):
            continue
        pages = xo.workload_pages(w, e[2].params)
        if pages is not None and pages > pt.entries:
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
    return (f"Region (geomean of modelled cycles over the TLB-loading workloads, satp write "
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
                ref = e[2].misses_at(pt.lru)
                if ref <= 0:
                    continue
                for k in SCHEMES:
                    ratios[k].append(e[k].misses_at(pt.lru) / ref)
            if not ratios[2]:
                continue
            sc = {k: sum(r) / len(r) for k, r in ratios.items()}
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


# ------------------------------------------------------------------ ranking

def compare(a: float, b: float, *, lower_is_better: bool, tol: float, relative: bool) -> int:
    """+1 if a is better than b, -1 if worse, 0 if tied within the tolerance."""
    if a == b:
        return 0
    if math.isinf(a) or math.isinf(b):
        better = a < b if lower_is_better else a > b
        return 1 if better else -1
    diff = abs(a - b)
    limit = tol * min(abs(a), abs(b)) if relative else tol
    if diff <= limit:
        return 0
    better = a < b if lower_is_better else a > b
    return 1 if better else -1


def rank_labels(scores: Mapping[int, float], cmp: Callable[[float, float], int]
                ) -> Dict[int, str]:
    """best / middle / worst from pairwise comparisons; 'tied' when all are within tolerance."""
    keys = list(scores)
    if len(keys) < 2:
        return {k: "n/a (only one scheme measured)" for k in keys}
    labels: Dict[int, str] = {}
    any_strict = any(cmp(scores[a], scores[b]) != 0 for a in keys for b in keys if a != b)
    for k in keys:
        others = [o for o in keys if o != k]
        better_than_me = any(cmp(scores[o], scores[k]) > 0 for o in others)
        worse_than_me = any(cmp(scores[o], scores[k]) < 0 for o in others)
        if not any_strict:
            labels[k] = "tied"
        elif not better_than_me and worse_than_me:
            labels[k] = "best"
        elif better_than_me and not worse_than_me:
            labels[k] = "worst"
        else:
            labels[k] = "middle"
    return labels


@dataclass
class Verdict:
    word: str   # agree / partly / disagree / n/a
    reason: str


def judge(spec: RowSpec, scores: Mapping[int, float], cmp: Callable[[float, float], int],
          fmt: Callable[[float], str], tol_text: str) -> Verdict:
    unstated = sorted(k for k in scores if spec.doc[k].order is None)
    keys = sorted(k for k in scores if spec.doc[k].order is not None)
    not_judged = "".join(f"; S{k} not judged: the document does not state its rating in this "
                         f"dimension (measured {fmt(scores[k])})" for k in unstated)
    if len(keys) < 2:
        if unstated:
            return Verdict("n/a", "fewer than two schemes with a document rating measured"
                           + not_judged)
        return Verdict("n/a", "fewer than two schemes measured")
    reversed_: List[str] = []
    weaker: List[str] = []
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            da, db = spec.doc[a].order, spec.doc[b].order
            assert da is not None and db is not None
            m = cmp(scores[a], scores[b])
            if da != db:
                hi, lo = (a, b) if da > db else (b, a)
                mm = m if hi == a else -m
                if mm < 0:
                    reversed_.append(
                        f"the document rates S{hi} ({spec.doc[hi].en}) above S{lo} "
                        f"({spec.doc[lo].en}) but S{lo} measures better "
                        f"({fmt(scores[lo])} vs {fmt(scores[hi])})")
                elif mm == 0:
                    weaker.append(f"the document rates S{hi} above S{lo} but they tie "
                                  f"({tol_text}: {fmt(scores[hi])} vs {fmt(scores[lo])})")
            elif spec.doc_ties_claimed and m != 0:
                good, bad = (a, b) if m > 0 else (b, a)
                weaker.append(f"the document rates S{a} and S{b} alike ({spec.doc[a].en}) but "
                              f"S{good} measures better ({fmt(scores[good])} vs "
                              f"{fmt(scores[bad])})")
    missing = [s for s in SCHEMES if s not in scores]
    suffix = f" (S{', S'.join(map(str, missing))} not measured)" if missing else ""
    suffix += not_judged
    if reversed_:
        more = f" (+{len(reversed_) - 1} more)" if len(reversed_) > 1 else ""
        return Verdict("disagree", reversed_[0] + more + suffix)
    if weaker:
        more = f" (+{len(weaker) - 1} more)" if len(weaker) > 1 else ""
        return Verdict("partly", weaker[0] + more + suffix)
    order = sorted(keys, key=lambda k: scores[k], reverse=not spec.lower_is_better)
    return Verdict("agree", "measured order best→worst S" + ", S".join(map(str, order))
                   + " matches the document's ratings" + suffix)


# ------------------------------------------------------------------ workloads (issue 11)

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


def _workload_cell(df: pd.DataFrame, w: Workload, scheme: int
                   ) -> Tuple[Optional[float], str, Optional[str]]:
    """(instructions per op, cell text, params used) of one scheme."""
    v = f"s{scheme}{w.suffix}"
    for params in w.params:
        insns = sel.icount_value(df, v, w.bench, "insns_per_op", params)
        if insns is None:
            continue
        satp = sel.icount_value(df, v, w.bench, "satp_per_op", params)
        text = f"{fmt_num(insns)} insns"
        if satp is not None:
            text += f", {satp:.2f} satp/op"
        ws = sel.stats(sel.wall_values(df, v, w.bench, params))
        if ws is not None and ws.median > 0:
            text += f"; {1e9 / ws.median:,.0f} ops/s (wall, QEMU)"
        return insns, f"{text} [{v}]", params
    return None, f"not measured [{v}]", None


def render_workloads(df: pd.DataFrame, tol: Optional[Mapping[str, float]] = None) -> str:
    """The workloads table: per scheme instructions (and satp writes) per op, ops per second
    from the wall runs, the ranking from the instructions, and whether it agrees with the
    design document's row for that kind of cost."""
    tols = dict(DEFAULT_TOLERANCES)
    tols.update(tol or {})
    if not any(_workload_cell(df, w, s)[0] is not None for w in WORKLOADS for s in SCHEMES):
        return ""  # a table without the workloads (plain bench_fork has no touched_kb line)
    specs = {s.key: s for s in ROWS}
    out = ["## Workloads (pipes, faults, fork size, applications)", "",
           "Instructions per operation from the -icount run (satp writes per op beside them; "
           "ops/s from the median wall run under QEMU, which is not hardware time). Ranked by "
           f"instructions (ties within {tols['performance'] * 100:g} %); *doc row* is the "
           "design document's row that covers that kind of cost (process switch includes "
           "the pipe form; trap latency includes page faults; fork and the applications "
           "stand for performance). Fault and COW rows use the `-dc` variants "
           "(CONFIG_MEMORY_DEMAND, CONFIG_FORK_COW); the eager fork row the ASID variants.",
           ""]
    header = ["Workload"] + [f"S{s}" for s in SCHEMES] + ["Measured", "Doc row", "Agree?"]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "|".join([" --- "] * len(header)) + "|")
    for w in WORKLOADS:
        cells, scores, used = [], {}, set()
        for s in SCHEMES:
            score, text, params = _workload_cell(df, w, s)
            cells.append(_escape(text))
            if score is not None:
                scores[s] = score
                used.add(params)
        spec = specs[w.doc_row]
        title = w.title
        if used and not any(p == w.params[0] for p in used):
            title += f" (measured at {', '.join(sorted(p for p in used if p))} instead)"

        def cmp(a: float, b: float) -> int:
            return compare(a, b, lower_is_better=True, tol=tols["performance"], relative=True)
        labels = rank_labels(scores, cmp) if scores else {}
        measured = ", ".join(f"S{s} {labels[s]}" for s in SCHEMES if s in labels) or "—"
        doc = ", ".join(f"S{s} {spec.doc[s].en}" for s in SCHEMES)
        wspec = RowSpec(spec.key, spec.title, spec.doc, True, "insns")
        verdict = judge(wspec, scores, cmp, fmt_num,
                        f"within {tols['performance'] * 100:g} %")
        out.append("| " + " | ".join([_escape(title), *cells, measured,
                                      _escape(f"{spec.title.split(' (')[0]}: {doc}"),
                                      _escape(f"{verdict.word}: {verdict.reason}")]) + " |")
    out.append("")
    return "\n".join(out)


# ------------------------------------------------------------------ rendering

def _variant_state(facts: Mapping[str, Any], v: str) -> str:
    vf = facts.get("variants", {}).get(v)
    if vf is None:
        return "not run"
    return "built" if vf.get("built") else "not built"


def render_comparison(df: pd.DataFrame, facts: Mapping[str, Any],
                      tolerances: Optional[Mapping[str, float]] = None) -> str:
    tol = dict(DEFAULT_TOLERANCES)
    tol.update(tolerances or {})
    out: List[str] = []
    out.append("# Kernel VM schemes: the design document's comparison, measured")
    out.append("")
    out.append("Regenerated by `python3 -m harness` from `measurements.csv` and `facts.json` "
               "(see docs/harness.md). Each scheme cell: the figures of the ASID variant and "
               "the no-ASID variant, the ranking derived from the figures "
               "(**measured**), and the design document's rating (**doc**). Rankings use the "
               "ASID variant (the default configuration); ties are within the row's stated "
               "tolerance. *not built* = the variant failed to build; *not measured* = built "
               "but the data is absent.")
    out.append("")
    header = ["Dimension"] + [SCHEME_TITLES[s] for s in SCHEMES] + ["Agree?", "Reason"]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "|".join([" --- "] * len(header)) + "|")
    for spec in ROWS:
        out.append(_render_row(spec, df, facts, tol))
    out.append("")
    if any(" †" in line for line in out):
        out.append("† no 1-process bench_ctx baseline found: no net figure (the whole yield "
                   "minus the same-process overhead) can be given.")
        out.append("")
    seeds = sorted({int(x) for x in df["kaslr_seed"].dropna().unique()}) \
        if "kaslr_seed" in df.columns else []
    if seeds:
        out.append(f"Scheme 3 draws each process's kernel slot at random; its runs boot with "
                   f"`kaslr_seed=N` for N in {', '.join(map(str, seeds))} (one deterministic "
                   f"run per seed, listed in metadata.json). Its figures are means over the "
                   f"seeds; where they differ between seeds the cell says (min–max, n).")
        out.append("")
    out.append(_render_probe(df, facts))
    wl = render_workloads(df, tol)
    if wl:
        out.append(wl)
    out.append(_render_definitions(tol, table_preset(df, facts)))
    out.append(_render_details(df, facts))
    return "\n".join(out).rstrip() + "\n"


def _tol_text(key: str, tol: Mapping[str, float], unit: str) -> str:
    if tol[key] == 0:
        return "only when equal"
    if key in RELATIVE:
        return f"within {tol[key] * 100:g}%"
    return f"within {tol[key]:g} {unit}"


def _render_row(spec: RowSpec, df: pd.DataFrame, facts: Mapping[str, Any],
                tol: Mapping[str, float]) -> str:
    fig_fn = FIGURES[spec.key]
    relative = spec.key in RELATIVE

    def cmp(a: float, b: float) -> int:
        return compare(a, b, lower_is_better=spec.lower_is_better, tol=tol[spec.key],
                       relative=relative)

    def cmp_alt(a: float, b: float) -> int:
        return compare(a, b, lower_is_better=True, tol=tol[spec.key], relative=True)

    cells: Dict[int, List[str]] = {}
    scores: Dict[int, float] = {}
    alts: Dict[int, float] = {}
    extras: Dict[str, Dict[int, float]] = {}
    primary: Dict[int, str] = {}
    for s in SCHEMES:
        lines: List[str] = []
        for v in _variant_names(s):
            state = _variant_state(facts, v)
            label = "asid" if v.endswith("-asid") else "noasid"
            if state != "built":
                lines.append(f"{label}: *{state}*")
                continue
            fig = fig_fn(df, facts, v)
            text = fig.text if fig.score is not None or fig.text != "not measured" \
                else "*not measured*"
            lines.append(f"{label}: {text}")
            if fig.score is not None and s not in scores:
                scores[s] = fig.score
                primary[s] = label
                if fig.alt is not None and not spec.alt_noasid:
                    alts[s] = fig.alt
                for name, x in fig.extra.items():
                    extras.setdefault(name, {})[s] = x
            elif (spec.alt_noasid and fig.score is not None and label == "noasid"
                  and primary.get(s) == "asid"):
                alts[s] = fig.score
        cells[s] = lines
    labels = rank_labels(scores, cmp)
    alt_labels = rank_labels(alts, cmp_alt) if len(alts) == len(scores) and alts else {}
    rendered = []
    for s in SCHEMES:
        lines = cells[s]
        if s in labels:
            m = f"**measured: {labels[s]}**"
            if primary[s] != "asid":
                m += " (from noasid)"
            if s in alt_labels and alt_labels[s] != labels[s]:
                m += f" ({'noasid' if spec.alt_noasid else 'wall ns'}: {alt_labels[s]})"
        else:
            states = {_variant_state(facts, v) for v in _variant_names(s)}
            m = "**measured: not built**" if states == {"not built"} else \
                "**measured: not measured**"
        lines = lines + [m, f"doc: {spec.doc[s].text()}"]
        rendered.append("<br>".join(_escape(x) for x in lines))

    fmt = _score_format(spec)
    if not scores:
        verdict = Verdict("n/a", "not measured")
    else:
        verdict = judge(spec, scores, cmp, fmt, _tol_text(spec.key, tol, spec.unit))
    if verdict.word != "n/a" and alt_labels and any(alt_labels[s] != labels[s] for s in labels):
        if spec.alt_noasid:
            verdict.reason += ("; without ASIDs the ranking differs: " + ", ".join(
                f"S{s} {alt_labels[s]} ({fmt(alts[s])})" for s in sorted(alt_labels)))
        else:
            verdict.reason += "; the wall-time ranking differs"
    if verdict.word != "n/a":
        for name, xs in extras.items():
            if len(xs) != len(scores):
                continue
            xl = rank_labels(xs, cmp_alt)
            if any(xl[k] != labels[k] for k in labels):
                verdict.reason += (f"; on {name} the ranking differs: " + ", ".join(
                    f"S{k} {xl[k]} ({fmt_num(xs[k])})" for k in sorted(xl)))
            else:
                verdict.reason += f"; {name} rank the same"
        region = REGIONS.get(spec.key)
        if region is not None:
            text = region(df, facts, tol)
            if text:
                verdict.reason += ". " + text
    return "| " + " | ".join([_escape(spec.title)] + rendered
                             + [verdict.word, _escape(verdict.reason)]) + " |"


def _score_format(spec: RowSpec) -> Callable[[float], str]:
    """How a ranking score is written in the Reason column."""
    if spec.key == "security":
        return lambda v: "kernel not mapped" if math.isinf(v) else f"{v:.1f} bits"
    if spec.key == "performance":
        return lambda v: f"geomean {fmt_num(v)}"
    if spec.key == "tlb":
        return lambda v: f"{v:.2f}× S2 L1 misses"
    return lambda v: fmt_num(v) + ("" if math.isinf(v) else f" {spec.unit}")


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _render_probe(df: pd.DataFrame, facts: Mapping[str, Any]) -> str:
    """The paragraph under the table: kernel_probe's result per variant and preset."""
    out = ["**TLB probe** (`kernel_probe` under the TLB model): a child process makes a system "
           "call, then loads the kernel data that call used, in U mode, at the kernel VA *its "
           "own* table maps it (own slot), or at the VA of *another process's* table (other "
           "process). Both loads fault in every scheme; a *hit* means the model's TLB still held "
           "a kernel translation (an entry without the U bit) for that address, which a "
           "Meltdown-style speculative load could use.", ""]
    names = list(VARIANT_NAMES)  # the ASID and no-ASID variants, then the 4 KiB-kernel ones
    for v in names:
        vf = facts.get("variants", {}).get(v)
        if vf is None:
            continue
        if not vf.get("built"):
            out.append(f"- {v}: *not built*")
            continue
        probes = vf.get("tlb_probe") or {}
        failed = sorted({str(f.get("preset")) for f in vf.get("run_failures", [])
                         if f.get("mode") == "tlb" and f.get("bench") == "kernel_probe"},
                        key=lambda p: (p != "u54", p))
        if not probes and not failed:
            out.append(f"- {v}: {tlb_missing_reason(facts)}")
            continue
        parts = []
        for preset in sorted(probes, key=lambda p: (p != "u54", p)):
            pr = probes[preset]
            parts.append(
                f"{preset}: own slot {_yes(pr.get('probe_own_slot_hit'))} "
                f"({pr.get('own_slot_hits_on_kernel_entries')} hit(s) in "
                f"{pr.get('own_slot_probes')} probe(s)), other process "
                f"{_yes(pr.get('probe_other_process_hit'))} "
                f"({pr.get('other_process_hits_on_kernel_entries')} in "
                f"{pr.get('other_process_probes')}) [`{pr.get('report')}`]")
        for preset in failed:
            if preset not in probes:
                parts.append(f"{preset}: not measured (failed run, listed below)")
        out.append(f"- {v}: " + "; ".join(parts))
    out.append("")
    return "\n".join(out)


def _render_definitions(tol: Mapping[str, float], tp: Optional[str] = None) -> str:
    t = {k: _tol_text(k, tol, u) for k, u in
         (("latency", "insns"), ("switch", "insns"), ("security", "bits"),
          ("complexity", "LOC"), ("performance", ""), ("memory", "pages"),
          ("tlb", "L1 misses"))}
    return "\n".join([
        "## How each row is measured",
        "",
        f"- **Trap/syscall latency**: `bench_null` instructions per call from the `-icount` run "
        f"(deterministic; ranked on this, tie {t['latency']}), and the median wall ns of the "
        f"repeated runs without icount (min–max, n runs).",
        f"- **Process-switch cost**: the whole yield to another process (trap + switch + "
        f"return): `bench_ctx` at working set 0 with 2 processes, per switch, from the "
        f"`-icount` run; ranked on its instructions, tie {t['switch']}, shown with its satp "
        f"writes and `sfence.vma` per switch (kernel counters), its modelled cycles "
        f"(`tlb_model_cycles_per_op`, the {tp} preset's cost model; ranked separately in the "
        f"Reason when that ranking differs) and, labelled *net*, the same figure minus the "
        f"1-process yield (the same-process overhead; what earlier tables ranked on). The "
        f"Reason gives the satp-write cost range (0–100 cycles, swept from the counted events) "
        f"in which the document's order holds in modelled cycles.",
        f"- **Security/isolation**: whether the kernel is mapped in user page tables (scheme "
        f"design), whether every process sees the same kernel VA (`kaslr_probe 64`: one `@slot` "
        f"per process) and the entropy of the per-process slot (kernel-reported, else log2 of the "
        f"documented slot count, capped by the number of slot-index bits that vary across the observed processes). "
        f"Ranking: no kernel mapping in user tables > randomized slot (more bits better) > the "
        f"same VA everywhere; tie {t['security']}.",
        f"- **Implementation complexity**: non-blank, non-comment lines of the scheme's "
        f"`kernel/scheme/*.cpp` plus the scheme-specific part of the generated `trap.S`; the "
        f"trap-path instruction count is shown beside it. Tie {t['complexity']}.",
        f"- **Performance**: geometric mean of the modelled cycles per op "
        f"(`tlb_model_cycles_per_op`, the {tp} preset's cost model) of the TLB workloads whose "
        f"footprint exceeds that preset's L1 (below), shown as a ratio to scheme 2 (same ASID "
        f"setting), tie {t['performance']}; beside it the icount instructions of "
        f"`bench_null`, `bench_ctx` (ws 0, raw) and `bench_fork` as a ratio to scheme 2 (the "
        f"ranking when no TLB-model data exists, said so in the cell). The Reason gives the "
        f"region of satp-write cost × L1 size in which the verdict holds and where the "
        f"document's claim fails (the crossover maps, `plots/crossover_*.png`).",
        f"- **Memory overhead**: page-table pages of one process (`@mem` line or `pt_pages` key "
        f"of a benchmark); tie {t['memory']}. Not in the document's final table: its text lists "
        f"memory overhead as a con of schemes 1 and 3, and the document's rating column here "
        f"reflects that.",
        f"- **TLB behaviour (model)**: the TLB-model QEMU plugin (docs/tlbmodel.md) replays "
        f"every translated access of one `-icount` run through modelled TLBs, here the run's "
        f"first preset of a real core with ASIDs ({tp}: {PRESET_TEXT.get(tp or '', '–')}; the "
        f"kernel boots capped to the core's ASID width, the model's `asid` follows the "
        f"variant), so that the ASID and no-ASID variants differ. Workloads (per op, from the "
        f"benchmarks' region markers): " + "; ".join(f"{w.title}, per {w.per}"
                                                     for w in TLB_WORKLOADS) +
        f". A workload counts when its footprint (user data pages from its parameters) "
        f"exceeds the preset's L1 DTLB; the others are shown as *fits the L1: not ranked*. "
        f"Score: the mean over the counted workloads of the scheme's L1 I + D misses per op "
        f"divided by scheme 2's (same ASID setting; workloads where scheme 2 misses nothing "
        f"are left out); lower is better, tie {t['tlb']}; the no-ASID ranking in brackets "
        f"where it differs. The Reason gives the verdict at every point of the L1-size axis "
        f"(LRU sizes from the runs' stack-distance profile when present, else the presets "
        f"run). Not in the document's final table: its text calls scheme 1's TLB behaviour "
        f"'TLB 污染' (pollution: each switch invalidates the user's entries; taken as worst) "
        f"and scheme 2's 'TLB 缓存友好' (kernel entries survive process switches; best); about "
        f"scheme 3 it says nothing, so S3 is shown but not judged. bench_null and bench_ctx at "
        f"working set 0 touch fewer translations than any L1 holds and are not used here "
        f"(their figures are in the TLB table below).",
        f"- **Crossover regions** (a model): modelled cycles are linear in the counted events, "
        f"so the satp-write constant is swept 0–100 cycles without a new run (cycles + satp "
        f"writes × (c − the preset's constant)); on the L1-size axis an LRU size N charges each "
        f"miss it adds or removes the run's own cost per L1 miss ({xo.ASSUMED_MISS_PENALTY:g} "
        f"cycles when the run had none): an assumption. Every point but the preset as "
        f"modelled is hypothetical.",
        f"- **Modelled cycles** (a model, never measured hardware time): {CYCLE_MODEL_TEXT}; "
        f"i.e. {CYCLE_MODEL_SHORT}, no page-walk cache, no overlap.",
        "- **Agree?**: *agree* when every pair the document orders is measured in the same "
        "order (and pairs it rates alike tie); *partly* when no pair is reversed but one is "
        "tied or separated against the document; *disagree* when a pair is reversed.",
        "",
    ])


def _render_tlb_details(df: pd.DataFrame, facts: Mapping[str, Any],
                        names: List[str]) -> List[str]:
    """Per variant and preset: the TLB model's figures (every preset that has data)."""
    ps = sel.presets(df)
    first = first_preset(df, facts)
    if first in ps:
        ps = [first] + [p for p in ps if p != first]
    if not ps:
        return []
    out = ["## TLB model figures (per operation)", "",
           f"From the TLB-model runs (one `-icount` run per variant and preset; scheme 3: "
           f"one per kaslr seed, figures are means over the seeds). Switch = "
           f"`bench_ctx` at working set 0 minus its 1-process line († raw). Model cycles: "
           f"{CYCLE_MODEL_TEXT}.", ""]
    cols = ["variant", "preset", "null: L1I / L1D misses", "null: user-mode misses",
            "null: misses after a flush", "null: walk refs", "switch: L1I / L1D misses",
            "model cycles: null / switch"]
    out.append("| " + " | ".join(cols) + " |")
    out.append("|" + "|".join([" --- "] * len(cols)) + "|")
    for p in ps:
        for v in names:
            f = tlb_figures(df, v, p)
            if f.empty:
                continue
            walk = sel.seed_dist(df, v, "bench_null", "tlb_walk_refs_per_op", "", mode="tlb",
                                 preset=p)
            cells = [v, p, f"{_opt(f.null_i)} / {_opt(f.null_d)}", _opt(f.null_user),
                     _opt(f.null_after_flush), fmt_dist(walk),
                     f"{_opt(f.sw_i)} / {_opt(f.sw_d)}" + ("" if f.sw_net else " †"),
                     f"{_opt(f.null_cycles)} / {_opt(f.sw_cycles)}"]
            out.append("| " + " | ".join(_escape(c) for c in cells) + " |")
    out.append("")
    out += _render_tlb_workloads(df, ps, names)
    return out


def _render_tlb_workloads(df: pd.DataFrame, ps: Sequence[str], names: List[str]) -> List[str]:
    """Per variant and preset: L1 I+D misses and modelled cycles of each TLB workload."""
    cols = ["variant", "preset"] + [w.key for w in TLB_WORKLOADS]
    body = []
    for p in ps:
        for v in names:
            figs = {f.w.key: f for f in tlb_workload_figs(df, v, p)}
            if not figs:
                continue
            cells = [v, preset_label(p)]
            for w in TLB_WORKLOADS:
                f = figs.get(w.key)
                cells.append("–" if f is None else
                             f"{fmt_num(f.misses)} / {_opt(f.cycles)}"
                             + ("" if f.loads else " (fits)"))
            body.append("| " + " | ".join(_escape(c) for c in cells) + " |")
    if not body:
        return []
    legend = "; ".join(f"`{w.key}` = {w.title}, per {w.per}" for w in TLB_WORKLOADS)
    return ["## TLB workloads (per operation: L1 I+D misses / modelled cycles)", "",
            f"The workloads of the TLB and performance rows: {legend}. Modelled cycles: the "
            f"preset's cost model (docs/tlbmodel.md 'Cost model'; a model). *(fits)*: the "
            f"footprint does not exceed the preset's L1 DTLB.", "",
            "| " + " | ".join(cols) + " |", "|" + "|".join([" --- "] * len(cols)) + "|"] \
        + body + [""]


def _render_details(df: pd.DataFrame, facts: Mapping[str, Any]) -> str:
    out = ["## Per-variant figures", ""]
    cols = ["variant", "state", "null insns", "null ns (median, min–max)",
            "ctx ws=0 insns/switch (whole / net)", "fork insns", "satp/op (null)", "sfence/op (null)",
            "traps/op (null)"]
    out.append("| " + " | ".join(cols) + " |")
    out.append("|" + "|".join([" --- "] * len(cols)) + "|")
    names = list(VARIANT_NAMES)  # the ASID and no-ASID variants, then the 4 KiB-kernel ones
    for v in names:
        state = _variant_state(facts, v)
        cells = [v, state]

        def ic(bench: str, metric: str) -> str:
            return fmt_dist(sel.seed_dist(df, v, bench, metric))

        wall = sel.stats(sel.wall_values(df, v, "bench_null"))
        ctx = sel.ctx_switch_insns(df, v)
        whole = sel.ctx_switch_insns(df, v, subtract=False)
        cells += [ic("bench_null", "insns_per_op"),
                  "–" if wall is None else
                  f"{fmt_num(wall.median)} ({fmt_num(wall.min)}–{fmt_num(wall.max)})",
                  "–" if whole is None or ctx is None else
                  f"{fmt_num(whole[0])} / " + (fmt_num(ctx[0]) if ctx[1] else "– †"),
                  ic("bench_fork", "insns_per_op"), ic("bench_null", "satp_per_op"),
                  ic("bench_null", "sfence_per_op"), ic("bench_null", "traps_per_op")]
        out.append("| " + " | ".join(_escape(c) for c in cells) + " |")
    out.append("")
    out += _render_tlb_details(df, facts, names)
    problems = []
    for v in names:
        vf = facts.get("variants", {}).get(v)
        if vf is None:
            continue
        if not vf.get("built"):
            problems.append(f"- {v}: not built — {vf.get('build_error') or 'build failed'} "
                            f"(log: `{vf.get('build_log')}`)")
        for f in vf.get("run_failures", []):
            first = str(f.get("error", "")).splitlines()[0] if f.get("error") else "failed"
            if f.get("mode") == "tlb":
                problems.append(f"- {v} {f.get('bench')} (TLB model, {f.get('preset')}): {first} "
                                f"(log: `{f.get('log')}`, report: `{f.get('report')}`)")
            else:
                problems.append(f"- {v} {f.get('bench')}: {first}")
    t = facts.get("tlbmodel") or {}
    if t.get("enabled") and t.get("built") is False:
        problems.append(f"- TLB-model plugin: not built — {t.get('build_error') or 'failed'} "
                        f"(command: `{t.get('build_command')}`, log: `{t.get('build_log')}`); "
                        f"every TLB figure is *not measured*")
    if problems:
        out += ["## Missing variants and failed runs", ""] + problems + [""]
    return "\n".join(out)
