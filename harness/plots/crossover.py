"""Crossover curves: where a modelled-cycle ratio (S1/S2 or S3/S2) crosses 1 as the satp-write
cost is swept (harness/crossover.py). Only the (workload, ASID setting, pair) panels with a
crossing inside the swept range are drawn, as curves on one shared scale."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple

import matplotlib.pyplot as plt
import pandas as pd

from .. import crossover as xo
from ..tlb import PRESETS, TLB_WORKLOADS
from .registry import Skip, plot
from .style import save, title
from .tlbmodel import presets

WORKLOAD_BENCHES = tuple(sorted({w.bench for w in TLB_WORKLOADS}))


def crossover_rows(df: pd.DataFrame, _src: Optional[Path] = None) -> pd.DataFrame:
    """The TLB-model rows of the workloads, and the kernel's satp count (the fallback when a
    report has no satp-write count)."""
    b = df["bench"].isin(WORKLOAD_BENCHES)
    return df[b & ((df["mode"] == "tlb")
                   | ((df["mode"] == "icount") & (df["metric"] == "satp_per_op")))]


def crossing_panels(d: pd.DataFrame) -> List[Tuple[object, str, Tuple[int, int], "xo.Map"]]:
    """(workload, panel, pair, map) for every panel with a crossing of 1 in range."""
    ps = presets(d)
    out = []
    for w in TLB_WORKLOADS:
        for panel in xo.PANELS:
            m = xo.crossover_map(d, w, panel, ps, xo.asid_preset(ps))
            if m is None:
                continue
            for pair in xo.PAIRS:
                if any(m.crossing(pair, i) is not None for i in range(len(m.points))):
                    out.append((w, panel, pair, m))
    return out


@plot("crossover_curves.png", "crossover curves", crossover_rows)
def plot_crossover(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """One panel per crossing: the ratio against the satp-write cost, one curve per L1 size."""
    if not presets(d):
        return None
    found = crossing_panels(d)
    if not found:
        raise Skip("no modelled ratio crosses 1 inside the swept satp-write cost range "
                   f"({xo.SATP_COSTS[0]}–{xo.SATP_COSTS[-1]} cycles)")
    ncol = min(3, len(found))
    nrow = (len(found) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(max(9.0, 5.2 * ncol), 4.2 * nrow), squeeze=False,
                             sharey=True)
    cmap = plt.get_cmap("viridis")
    for k, (w, panel, pair, m) in enumerate(found):
        ax = axes[k // ncol][k % ncol]
        n = len(m.points)
        for i, pt in enumerate(m.points):
            ax.plot(m.costs, m.ratio[pair][i], color=cmap(i / max(1, n - 1)), lw=1.2,
                    label=pt.label)
            c = m.crossing(pair, i)
            if c is not None:
                ax.plot([c], [1.0], marker="|", color="black", ms=12)
                ax.annotate(f"{c:.0f}", (c, 1.0), xytext=(3, -10), textcoords="offset points",
                            fontsize=7)
            own = PRESETS[pt.preset].satp_write if pt.preset in PRESETS else None
            if own is not None and (pt.lru is None or pt.lru == PRESETS[pt.preset].l1d):
                y = m.ratio[pair][i][min(range(len(m.costs)), key=lambda j: abs(m.costs[j] - own))]
                ax.plot([own], [y], marker="*", color="black", ms=10)
        ax.axhline(1.0, color="gray", lw=1, ls="--")
        ax.set_title(f"{w.key}: S{pair[0]}/S{pair[1]}, "
                     f"{'with' if panel == 'asid' else 'without'} ASIDs", fontsize=9)
        ax.set_xlabel("satp-write cost (cycles; presets assume 5–15)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=6, title="L1 entries", title_fontsize=6, ncol=2)
    for k in range(len(found), nrow * ncol):
        axes[k // ncol][k % ncol].axis("off")
    for row in axes:
        row[0].set_ylabel("modelled cycles ratio (> 1: scheme 2 cheaper)")
    title(fig, "Modelled-cycle ratios that cross 1 as the satp-write cost grows (star: a preset)")
    return save(fig, out / "crossover_curves.png")
