"""lmbench/LEBench-style workload plots (bench_pipe, bench_fault, bench_fork touched_kb,
bench_mix, bench_lebench), instructions from the icount runs."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Dict, List, Optional

import matplotlib.pyplot as plt
import pandas as pd

from .micro import icount_rows
from .registry import plot
from .style import (bars, color, label_bars, log2_axis, param, plot_lines, save, title,
                    value_by, variants)
from .tlbmodel import mix_figure, mix_panels

LEBENCH_REFERENCE = "s2-asid"


def with_param(d: pd.DataFrame, key: str, value: str) -> pd.DataFrame:
    col = param(key)
    if col not in d.columns:
        return d.iloc[0:0]
    return d[d[col].astype(object).map(lambda x: isinstance(x, str) and x == value).astype(bool)]


@plot("pipe_latency.png", "lat_pipe", icount_rows("bench_pipe"))
def plot_pipe_latency(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """lmbench lat_pipe: instructions of a one-byte round trip between two processes."""
    r = with_param(d, "mode", "lat")
    names = variants(r)
    if not names:
        return None
    insns: List[Optional[float]] = [float(r[r["variant"] == v]["value"].mean()) for v in names]
    fig, ax = plt.subplots(figsize=(8, 4.6))
    bars(ax, names, insns)
    label_bars(ax, list(range(len(names))), insns, lambda x: f"{x:.0f}")
    ax.set_ylabel("instructions per round trip (icount)")
    ax.grid(True, axis="y", alpha=0.3)
    title(fig, "lat_pipe: instructions of a 1-byte round trip (2 writes, 2 reads, 2 switches)")
    return save(fig, out / "pipe_latency.png")


@plot("pipe_bandwidth.png", "bw_pipe", icount_rows("bench_pipe"))
def plot_pipe_bandwidth(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """lmbench bw_pipe: instructions per byte moved vs message size."""
    r = with_param(d, "mode", "bw")
    series = {v: {s: x / s for s, x in value_by(r[r["variant"] == v], "size").items() if s > 0}
              for v in variants(r)}
    series = {v: s for v, s in series.items() if s}
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(8, 4.6))
    xs = plot_lines(ax, series)
    log2_axis(ax, xs, "bytes per write (log2)")
    ax.set_yscale("log")
    ax.set_ylabel("instructions per byte moved (icount, log)")
    ax.legend(fontsize=7)
    title(fig, "bw_pipe: instructions per byte streamed through a pipe vs write size")
    return save(fig, out / "pipe_bandwidth.png")


@plot("pipe_ctx_vs_working_set.png", "lat_ctx over pipes", icount_rows("bench_pipe"))
def plot_pipe_ctx(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """lmbench lat_ctx over pipes: per switch vs working set, one panel per ring size."""
    r = with_param(d, "mode", "ctx")
    pc, wc = param("procs"), param("ws_kb")
    if r.empty or pc not in r.columns or wc not in r.columns:
        return None
    procs = sorted(int(p) for p in r[pc].dropna().unique())
    fig, axes = plt.subplots(1, len(procs), figsize=(5 * len(procs), 4.4), squeeze=False,
                             sharey=True)
    wss = sorted({float(x) for x in r[wc].dropna()})
    pos = {w: float(i) for i, w in enumerate(wss)}
    for ax, p in zip(axes[0], procs):
        rp = r[r[pc] == p]
        series = {v: {pos[k]: x for k, x in value_by(rp[rp["variant"] == v], "ws_kb").items()}
                  for v in variants(rp)}
        plot_lines(ax, {v: s for v, s in series.items() if s})
        ax.set_xticks(range(len(wss)))
        ax.set_xticklabels([f"{w:g}" for w in wss])
        ax.set_xlabel("working set per process (KiB)")
        ax.set_title(f"{p} processes in the ring", fontsize=9)
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("instructions per switch (icount)")
    axes[0][-1].legend(fontsize=7)
    title(fig, "lat_ctx over pipes: instructions per token pass round a ring vs working set")
    return save(fig, out / "pipe_ctx_vs_working_set.png")


@plot("fault_cost_vs_size.png", "fault and fork cost vs size",
      lambda df, _s=None: df[df["bench"].isin(["bench_fault", "bench_fork"])
                             & (df["mode"] == "icount") & (df["metric"] == "insns_per_op")])
def plot_fault_cost(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """First-touch and COW cost per page vs size, and fork of a touched process vs its size
    (eager copy against demand paging + COW)."""
    fault = d[d["bench"] == "bench_fault"]
    panels = [(with_param(fault, "mode", "first_touch"), "kb",
               "first touch of fresh anonymous memory", "instructions per page"),
              (with_param(fault, "mode", "cow"), "kb",
               "a forked child writes each page", "instructions per page"),
              (d[d["bench"] == "bench_fork"], "touched_kb",
               "fork + exit + wait of a process with that much memory", "instructions per fork")]
    panels = [p for p in panels if not p[0].empty and param(p[1]) in p[0].columns
              and p[0][param(p[1])].notna().any()]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.6), squeeze=False)
    for ax, (r, key, sub, ylabel) in zip(axes[0], panels):
        series = {v: value_by(r[r["variant"] == v], key) for v in variants(r)}
        xs = plot_lines(ax, {v: s for v, s in series.items() if s})
        log2_axis(ax, xs, "KiB (log2)")
        ax.set_yscale("log")
        ax.set_ylabel(ylabel + " (icount, log)")
        ax.set_title(sub, fontsize=9)
        ax.legend(fontsize=7)
    title(fig, "Page-fault and fork cost vs size: eager copy against demand paging + COW (-dc)")
    return save(fig, out / "fault_cost_vs_size.png")


def mix_values(d: pd.DataFrame) -> Dict[str, Dict[int, Dict[float, float]]]:
    wc = param("ws_kb")
    out: Dict[str, Dict[int, Dict[float, float]]] = {}
    if d.empty or wc not in d.columns:
        return out
    for v in variants(d):
        r = d[d["variant"] == v]
        for w in sorted(int(x) for x in r[wc].dropna().unique()):
            got = value_by(r[r[wc] == w], "every")
            if got:
                out.setdefault(v, {})[w] = got
    return out


@plot("mix_insns_per_access.png", "bench_mix instructions", icount_rows("bench_mix"))
def plot_mix(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """bench_mix: instructions per access vs accesses per system call."""
    return mix_figure(mix_panels(mix_values(d)), "instructions per access (icount, log)",
                      "bench_mix: instructions per access, a getpid every N reads "
                      "(the KPTI surface)", out / "mix_insns_per_access.png")


@plot("lebench_relative.png", "LEBench relative to scheme 2", icount_rows("bench_lebench"))
def plot_lebench(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """LEBench style: one bar group per case, each variant's instructions normalised to
    scheme 2 (s2-asid); the legend gives each variant's geometric mean over the cases."""
    col = param("case")
    if d.empty or col not in d.columns:
        return None
    s2 = [v for v in variants(d) if v.startswith("s2-")]
    if not s2:
        return None
    refv = LEBENCH_REFERENCE if LEBENCH_REFERENCE in s2 else s2[0]
    ref = d[d["variant"] == refv].groupby(col)["value"].mean()
    cases = list(d[d["variant"] == refv][col].drop_duplicates())
    vs = [v for v in variants(d) if v != refv and not v.endswith("-dc")]
    vs = [v for v in vs if not v.endswith("-4k")] or vs
    fig, ax = plt.subplots(figsize=(max(12, 0.6 * len(cases)), 5.5))
    width = 0.8 / max(1, len(vs))
    for i, v in enumerate(vs):
        got = d[d["variant"] == v].groupby(col)["value"].mean()
        ys = [float(got[c] / ref[c]) if c in got and ref[c] else float("nan") for c in cases]
        ok = [y for y in ys if y == y and y > 0]
        gm = math.exp(sum(map(math.log, ok)) / len(ok)) if ok else float("nan")
        ax.bar([k + (i - (len(vs) - 1) / 2) * width for k in range(len(cases))], ys, width,
               color=color(v), label=f"{v} (geomean {gm:.3f})")
    ax.axhline(1.0, color=color(refv), linewidth=1, label=f"{refv} = 1")
    ax.set_xticks(range(len(cases)))
    ax.set_xticklabels(cases, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(f"instructions relative to {refv} (icount)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncol=3)
    title(fig, f"LEBench-style suite: instructions of every case relative to {refv}")
    return save(fig, out / "lebench_relative.png")
