"""Plots of the TLB-model runs (mode tlb): L1 misses per null call and per switch, the user's
misses in bench_tlb, bench_mix's misses per access."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Tuple

import matplotlib.pyplot as plt
import pandas as pd

from ..tlb import PRESETS
from .registry import plot
from .style import (LINE_KEY, NET_NOTE, coincide, color, log2_axis, merge_equal, param,
                    plot_lines, same, save, size_label, title, variants)

L1_MISSES = ("tlb_l1i_misses_per_op", "tlb_l1d_misses_per_op")


def presets(d: pd.DataFrame) -> List[str]:
    """The presets in d: u54 first, then alphabetical (the table's order)."""
    ps = sorted(p for p in d.loc[d["mode"] == "tlb", "preset"].unique() if isinstance(p, str) and p)
    return sorted(ps, key=lambda p: (p != "u54", p))


def preset_short(p: str) -> str:
    info = PRESETS.get(p)
    if info is None:
        return p
    asids = f"{info.asid_bits}-bit ASIDs" if info.asid_bits else "no ASIDs"
    return f"{p}: L1 {info.l1i}/{info.l1d}, {asids}"


def tlb_rows(benches: Tuple[str, ...], metrics: Tuple[str, ...] = L1_MISSES):
    def select(df: pd.DataFrame, _src: Optional[Path] = None) -> pd.DataFrame:
        return df[(df["mode"] == "tlb") & df["bench"].isin(benches) & df["metric"].isin(metrics)]
    return select


def summed(d: pd.DataFrame, by: List[str]) -> pd.DataFrame:
    """I + D misses: the seed-mean rows summed over the two metrics (one row each per key)."""
    keys = [c for c in by if c in d.columns]
    return (d.assign(**{k: d[k].astype(object).where(d[k].notna(), "") for k in keys})
            .groupby(keys, sort=False, as_index=False)["value"].sum())


def null_and_switch(d: pd.DataFrame, v: str, p: str) -> Tuple[Optional[float], Optional[float]]:
    """(L1 I + D misses per null call, per switch net of the 1-process line) at ws 0."""
    r = d[(d["variant"] == v) & (d["preset"] == p)]
    null = r[r["bench"] == "bench_null"]
    ctx = r[(r["bench"] == "bench_ctx") & (r[param("ws_kb")] == 0)] if param("ws_kb") in r else r.iloc[:0]
    nv = float(null["value"].sum()) if len(null) == 2 else None
    two, one = ctx[ctx[param("procs")] == 2], ctx[ctx[param("procs")] == 1]
    sw = float(two["value"].sum() - one["value"].sum()) if len(two) == 2 and len(one) == 2 else None
    return nv, sw


@plot("tlb_model_misses.png", "TLB model: misses", tlb_rows(("bench_null", "bench_ctx")))
def plot_tlb_model_misses(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """L1 TLB misses (model) per null call and per net switch, per preset."""
    ps = presets(d)
    if not ps:
        return None
    from matplotlib.patches import Patch
    fig, axes = plt.subplots(1, len(ps), figsize=(6.5 * len(ps), 4.8), squeeze=False)
    drawn = False
    for ax, p in zip(axes[0], ps):
        vals = {v: null_and_switch(d, v, p) for v in variants(d)
                if not d[(d["variant"] == v) & (d["preset"] == p)].empty}
        # variants with the same two figures (e.g. ASIDs on and off on a core without ASIDs)
        # share one pair of bars, labelled `a = b`
        merged = merge_equal({v: {k: x for k, x in enumerate(nv) if x is not None}
                              for v, nv in vals.items()})
        vs = list(merged)
        top = 0.0
        for i, v in enumerate(vs):
            pair = vals[v.split(" = ")[0]]
            for off, val, hatch in zip((-0.19, 0.19), pair, (None, "//")):
                ax.bar(i + off, val or 0.0, width=0.38, color=color(v), hatch=hatch,
                       edgecolor="black", linewidth=0.5)
                ax.text(i + off, val or 0.0, " n/a" if val is None else f" {val:.3g}",
                        ha="center", va="bottom", fontsize=7, rotation=90)
                if val is not None:
                    drawn, top = True, max(top, val)
        ax.set_xticks(range(len(vs)))
        ax.set_xticklabels(vs, rotation=30, ha="right", fontsize=8)
        ax.set_ylim(top=top * 1.3 if top > 0 else 1)
        ax.set_ylabel("L1 TLB misses per operation (I + D, model)")
        ax.set_title(preset_short(p), fontsize=9)
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(handles=[Patch(facecolor="white", edgecolor="black", label="per null syscall"),
                           Patch(facecolor="white", edgecolor="black", hatch="//",
                                 label="per switch, net (ws 0)")], fontsize=7)
    if not drawn:
        plt.close(fig)
        return None
    title(fig, "TLB model: L1 TLB misses per null system call and per process switch")
    fig.text(0.5, 0.005, NET_NOTE, ha="center", fontsize=8, style="italic")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return save(fig, out / "tlb_model_misses.png")


@plot("tlb_model_pollution.png", "TLB model: pollution",
      tlb_rows(("bench_tlb",), ("tlb_user_misses_per_op",)))
def plot_tlb_model_pollution(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """The user's own L1 misses per bench_tlb iteration vs K: what the system call evicts."""
    ps = presets(d)
    col = param("pages")
    if not ps or col not in d.columns:
        return None
    fig, axes = plt.subplots(1, len(ps), figsize=(6.5 * len(ps), 4.8), squeeze=False,
                             sharey=True)
    for ax, p in zip(axes[0], ps):
        r = d[d["preset"] == p]
        series = {v: {float(k): float(x) for k, x in zip(g[col], g["value"]) if k == k}
                  for v in variants(r) if not (g := r[r["variant"] == v]).empty}
        xs = plot_lines(ax, series)
        log2_axis(ax, xs, "pages touched per iteration (K; log2)")
        ax.set_yscale("symlog", linthresh=1)
        ax.set_ylim(bottom=0)
        ax.set_title(preset_short(p), fontsize=9)
        ax.legend(fontsize=7, title=LINE_KEY, title_fontsize=6)
    axes[0][0].set_ylabel("user-mode L1 TLB misses per iteration\n(I + D, model; symlog)")
    title(fig, "TLB model, bench_tlb: the user's own misses per iteration (K loads + 1 getpid)")
    return save(fig, out / "tlb_model_pollution.png")


MIX_VARIANTS = ("s1-noasid", "s1-asid", "s2-asid", "s3-asid")


def mix_tlb_values(d: pd.DataFrame, preset: str) -> Dict[str, Dict[int, Dict[float, float]]]:
    """{variant: {ws_kb: {N: L1 I + D misses per access}}} of bench_mix under `preset`, from
    the seed-mean rows (scheme 3: the mean over its seeds, never their sum)."""
    r = d[(d["bench"] == "bench_mix") & (d["preset"] == preset)]
    wc, ec = param("ws_kb"), param("every")
    out: Dict[str, Dict[int, Dict[float, float]]] = {}
    if r.empty or wc not in r.columns or ec not in r.columns:
        return out
    s = summed(r, ["variant", wc, ec])
    for v in variants(s):
        for w, g in s[s["variant"] == v].groupby(wc):
            out.setdefault(v, {})[int(w)] = {float(e): float(x) for e, x in zip(g[ec], g["value"])}
    return out


def mix_panels(values: Dict[str, Dict[int, Dict[float, float]]]
               ) -> Dict[str, Dict[int, Dict[float, float]]]:
    """The main variants' panels, a panel equal to an earlier one merged into it (`a = b`)."""
    vs = [v for v in MIX_VARIANTS if v in values] or list(values)[:4]
    groups: List[Tuple[List[str], Dict[int, Dict[float, float]]]] = []
    for v in vs:
        flat = {(w, n): x for w, s in values[v].items() for n, x in s.items()}
        hit = next((g for g in groups if same(
            flat, {(w, n): x for w, s in g[1].items() for n, x in s.items()})), None)
        if hit is None:
            groups.append(([v], values[v]))
        else:
            hit[0].append(v)
    return {" = ".join(names): s for names, s in groups}


def mix_figure(panels: Dict[str, Dict[int, Dict[float, float]]], ylabel: str, title_text: str,
               path: Path, symlog: bool = False) -> Optional[Path]:
    if not panels:
        return None
    wss = sorted({w for s in panels.values() for w in s})
    if len(wss) > 1 and all(coincide(list(s.values()), log=not symlog) for s in panels.values()):
        # the working-set lines coincide in every panel: one panel, one line per variant
        w = wss[-1]
        fig, ax = plt.subplots(figsize=(8, 4.6))
        plot_lines(ax, {v: s[w] for v, s in panels.items() if w in s})
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=1e-3) if symlog else ax.set_yscale("log")
        ax.set_xlabel("accesses per system call (N, log)")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, title=f"working set {size_label(w * 1024)} (the "
                  f"{', '.join(size_label(x * 1024) for x in wss[:-1])} lines coincide)",
                  title_fontsize=7)
        title(fig, title_text)
        return save(fig, path)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4.4), squeeze=False,
                             sharey=True)
    cmap = plt.get_cmap("viridis")
    for ax, (v, series) in zip(axes[0], panels.items()):
        for i, w in enumerate(wss):
            got = series.get(w)
            if got:
                ks = sorted(got)
                ax.plot(ks, [got[k] for k in ks], marker="o",
                        color=cmap(i / max(1, len(wss) - 1)), label=size_label(w * 1024))
        ax.set_xscale("log")
        if symlog:  # counts that can be 0 (a scheme that keeps its entries)
            ax.set_yscale("symlog", linthresh=1e-3)
            ax.set_ylim(bottom=0)
        else:
            ax.set_yscale("log")
        ax.set_xlabel("accesses per system call (N, log)")
        ax.set_title(v, fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, title="working set", title_fontsize=7)
    axes[0][0].set_ylabel(ylabel)
    title(fig, title_text)
    return save(fig, path)


def mix_tlb_preset(d: pd.DataFrame) -> Optional[str]:
    """The first preset with ASIDs (the table's TLB preset), else the first preset."""
    ps = presets(d)
    with_asids = [p for p in ps if p in PRESETS and PRESETS[p].asid_bits > 0 and p != "ideal"]
    return (with_asids or ps or [None])[0]


@plot("mix_tlb_misses_per_access.png", "bench_mix TLB misses", tlb_rows(("bench_mix",)))
def plot_mix_tlb(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """bench_mix under the TLB model: L1 I + D misses per access vs N, one panel per variant."""
    p = mix_tlb_preset(d)
    if p is None:
        return None
    return mix_figure(mix_panels(mix_tlb_values(d, p)),
                      "L1 TLB misses (I + D) per access\n(model; symlog, linear below 0.001)",
                      f"bench_mix under the TLB model ({preset_short(p)}): misses per access vs N",
                      out / "mix_tlb_misses_per_access.png", symlog=True)
