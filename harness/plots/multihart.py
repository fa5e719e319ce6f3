"""Multi-hart plots (issue 17): the cost of a munmap shootdown against the number of remote harts,
per scheme, ASID setting and shootdown mechanism (icount instructions on the requesting hart)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional

import matplotlib.pyplot as plt
import pandas as pd

from ..report.multihart import MECHANISM_LABEL, base_rows, mechanism_of
from .registry import plot
from .style import merge_equal, param, save, style, ticks_at, title


def shootdown_rows(df: pd.DataFrame, _src: Optional[Path] = None) -> pd.DataFrame:
    r = df[(df["bench"] == "bench_shootdown") & (df["mode"] == "icount")
           & (df["metric"] == "insns_per_op")]
    # the base variants' configurations, either mechanism (no -4k / -dc / other options)
    return base_rows(r)


def series_label(scheme: int, asid: bool, mechanism: str) -> str:
    """s2-asid RFENCE, s2-asid IPI, ...: the variant's line style, the mechanism in the name."""
    return f"s{scheme}-{'asid' if asid else 'noasid'} {MECHANISM_LABEL[mechanism]}"


def _line_style(label: str) -> Dict[str, object]:
    """The variant's colour and ASID line style; IPI: hollow markers and a thinner line."""
    first = label.split(" = ")[0]
    variant, _, mech = first.partition(" ")
    st = dict(style(variant))
    st["label"] = label
    if mech == MECHANISM_LABEL["ipi"]:
        st["markerfacecolor"] = "none"
        st["linewidth"] = 1.0
    return st


def shootdown_series(d: pd.DataFrame, pages: int) -> Dict[str, Dict[float, float]]:
    """{series_label: {remote harts: instructions}} for one unmapped size."""
    series: Dict[str, Dict[float, float]] = {}
    rows = d[pd.to_numeric(d[param("pages")]) == pages]
    mech = (rows["config"].map(mechanism_of) if "config" in rows.columns
            else pd.Series("rfence", index=rows.index))
    rows = rows.assign(mechanism=mech)
    for (scheme, asid, m), g in rows.groupby(["scheme", "asid", "mechanism"]):
        harts = g["harts"] if "harts" in g.columns else pd.Series(1, index=g.index)
        g = g[harts == harts.max()]
        pts = g.groupby(pd.to_numeric(g[param("remote")]))["value"].mean()
        if not pts.empty:
            series[series_label(int(scheme), bool(asid), str(m))] = {
                float(k): float(v) for k, v in pts.items()}
    return series


@plot("shootdown.png", "munmap shootdown cost per remote hart", shootdown_rows)
def plot_shootdown(d: pd.DataFrame, out: Path) -> Optional[Path]:
    """One panel per unmapped size (1, 16, 256 pages): instructions per munmap on the requesting
    hart against remote harts, a line per scheme, ASID setting and shootdown mechanism (RFENCE:
    filled markers; IPI: hollow markers, thinner line; from the variant with the most harts that
    measured it)."""
    if d.empty or param("pages") not in d.columns or param("remote") not in d.columns:
        return None
    sizes = sorted(int(x) for x in pd.to_numeric(d[param("pages")]).dropna().unique())
    if not sizes:
        return None
    fig, axes = plt.subplots(1, len(sizes), figsize=(4.2 * len(sizes), 4), squeeze=False)
    drew = False
    for ax, pages in zip(axes[0], sizes):
        series = shootdown_series(d, pages)
        if not series:
            continue
        xs_set: set = set()
        for label, pts_map in merge_equal(series).items():
            ks = sorted(pts_map)
            ax.plot(ks, [pts_map[k] for k in ks], **_line_style(label))
            xs_set |= set(ks)
        xs = sorted(xs_set)
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
    title(fig, "bench_shootdown: munmap with threads on other harts, RFENCE and IPI "
          "(requesting hart, icount)")
    return save(fig, out / "shootdown.png")
