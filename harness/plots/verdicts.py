"""Plots behind the comparison's verdicts: the scheme ratios per dimension with the tie band,
the breakdown of modelled cycles, the robustness matrix, and the wall repetitions (reported,
never ranked)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import crossover as xo
from ..tlb import TLB_WORKLOADS
from .micro import ctx_net
from .registry import Skip, plot
from .style import (SCHEME_COLORS, WALL_LABEL, color, param, save, time_unit, title,
                    variants)
from .tlbmodel import L1_MISSES, mix_tlb_preset, preset_short

# Tie bands drawn around a ratio of 1: the table's default tolerance and its widest choice.
TIE_BANDS = (0.02, 0.05)
WHOLE_SWITCH = {"procs": 2, "ws_kb": 0}


def geomean(xs: Sequence[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def _at(d: pd.DataFrame, **params: float) -> pd.DataFrame:
    for k, val in params.items():
        if param(k) not in d.columns:
            return d.iloc[0:0]
        d = d[d[param(k)] == val]
    return d


def _one(d: pd.DataFrame, v: str, bench: str, metric: str, **params: float) -> Optional[float]:
    r = _at(d[(d["variant"] == v) & (d["bench"] == bench) & (d["metric"] == metric)], **params)
    if r.empty:
        return None
    return float(r["value"].iloc[0])


def verdict_rows(df: pd.DataFrame, _src: Optional[Path] = None) -> pd.DataFrame:
    """Every row: the table's scorers (harness/report/robustness.py) read any of them."""
    return df


Dimension = Tuple[str, Dict[str, float], Dict[str, List[float]]]


def _workload_ratios(d: pd.DataFrame, preset: str, panel: str, metrics: Sequence[str]
                     ) -> Tuple[Dict[str, List[float]], List[str]]:
    """Per-workload ratios {"S1/S2": [...], "S3/S2": [...]} of the summed metrics, the same
    workload set for both pairs (a workload with a zero reference is listed, not averaged)."""
    vs = [xo.panel_variant(s, panel) for s in (1, 2, 3)]
    t = d[(d["mode"] == "tlb") & (d["preset"] == preset) & d["metric"].isin(metrics)]
    ratios: Dict[str, List[float]] = {"S1/S2": [], "S3/S2": []}
    zero: List[str] = []
    present = [v for v in vs if not t[t["variant"] == v].empty]
    if vs[1] not in present:
        return {}, zero
    for w in TLB_WORKLOADS:
        got = None
        for p in w.params:
            vals = {v: t[(t["variant"] == v) & (t["bench"] == w.bench) & (t["params"] == p)]
                    for v in present}
            if all(len(x) == len(metrics) for x in vals.values()):
                got = {v: float(x["value"].sum()) for v, x in vals.items()}
                break
        if got is None:
            continue
        if any(x <= 0 for x in got.values()):
            zero.append(w.key)
            continue
        for k, v in ((1, vs[0]), (3, vs[2])):
            if v in got:
                ratios[f"S{k}/S2"].append(got[v] / got[vs[1]])
    return {k: r for k, r in ratios.items() if r}, zero


def dimension_ratios(d: pd.DataFrame) -> List[Dimension]:
    """(label, {"S1/S2": r, "S3/S2": r} of the ASID variants, per-workload ratios) per dimension
    that the CSV measures; geometric means over workloads."""
    out: List[Dimension] = []

    def pairs(fig: Callable[[str], Optional[float]], panel: str = "asid") -> Optional[Dict[str, float]]:
        s = [fig(f"s{k}-{panel}") for k in (1, 2, 3)]
        if not s[1]:
            return None
        out = {f"S{k}/S2": x / s[1] for k, x in ((1, s[0]), (3, s[2])) if x is not None}
        return out or None  # a scheme not built: its ratio is left out

    for label, fig in (
            ("latency: null-call instructions",
             lambda v: _one(d, v, "bench_null", "insns_per_op")),
            ("switch: whole-yield instructions",
             lambda v: _one(d, v, "bench_ctx", "insns_per_op", **WHOLE_SWITCH)),
            ("switch, net of the 1-process line",
             lambda v: ctx_net(d[(d["bench"] == "bench_ctx") & (d["mode"] == "icount")
                                 & (d["metric"] == "insns_per_op")]).get(v, {}).get(0.0)),
            ("memory: page-table pages per process",
             lambda v: _one(d, v, "bench_null", "pt_pages"))):
        r = pairs(fig)
        if r is not None:
            out.append((label, r, {}))
    preset = mix_tlb_preset(d)
    if preset is not None:
        for label, metrics in (("performance: modelled cycles", ("tlb_model_cycles_per_op",)),
                               ("TLB: L1 I+D misses", L1_MISSES)):
            per, zero = _workload_ratios(d, preset, "asid", metrics)
            if per:
                n = max(len(r) for r in per.values())
                note = f" (+{len(zero)} with 0)" if zero else ""
                out.append((f"{label}, geomean of {n} workloads{note} ({preset})",
                            {k: geomean(v) for k, v in per.items()}, per))
    return out


def load_facts(results: Path) -> Optional[Dict[str, object]]:
    """facts.json with complexity.json beside it (what the table reads), or None."""
    import json
    f = results / "facts.json"
    if not f.is_file():
        return None
    facts = json.loads(f.read_text())
    cx = results / "complexity.json"
    if cx.is_file():
        facts["complexity"] = json.loads(cx.read_text())
    return facts


Row = Tuple[str, Dict[str, float], Dict[str, List[float]], Optional[float], str]


def table_ratios(d: pd.DataFrame, facts: Dict[str, object]) -> Optional[List[Row]]:
    """(label, ratios, per-workload ratios, relative tie band or None, verdict) of every row
    the table ranks by a ratio, from the table's own scores under its default analysis; None
    when harness/report/robustness.py is not there."""
    try:
        from dataclasses import replace

        from ..report import robustness as rb
        from ..report.claims import RELATIVE, ROW_BY_KEY
    except ImportError:
        return None
    out: List[Row] = []
    for key, spec in ROW_BY_KEY.items():
        if key == "security":
            continue  # bits of entropy and "not mapped": not a ratio
        a = rb.default_analysis(key)
        res = rb.evaluate(d, facts, key, a)  # type: ignore[arg-type]
        sc = res.scores
        if not sc or not sc.get(2):
            continue
        r = {f"S{k}/S2": sc[k] / sc[2] for k in (1, 3) if k in sc and math.isfinite(sc[k])}
        per: Dict[str, List[float]] = {"S1/S2": [], "S3/S2": []}
        if key in ("performance", "tlb"):
            for w in TLB_WORKLOADS:
                one = rb.SCORERS[key](d, facts, replace(a, workload=w.key))  # type: ignore
                if one and one.get(2):
                    for k in (1, 3):
                        if k in one:
                            per[f"S{k}/S2"].append(one[k] / one[2])
        basis = rb.BASIS.get(key, "")
        label = f"{key}: {basis}" if basis else key
        out.append((label, r, {k: v for k, v in per.items() if v},
                    a.tol if key in RELATIVE else None, res.verdict.word))
    return out


@plot("verdict_ratios.png", "scheme ratios per dimension", verdict_rows)
def plot_verdict_ratios(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """Per dimension, S1/S2 and S3/S2 (ASID variants) against the row's tie band around 1:
    the table's own scores when harness/report is there, else computed from the CSV."""
    facts = load_facts(out.parent)
    rows = table_ratios(d, facts) if facts is not None else None
    source = "the table's scores (default analysis)"
    if not rows:
        rows = [(label, r, per, TIE_BANDS[0], "") for label, r, per in dimension_ratios(d)]
        source = "computed from the CSV"
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(10.5, 0.75 * len(rows) + 2.0))
    ax.axvline(1.0, color=SCHEME_COLORS[2], lw=1.2, label="scheme 2 (= 1)")
    drawn: set = set()
    for y, (label, r, per, tol, word) in enumerate(rows):
        if tol:
            ax.fill_between([1 - tol, 1 + tol], y - 0.4, y + 0.4, color="gray", alpha=0.3,
                            lw=0, label="the row's tie band" if "band" not in drawn else None)
            drawn.add("band")
        for off, key, sch in ((-0.12, "S1/S2", 1), (0.12, "S3/S2", 3)):
            ticks = per.get(key, [])
            ax.plot(ticks, [y + off] * len(ticks), marker="|", ls="", ms=9,
                    color=SCHEME_COLORS[sch], alpha=0.6,
                    label="one workload" if ticks and "tick" not in drawn else None)
            if ticks:
                drawn.add("tick")
            if key not in r:
                continue
            ax.plot([r[key]], [y + off], marker="o", ms=8, color=SCHEME_COLORS[sch],
                    label=key if key not in drawn else None)
            drawn.add(key)
            ax.text(r[key], y + off + 0.17, f"{r[key]:.3f}", fontsize=7, ha="center")
        band = (f"±{tol * 100:g} %" if tol else "absolute") if tol is not None else "absolute"
        ax.text(1.005, y, f" {word}  (tie {band})" if word else "", fontsize=8,
                transform=ax.get_yaxis_transform(), va="center")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([x[0] for x in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xscale("log")
    from matplotlib.ticker import FixedLocator, NullLocator
    lo, hi = ax.get_xlim()
    ticks = [t for t in (0.5, 0.67, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25, 1.5, 2, 3, 5, 10)
             if lo <= t <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.set_xlabel(f"ratio to scheme 2, ASID variants ({source}; log; < 1: below scheme 2)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=5)
    title(fig, "Each dimension's figure relative to scheme 2, with its tie band and verdict")
    return save(fig, out / "verdict_ratios.png")


# ------------------------------------------------------------------ cost breakdown

BREAKDOWN_PARTS = ("instructions", "trap", "sret", "satp", "fence", "l2_hits", "walks")
BREAKDOWN_OPS = (("null call", "bench_null", ""), ("whole switch", "bench_ctx", "procs=2,ws_kb=0"))


def breakdown_fn() -> Callable[..., Dict[str, float]]:
    try:
        from ..report.costmodel import breakdown
    except ImportError as e:
        raise Skip(f"harness.report.costmodel is not available ({e})") from e
    return breakdown


def breakdown_rows(df: pd.DataFrame, _src: Optional[Path] = None) -> pd.DataFrame:
    return df[df["bench"].isin([b for _, b, _ in BREAKDOWN_OPS])
              & df["mode"].isin(["tlb", "icount"])]


@plot("cost_breakdown.png", "modelled cycles breakdown", breakdown_rows)
def plot_cost_breakdown(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """Stacked modelled cycles per variant (the one cost model, harness/report/costmodel.py)."""
    breakdown = breakdown_fn()
    preset = mix_tlb_preset(d)
    if preset is None:
        return None
    vs = [v for v in variants(d) if not v.endswith("-dc")
          and not d[(d["variant"] == v) & (d["preset"] == preset)].empty]
    if not vs:
        return None
    fig, axes = plt.subplots(1, len(BREAKDOWN_OPS), figsize=(6.5 * len(BREAKDOWN_OPS), 5),
                             squeeze=False)
    cmap = plt.get_cmap("tab10")
    for ax, (op, bench, params) in zip(axes[0], BREAKDOWN_OPS):
        bottoms = [0.0] * len(vs)
        parts = [breakdown(d, v, preset, bench, params) for v in vs]
        for k, part in enumerate(BREAKDOWN_PARTS):
            hs = [float(p.get(part, 0.0)) for p in parts]
            ax.bar(range(len(vs)), hs, bottom=bottoms, color=cmap(k), label=part)
            bottoms = [b + h for b, h in zip(bottoms, hs)]
        for x, tot in enumerate(bottoms):
            ax.text(x, tot, f"{tot:.0f}", ha="center", va="bottom", fontsize=7)
        ax.set_xticks(range(len(vs)))
        ax.set_xticklabels(vs, rotation=30, ha="right")
        ax.set_ylabel(f"modelled cycles per {op} (model, not hardware)")
        ax.set_title(f"{op} ({preset_short(preset)})", fontsize=9)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0][-1].legend(fontsize=7)
    title(fig, "Modelled cycles broken down: instructions, trap/sret/satp/fence, L2 hits, walks")
    return save(fig, out / "cost_breakdown.png")


# ------------------------------------------------------------------ robustness matrix

VERDICT_COLORS = {"agree": "#4caf50", "partly": "#ffc107", "disagree": "#e53935",
                  "depends": "#8e7cc3", "n/a": "#d0d0d0"}


def robustness_rows(_df: pd.DataFrame, src: Optional[Path] = None) -> pd.DataFrame:
    """results/robustness.csv (row, choice, value, verdict), written by the table."""
    path = (src / "robustness.csv") if src is not None else None
    if path is None or not path.is_file():
        raise Skip(f"no robustness.csv in {src}")
    r = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"row", "choice", "value", "verdict"} - set(r.columns)
    if missing:
        raise Skip(f"{path}: columns {sorted(missing)} missing")
    return r


@plot("robustness_matrix.png", "robustness matrix", robustness_rows, raw=True)
def plot_robustness(r: pd.DataFrame, out: Path) -> Optional[Path]:
    """Each row's verdict under every analysis choice (rows × choices, verdict colours)."""
    rows = list(dict.fromkeys(r["row"]))
    label = r["choice"].where(r["value"] == "", r["choice"] + "=" + r["value"])
    cols = list(dict.fromkeys(label))
    words = sorted(set(r["verdict"]), key=lambda w: (w not in VERDICT_COLORS, w))
    palette = {w: VERDICT_COLORS.get(w, plt.get_cmap("Set3")(i % 12))
               for i, w in enumerate(words)}
    # the row's verdict under its default analysis (the choice "default", else the first)
    default = {k: (g[g["choice"] == "default"] if (g["choice"] == "default").any() else g)
               ["verdict"].iloc[0] for k, g in r.groupby("row", sort=False)}
    fig, ax = plt.subplots(figsize=(max(8, 0.32 * len(cols) + 3), 0.45 * len(rows) + 2.6))
    ax.add_patch(plt.Rectangle((0, 0), len(cols), len(rows), color="#f2f2f2", lw=0))
    for (_, x), lab in zip(r.iterrows(), label):
        i, j = rows.index(x["row"]), cols.index(lab)
        ax.add_patch(plt.Rectangle((j, i), 1, 1, color=palette[x["verdict"]], ec="white"))
        if x["verdict"] != default[x["row"]]:  # a flip: the verdict differs from the default
            ax.plot([j + 0.5], [i + 0.5], marker="x", color="black", ms=6)
    holds = {k: (int((g["verdict"] == default[k]).sum()), len(g))
             for k, g in r.groupby("row", sort=False)}
    ax.set_xlim(0, len(cols))
    ax.set_ylim(len(rows), 0)
    ax.set_xticks([j + 0.5 for j in range(len(cols))])
    ax.set_xticklabels(cols, rotation=90, fontsize=7)
    ax.set_yticks([i + 0.5 for i in range(len(rows))])
    ax.set_yticklabels([f"{k}: {default[k]}, holds in {holds[k][0]} of {holds[k][1]}"
                        for k in rows], fontsize=8)
    from matplotlib.patches import Patch
    ax.legend(handles=[Patch(color=palette[w], label=w) for w in words], fontsize=7,
              bbox_to_anchor=(1.0, 1.0), loc="upper left")
    ax.set_xlabel("analysis choice (one factor changed from the default; grey: not applicable;"
                  " ×: verdict differs from the default)", fontsize=8)
    title(fig, "Robustness: each row's verdict under every analysis choice")
    return save(fig, out / "robustness_matrix.png")


# ------------------------------------------------------------------ wall time

WALL_OPS = (("null system call", "bench_null", {}),
            ("whole process switch", "bench_ctx", WHOLE_SWITCH),
            ("pipe round trip", "bench_pipe", {"mode": "lat"}))
BOOTSTRAP = 2000


def wall_rows(df: pd.DataFrame, _src: Optional[Path] = None) -> pd.DataFrame:
    return df[(df["mode"] == "wall") & (df["metric"] == "ns_per_op")
              & df["bench"].isin([b for _, b, _ in WALL_OPS])]


def bootstrap_median_ci(xs: Sequence[float], seed: int = 0) -> Tuple[float, float]:
    """95 % percentile bootstrap interval of the median (fixed seed: the plot is reproducible)."""
    a = np.asarray(xs, dtype=float)
    rng = np.random.default_rng(seed)
    meds = np.median(rng.choice(a, size=(BOOTSTRAP, len(a)), replace=True), axis=1)
    return float(np.percentile(meds, 2.5)), float(np.percentile(meds, 97.5))


def wall_points(d: pd.DataFrame, bench: str, params: Dict[str, object]) -> Dict[str, List[float]]:
    r = d[d["bench"] == bench]
    for k, val in params.items():
        col = param(k)
        if col not in r.columns:
            return {}
        r = r[r[col].astype(object).map(lambda x, val=val: x == val).astype(bool)]
    return {v: [float(x) for x in r[r["variant"] == v]["value"]] for v in variants(r)}


@plot("wall_repetitions.png", "wall repetitions", wall_rows)
def plot_wall(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """Every wall repetition as a point, with a bootstrap 95 % interval of the median. Wall
    time under QEMU is reported, never ranked: variants stay in their fixed order."""
    ops = [(name, pts) for name, b, p in WALL_OPS if (pts := wall_points(d, b, p))]
    if not ops:
        return None
    fig, axes = plt.subplots(1, len(ops), figsize=(5.5 * len(ops), 4.8), squeeze=False)
    for ax, (name, pts) in zip(axes[0], ops):
        div, unit = time_unit(max(max(v) for v in pts.values()))
        for x, (v, ys) in enumerate(pts.items()):
            jit = np.linspace(-0.15, 0.15, len(ys)) if len(ys) > 1 else [0.0]
            ax.plot([x + j for j in jit], [y / div for y in ys], "o", ms=4, alpha=0.7,
                    color=color(v))
            if len(ys) >= 2:
                lo, hi = bootstrap_median_ci(ys)
                med = float(np.median(ys))
                ax.errorbar([x + 0.3], [med / div], yerr=[[(med - lo) / div], [(hi - med) / div]],
                            fmt="_", color="black", capsize=3, ms=10)
        ax.set_xticks(range(len(pts)))
        ax.set_xticklabels(list(pts), rotation=30, ha="right")
        top = max(max(v) for v in pts.values())
        if top > 10 * min(min(v) for v in pts.values()):
            ax.set_yscale("log")  # variants an order of magnitude apart: keep both readable
        else:
            ax.set_ylim(bottom=0)
        ax.set_ylabel(f"{unit} per operation, {WALL_LABEL}")
        ns = sorted({len(v) for v in pts.values()})
        n = f"{ns[0]}" if len(ns) == 1 else f"{ns[0]}–{ns[-1]}"
        ax.set_title(f"{name} (n = {n} repetitions per variant)", fontsize=9)
        ax.grid(True, axis="y", alpha=0.3)
    title(fig, f"{WALL_LABEL}: every repetition, median with bootstrap 95 % interval; "
               "not a ranking")
    return save(fig, out / "wall_repetitions.png")
