"""Shared look of the plots: variant colours and line styles, axes helpers, and the checks that
decide from the data whether lines or panels coincide."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from ..tidy import PARAM_PREFIX  # noqa: E402
from ..variants import ordered_names  # noqa: E402

COLORS = {"s1-asid": "#c0392b", "s1-noasid": "#e6897e", "s2-asid": "#1f6fb4",
          "s2-noasid": "#85b6e0", "s3-asid": "#27884a", "s3-noasid": "#8fd1a6",
          "s1-asid-4k": "#7b241c", "s2-asid-4k": "#154360", "s3-asid-4k": "#145a32",
          "s1-asid-dc": "#f39c12", "s2-asid-dc": "#8e44ad", "s3-asid-dc": "#16a085"}
SCHEME_COLORS = {1: COLORS["s1-asid"], 2: COLORS["s2-asid"], 3: COLORS["s3-asid"]}
MARKERS = {"asid": "o", "noasid": "s", "4k": "^", "dc": "D"}
LINE_KEY = "solid: ASID on, dashed: off, dotted: 4 KiB kernel map"
# What "net" subtracts, wherever a net switch figure is drawn.
NET_NOTE = ("net = the 2-process line minus the 1-process line of the same run: the switch "
            "without the yield call and loop both lines run")
WALL_LABEL = "QEMU wall time (not hardware)"
# Two values closer than this (relative) are drawn as one line / one panel.
SAME_RTOL = 1e-9
# Absolute lines whose spread stays under this share of the axis span cannot be told apart on
# the plot: the panel is dropped and the difference to scheme 2 drawn instead.
COINCIDE_RTOL = 0.05


def param(key: str) -> str:
    return PARAM_PREFIX + key


def variants(df: pd.DataFrame) -> List[str]:
    present = set(df["variant"].unique()) if "variant" in df.columns else set()
    return ordered_names(present)


def style(v: str) -> Dict[str, Any]:
    """ASIDs on: solid, circles; off: dashed, squares; kernel in 4 KiB pages: dotted, triangles;
    demand paging + COW (-dc): dash-dot, diamonds. A merged label ("a = b") takes a's style."""
    first = v.split(" = ")[0]
    kind = ("4k" if first.endswith("-4k") else "dc" if first.endswith("-dc")
            else "asid" if first.endswith("-asid") else "noasid")
    return {"color": COLORS.get(first, "gray"), "marker": MARKERS[kind],
            "linestyle": {"asid": "-", "noasid": "--", "4k": ":", "dc": "-."}[kind], "label": v}


def color(v: str) -> str:
    return COLORS.get(v.split(" = ")[0], "gray")


def save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def title(fig: Any, text: str) -> None:
    """One-line figure title (a title is a line, not a paragraph)."""
    if "\n" in text or len(text) > 120:
        raise ValueError(f"plot title longer than one line: {text!r}")
    fig.suptitle(text, fontsize=11)


def bars(ax: Any, names: List[str], values: List[Optional[float]]) -> None:
    xs = list(range(len(names)))
    ax.bar(xs, [v if v is not None else 0.0 for v in values], color=[color(n) for n in names])
    ax.set_xticks(xs)
    ax.set_xticklabels(names, rotation=30, ha="right")


def label_bars(ax: Any, xs: Sequence[float], values: Sequence[Optional[float]], fmt: Any) -> None:
    """Value labels above bars, vertical and small, so that neighbours never overlap."""
    top = max([v for v in values if v is not None] + [0.0])
    for x, v in zip(xs, values):
        if v is None:
            ax.text(x, 0, "n/a", ha="center", va="bottom", fontsize=7, rotation=90)
        else:
            ax.text(x, v + top * 0.01, fmt(v), ha="center", va="bottom", fontsize=7,
                    rotation=90)
    ax.set_ylim(top=top * 1.25 if top > 0 else 1)


def time_unit(max_ns: float) -> Tuple[float, str]:
    """(divisor, unit) so that wall times read in ns, µs or ms, never six-digit ns."""
    if max_ns >= 1e6:
        return 1e6, "ms"
    if max_ns >= 1e4:
        return 1e3, "µs"
    return 1.0, "ns"


def reference(v: str) -> str:
    """The scheme-2 variant with the same ASID and kernel-map setting."""
    return "s2-" + v.split("-", 1)[1]


def ticks_at(ax: Any, xs: List[float], fmt: Any) -> None:
    """Ticks at the measured points only."""
    from matplotlib.ticker import NullLocator
    ax.set_xticks(xs)
    ax.set_xticklabels([fmt(x) for x in xs], rotation=45 if len(xs) > 8 else 0, fontsize=8)
    ax.xaxis.set_minor_locator(NullLocator())
    lo, hi = min(xs), max(xs)
    ax.set_xlim(lo - 0.5 if lo <= 0 else lo / 1.3, hi * 1.3)


def size_label(x: float) -> str:
    x = int(x)
    if x >= 1024 and x % 1024 == 0:
        return f"{x // 1024}K"
    return str(x)


def log2_axis(ax: Any, xs: List[float], label: str) -> None:
    ax.set_xscale("log", base=2)
    if xs:
        ticks_at(ax, sorted(set(xs)), size_label)
    ax.set_xlabel(label)
    ax.grid(True, alpha=0.3)


def value_by(r: pd.DataFrame, key: str) -> Dict[float, float]:
    """{param value: value} of one variant's seed-mean rows (one row per value)."""
    col = param(key)
    if r.empty or col not in r.columns:
        return {}
    g = r[r[col].notna()].groupby(r[col].astype(float))["value"].mean()
    return {float(k): float(v) for k, v in g.items()}


def same(a: Mapping[float, float], b: Mapping[float, float], rtol: float = SAME_RTOL) -> bool:
    """Two series with the same points and values equal within rtol."""
    if set(a) != set(b):
        return False
    return all(abs(a[k] - b[k]) <= rtol * max(abs(a[k]), abs(b[k]), 1e-12) for k in a)


def merge_equal(series: Mapping[str, Mapping[float, float]]) -> Dict[str, Mapping[float, float]]:
    """Series that are equal, merged under one label `a = b` at the first one's place."""
    groups: List[Tuple[List[str], Mapping[float, float]]] = []
    for v, s in series.items():
        hit = next((g for g in groups if same(s, g[1])), None)
        if hit is None:
            groups.append(([v], s))
        else:
            hit[0].append(v)
    return {short_merged(" = ".join(names)): s for names, s in groups}


def short_merged(label: str) -> str:
    """`a = b = c = d …` shortened to `a = b = … (n equal)` past three names."""
    names = label.split(" = ")
    return label if len(names) <= 3 else f"{names[0]} = {names[1]} = … ({len(names)} equal)"


def coincide(series: Iterable[Mapping[float, float]], rtol: float = COINCIDE_RTOL,
             log: bool = True) -> bool:
    """True when, at every shared point, the spread of the series is under rtol of the axis
    span (in log units on a log axis): the lines cannot be told apart on an absolute axis."""
    ss = [s for s in series if s]
    if len(ss) < 2:
        return False
    vals = [v for s in ss for v in s.values()]
    if log:
        if min(vals) <= 0:
            return False
        f = math.log10
    else:
        f = float  # type: ignore[assignment]
    span = f(max(vals)) - f(min(vals))
    if span <= 0:
        return True
    shared = set.intersection(*(set(s) for s in ss))
    return all((f(max(s[x] for s in ss)) - f(min(s[x] for s in ss))) / span <= rtol
               for x in shared)


def plot_lines(ax: Any, series: Mapping[str, Mapping[float, float]]) -> List[float]:
    """One line per series (equal series merged into one, labelled `a = b`); the x values."""
    xs: set = set()
    for v, s in merge_equal(series).items():
        ks = sorted(s)
        ax.plot(ks, [s[k] for k in ks], **style(v))
        xs |= set(ks)
    return sorted(xs)


def diff_lines(ax: Any, series: Mapping[str, Mapping[float, float]], what: str) -> bool:
    """Each variant minus its scheme-2 reference (same ASID and kernel map)."""
    diffs = {}
    for v, s in series.items():
        ref = series.get(reference(v))
        if ref is None or v == reference(v):
            continue
        diffs[v] = {k: s[k] - ref[k] for k in s if k in ref}
    plot_lines(ax, diffs)
    ax.axhline(0, color=COLORS["s2-asid"], linewidth=1.2, label="scheme 2 (reference)")
    ax.set_ylabel(f"{what} minus scheme 2\n(same ASID and kernel-map setting)")
    return bool(diffs)


def scheme_of(v: str) -> int:
    return int(v[1])
