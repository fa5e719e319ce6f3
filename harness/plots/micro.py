"""Microbenchmark plots from the icount runs (instructions are exact and deterministic; wall
time has its own plot, harness/plots/verdicts.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Mapping, Optional, Sequence

import matplotlib.pyplot as plt
import pandas as pd

from .registry import plot
from .style import (LINE_KEY, NET_NOTE, bars, coincide, color, diff_lines, label_bars,
                    param, plot_lines, save, size_label, ticks_at, title, variants)


def icount_rows(bench: str, metrics: Sequence[str] = ("insns_per_op",)):
    def select(df: pd.DataFrame, _src: Optional[Path] = None) -> pd.DataFrame:
        return df[(df["bench"] == bench) & (df["mode"] == "icount") & df["metric"].isin(metrics)]
    return select


@plot("null_syscall.png", "null syscall", icount_rows("bench_null"))
def plot_null(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """Instructions of one null system call per variant (icount)."""
    vs = variants(d)
    if not vs:
        return None
    fig, ax = plt.subplots(figsize=(8, 4.3))
    ins = [float(d[d["variant"] == v]["value"].iloc[0]) for v in vs]
    bars(ax, vs, ins)
    label_bars(ax, list(range(len(vs))), ins, lambda x: f"{x:.0f}")
    ax.set_ylabel("instructions per null syscall (icount)")
    ax.grid(True, axis="y", alpha=0.3)
    title(fig, "bench_null: instructions of one system call (icount, deterministic)")
    return save(fig, out / "null_syscall.png")


def series_by(d: pd.DataFrame, key: str, **fixed: float) -> Dict[str, Dict[float, float]]:
    """{variant: {x: value}} over parameter `key`, with other parameters fixed."""
    col = param(key)
    if col not in d.columns:
        return {}
    for k, val in fixed.items():
        d = d[d[param(k)] == val]
    out: Dict[str, Dict[float, float]] = {}
    for v in variants(d):
        r = d[(d["variant"] == v) & d[col].notna()]
        if not r.empty:
            out[v] = {float(x): float(y) for x, y in zip(r[col], r["value"])}
    return out


def curve_figure(ins: Mapping[str, Mapping[float, float]], *, unit_label: str, xlabel: str,
                 title_text: str, path: Path, symlog_x: bool = False,
                 xfmt=size_label, net: bool = False) -> Optional[Path]:
    """The absolute instructions (dropped when every line coincides) and each variant minus
    scheme 2."""
    if not ins:
        return None
    absolute = not coincide(ins.values())
    fig, axes = plt.subplots(1, 2 if absolute else 1, figsize=(13 if absolute else 8, 4.8),
                             squeeze=False)
    axes = list(axes[0])
    what = f"instructions per {unit_label}" + (", net" if net else "")
    xs = sorted({x for s in ins.values() for x in s})
    if absolute:
        plot_lines(axes[0], ins)
        axes[0].set_yscale("log")
        axes[0].set_ylabel(f"{what} (icount; log)")
        axes[0].set_title("instructions" + (f" ({NET_NOTE.split(':')[0]})" if net else ""),
                          fontsize=9)
        axes[0].legend(fontsize=7, title=LINE_KEY, title_fontsize=6)
    diff_ax = axes[-1]
    diff_lines(diff_ax, ins, what)
    lo = min(min(s.values()) for s in ins.values())
    hi = max(max(s.values()) for s in ins.values())
    diff_ax.set_title("relative to scheme 2" + ("" if absolute else
                      f" (absolute lines coincide; they span {lo:,.0f}–{hi:,.0f})"), fontsize=9)
    diff_ax.legend(fontsize=7)
    for ax in axes:
        if symlog_x:
            ax.set_xscale("symlog", linthresh=4)
        else:
            ax.set_xscale("log", base=2)
        ticks_at(ax, xs, xfmt)
        ax.set_xlabel(xlabel)
        ax.grid(True, alpha=0.3)
    title(fig, title_text)
    if net:
        fig.text(0.5, 0.005, NET_NOTE, ha="center", fontsize=8, style="italic")
        fig.tight_layout(rect=(0, 0.03, 1, 1))
    return save(fig, path)


@plot("copy_vs_size.png", "copy vs size", icount_rows("bench_copy"))
def plot_copy(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """How a user↔kernel copy's instructions grow with its size, per scheme."""
    return curve_figure(series_by(d, "size"), unit_label="copy",
                        xlabel="copy size (bytes; measured sizes, log2)",
                        title_text="bench_copy: instructions of one user↔kernel copy vs its size",
                        path=out / "copy_vs_size.png")


@plot("tlb_pollution.png", "TLB pollution", icount_rows("bench_tlb"))
def plot_tlb(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """Instructions of one bench_tlb iteration (K page loads + a getpid) vs K."""
    return curve_figure(series_by(d, "pages"), unit_label="iteration",
                        xlabel="pages touched per iteration (K; log2)",
                        title_text="bench_tlb: instructions of one iteration "
                                   "(K page loads + 1 getpid) vs K",
                        path=out / "tlb_pollution.png")


def ctx_net(d: pd.DataFrame) -> Dict[str, Dict[float, float]]:
    """{variant: {ws: switch line (smallest procs >= 2) minus the 1-process line}}."""
    pc, wc = param("procs"), param("ws_kb")
    if d.empty or pc not in d.columns or wc not in d.columns:
        return {}
    out: Dict[str, Dict[float, float]] = {}
    for v in variants(d):
        r = d[(d["variant"] == v) & d[pc].notna() & d[wc].notna()]
        got: Dict[float, float] = {}
        for ws, g in r.groupby(r[wc].astype(float)):
            multi = g[g[pc] >= 2]
            one = g[g[pc] == 1]
            if multi.empty or one.empty:
                continue
            sw = multi[multi[pc] == multi[pc].min()]
            got[ws] = float(sw["value"].iloc[0]) - float(one["value"].iloc[0])
        if got:
            out[v] = got
    return out


@plot("ctx_vs_working_set.png", "context switch vs working set", icount_rows("bench_ctx"))
def plot_ctx(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """Instructions of one process switch, net of the same-process line, vs working set."""
    return curve_figure(ctx_net(d), unit_label="switch", net=True, symlog_x=True,
                        xfmt=lambda x: f"{int(x)}",
                        xlabel="working set per process (KiB; measured points)",
                        title_text="bench_ctx: net instructions of one process switch vs "
                                   "working set",
                        path=out / "ctx_vs_working_set.png")


COUNTER_BENCHES = ("bench_null", "bench_ctx", "bench_fork", "bench_exec", "bench_mmap",
                   "bench_timer", "bench_copy", "bench_tlb")


def counter_value(d: pd.DataFrame, v: str, bench: str, metric: str) -> Optional[float]:
    """The counter of a bench's smallest configuration (ctx: 2 processes, ws 0, the whole
    switch; others: the first parameter set)."""
    r = d[(d["variant"] == v) & (d["bench"] == bench) & (d["metric"] == metric)]
    if bench == "bench_ctx" and param("procs") in r.columns:
        r = r[(r[param("procs")] == 2) & (r[param("ws_kb")] == 0)]
    if r.empty:
        return None
    return float(r.sort_values("params")["value"].iloc[0])


@plot("satp_sfence_per_op.png", "satp/sfence per op",
      lambda df, _s=None: df[(df["mode"] == "icount")
                             & df["metric"].isin(["satp_per_op", "sfence_per_op"])
                             & df["bench"].isin(COUNTER_BENCHES)])
def plot_counters(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """satp writes and sfence.vma per operation, counted by the kernel."""
    benches = [b for b in COUNTER_BENCHES if b in set(d["bench"])]
    # the -dc variants run only the paging benchmarks: drawn in the workload plots
    vs = [v for v in variants(d) if not v.endswith("-dc")] or variants(d)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.8 / max(1, len(vs))
    for ax, metric, label in ((axes[0], "satp_per_op", "satp writes per op"),
                              (axes[1], "sfence_per_op", "sfence.vma per op")):
        for i, v in enumerate(vs):
            ys = [counter_value(d, v, b, metric) or 0.0 for b in benches]
            xs = [j + (i - (len(vs) - 1) / 2) * width for j in range(len(benches))]
            ax.bar(xs, ys, width=width, color=color(v), label=v)
        ax.set_xticks(range(len(benches)))
        ax.set_xticklabels(benches, rotation=30, ha="right")
        ax.set_ylabel(f"{label} (icount run)")
        ax.set_title(label, fontsize=9)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0].legend(fontsize=7, ncol=2)
    title(fig, "satp writes and sfence.vma per operation (kernel counters; ctx: whole switch)")
    return save(fig, out / "satp_sfence_per_op.png")
