"""Per-variant figures of each dimension, from the tidy measurement DataFrame and facts.

Parameters come from the `param_*` columns (harness.tidy); pure functions, no QEMU."""
from __future__ import annotations

import math
import pandas as pd
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from .. import select as sel
from ..facts import varying_bits
from ..tlb import PRESETS, TLB_WORKLOADS, TlbWorkload, exceeds_l1, footprint_pages
from .claims import PERF_PARTS
from .params import params_of
from .format import _yes, fmt_dist, fmt_num, fmt_wall, geomean, short_label


@dataclass
class Figure:
    """One variant's figure for one dimension."""
    score: Optional[float]          # what the ranking uses (None: not measured)
    text: str                       # what the cell shows
    alt: Optional[float] = None     # secondary ranking value (wall ns), if any
    notes: List[str] = field(default_factory=list)
    # further rankings shown in the Reason when they differ: name -> value (lower is better)
    extra: Dict[str, float] = field(default_factory=dict)


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
        parts.append("QEMU wall (not hardware, not ranked) " + fmt_wall(wall))
    return Figure(insns, "; ".join(parts))


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
        parts.append("QEMU wall (not hardware, not ranked) " + fmt_wall(wall[0]))
    if net is not None and net[1]:
        parts.append(f"net (minus the 1-process yield) {fmt_num(net[0])} insns")
    elif raw is not None:
        parts.append("net: no 1-process line †")
    return Figure(raw[0] if raw else None, "; ".join(parts), extra=extra)


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
    """Ranked on threat (a), the attacker's own kernel VA (security.py); the design facts
    and the probe beside it."""
    from . import security
    vf = facts.get("variants", {}).get(v, {})
    _, text = security_score(vf)
    preset = table_preset(df, facts)
    score = security.score(vf, "a", preset)
    if score is not None and not math.isinf(score):
        text += f"; estimate {security.estimator_text(vf)}"
    return Figure(score, text + "; " + probe_text(facts, v, preset))


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
    f.null_cycles = null("tlb_model_cycles_per_op")
    i = sel.ctx_switch_tlb(df, v, "tlb_l1i_misses_per_op", preset)
    d = sel.ctx_switch_tlb(df, v, "tlb_l1d_misses_per_op", preset)
    c = sel.ctx_switch_tlb(df, v, "tlb_model_cycles_per_op", preset)
    if i is not None and d is not None:
        f.sw_i, f.sw_d, f.sw_net = i[0], d[0], i[1] and d[1]
    if c is not None:
        f.sw_cycles = c[0]
    return f


def _ref_variant(v: str) -> str:
    """Scheme 2's variant with the same ASID setting (s1-asid -> s2-asid)."""
    return "s2-" + v.split("-", 1)[1]


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
            pages = footprint_pages(w.bench, params_of(df, w.bench, params))
            cyc = sel.tlb_value(df, v, w.bench, "tlb_model_cycles_per_op", preset, params)
            out.append(WorkloadFig(w, params, vals[v], cyc, pages, exceeds_l1(preset, pages)))
            break
    return out


# Misses per op added to both sides of a ratio (robustness.MISS_EPSILON), so that a workload
# where a scheme misses nothing stays in the geometric mean.
MISS_EPSILON = 1e-3


def _ratio_mean(mine: Sequence[WorkloadFig], ref: Sequence[WorkloadFig]) -> Optional[float]:
    """The geometric mean over every measured TLB workload (those that fit the L1 included)
    of (my L1 misses + ε) / (scheme 2's + ε)."""
    rmap = {(f.w.key, f.params): f for f in ref}
    rs = [(f.misses + MISS_EPSILON) / (rmap[(f.w.key, f.params)].misses + MISS_EPSILON)
          for f in mine if (f.w.key, f.params) in rmap]
    return geomean(rs) if rs else None


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
            t += " (fits the L1)"
        parts.append(t)
    score = _ratio_mean(figs, tlb_workload_figs(df, ref, preset, v))
    n = len(figs)
    head = f"{preset_label(preset)}: L1 I+D misses: " + "; ".join(parts)
    if failed:
        head += f"; failed run of {' and '.join(failed)} (listed below)"
    if score is None:
        return Figure(None, head + f"; not ranked (no {ref} reference)")
    return Figure(score, head + f"; geomean {score:.3f}× {ref} over the {n} workloads")


def fig_complexity(df: pd.DataFrame, facts: Mapping[str, Any], v: str) -> Figure:
    from .complexity import file_list, scheme_loc
    insns = sel.icount_value(df, v, "bench_null", "insns_per_op")
    counted = (facts.get("complexity") or {}).get("schemes", {})
    scheme = int(v[1:].split("-")[0])
    if str(scheme) in counted:
        total = scheme_loc(facts, v)
        text = f"{fmt_num(total or 0)} LOC ({file_list(facts, scheme)})"
        if insns is not None:
            text += f"; trap path {fmt_num(insns)} insns"
        return Figure(total, text)
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


def perf_insns(df: pd.DataFrame, v: str) -> Optional[Dict[str, float]]:
    null = sel.icount_value(df, v, "bench_null", "insns_per_op")
    ctx = sel.ctx_switch_insns(df, v, subtract=False)
    fork = sel.icount_value(df, v, "bench_fork", "insns_per_op")
    if null is None or ctx is None or fork is None:
        return None
    return {"bench_null": null, "bench_ctx": ctx[0], "bench_fork": fork}


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
                if f.cycles is not None and f.cycles > 0}
        theirs = {(f.w.key, f.params): f for f in tlb_workload_figs(df, ref, preset, v)
                  if f.cycles is not None and f.cycles > 0}
        keys = [k for k in mine if k in theirs]
        if keys:
            raw = geomean([mine[k].cycles for k in keys])  # type: ignore[misc]
            ratio = geomean([mine[k].cycles / theirs[k].cycles for k in keys])  # type: ignore
            names = ", ".join(mine[k].label for k in keys)
            text = (f"{ratio:.2f}× {ref} modelled cycles ({preset_label(preset)} cost model; "
                    f"geomean of {len(keys)} TLB workloads: {names})")
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


FIGURES: Dict[str, Callable[[pd.DataFrame, Mapping[str, Any], str], Figure]] = {
    "latency": fig_latency, "switch": fig_switch, "security": fig_security,
    "complexity": fig_complexity, "performance": fig_performance, "memory": fig_memory,
    "tlb": fig_tlb,
}
