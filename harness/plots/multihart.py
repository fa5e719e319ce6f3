"""Multi-hart plots (issue 17): the cost of a munmap shootdown against the number of remote harts,
per scheme and ASID setting (icount instructions on the requesting hart)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional

import matplotlib.pyplot as plt
import pandas as pd

from .registry import plot
from .style import param, plot_lines, save, ticks_at, title


def shootdown_rows(df: pd.DataFrame, _src: Optional[Path] = None) -> pd.DataFrame:
    r = df[(df["bench"] == "bench_shootdown") & (df["mode"] == "icount")
           & (df["metric"] == "insns_per_op")]
    # the six base variants' configurations (no -4k / -dc / other options)
    return r[r["config"].fillna("").isin(("", "ASID=n"))] if "config" in r.columns else r


@plot("shootdown.png", "munmap shootdown cost per remote hart", shootdown_rows)
def plot_shootdown(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """One panel per unmapped size (1, 16, 256 pages): instructions per munmap on the requesting
    hart against remote harts, a line per scheme and ASID setting (from the variant with the
    most harts that measured it)."""
    if d.empty or param("pages") not in d.columns or param("remote") not in d.columns:
        return None
    sizes = sorted(int(x) for x in pd.to_numeric(d[param("pages")]).dropna().unique())
    if not sizes:
        return None
    fig, axes = plt.subplots(1, len(sizes), figsize=(4.2 * len(sizes), 4), squeeze=False)
    drew = False
    for ax, pages in zip(axes[0], sizes):
        series: Dict[str, Dict[float, float]] = {}
        rows = d[pd.to_numeric(d[param("pages")]) == pages]
        for (scheme, asid), g in rows.groupby(["scheme", "asid"]):
            harts = g["harts"] if "harts" in g.columns else pd.Series(1, index=g.index)
            g = g[harts == harts.max()]
            pts = g.groupby(pd.to_numeric(g[param("remote")]))["value"].mean()
            if not pts.empty:
                series[f"s{scheme}-{'asid' if asid else 'noasid'}"] = {
                    float(k): float(v) for k, v in pts.items()}
        if not series:
            continue
        xs = plot_lines(ax, series)
        ticks_at(ax, xs, lambda x: f"{x:.0f}")
        ax.set_xlabel("remote harts running the address space")
        ax.set_ylabel("instructions per munmap (icount)")
        ax.set_title(f"{pages} page{'s' if pages > 1 else ''}", fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
        drew = True
    if not drew:
        plt.close(fig)
        return None
    title(fig, "bench_shootdown: munmap with threads on other harts (requesting hart, icount)")
    return save(fig, out / "shootdown.png")
