"""Number and text formatting shared by the report modules (pure)."""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

from .. import crossover as xo
from .. import select as sel


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


def _yes(b: Any) -> str:
    return "yes" if b else "no"


def _opt(v: Optional[float]) -> str:
    return "–" if v is None else fmt_num(v)


short_label = xo.workload_label


def geomean(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(x) for x in values) / len(values))


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
