"""comparison.md's "Multi-hart" section (issue 17): the shootdown cost per scheme (instructions on
the requesting hart and modelled cycles, for 1 and 3 remote harts), the remote fences it sends,
getpid per hart at 1 and 4 busy harts, and where each ordering of the schemes holds. The design
document rates no multi-hart dimension, so the doc column is "not stated" throughout.

Pure: a tidy DataFrame in, markdown lines out (no file system, no QEMU)."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import pandas as pd

from .format import fmt_num

SCHEMES = (1, 2, 3)
SHOOTDOWN_PAGES = (1, 16, 256)
REMOTES = (1, 3)
GETPID_HARTS = (1, 4)
BASE_CONFIGS = ("", "ASID=n")  # the CSV's config column of the six base variants


def _param(df: pd.DataFrame, key: str) -> pd.Series:
    col = f"param_{key}"
    if col not in df.columns:
        return pd.Series([pd.NA] * len(df), index=df.index, dtype=object)
    return pd.to_numeric(df[col], errors="coerce")


def _harts(df: pd.DataFrame) -> pd.Series:
    return df["harts"] if "harts" in df.columns else pd.Series(1, index=df.index)


def figure(df: pd.DataFrame, bench: str, metric: str, scheme: int, asid: bool,
           mode: str = "icount", preset: str = "", **params: int) -> Optional[float]:
    """The mean (over scheme 3's kaslr seeds) of one figure, from the variant with the most
    harts that measured it; None when absent."""
    r = df[(df["bench"] == bench) & (df["metric"] == metric) & (df["mode"] == mode)
           & (df["scheme"] == scheme) & (df["asid"] == asid)]
    if mode == "tlb" and preset:
        r = r[r["preset"] == preset]
    # the scheme's defconfig with ASIDs on or off only (no -4k / -dc / other options)
    r = r[r["config"].fillna("").isin(BASE_CONFIGS)] if "config" in r.columns else r
    for k, v in params.items():
        r = r[_param(r, k) == v]
    if r.empty:
        return None
    h = _harts(r)
    r = r[h == h.max()]
    return float(r["value"].mean())


def _cell(v: Optional[float]) -> str:
    return "not measured" if v is None else fmt_num(v)


def _ordering(vals: Dict[int, Optional[float]]) -> Optional[str]:
    """'2 < 3 < 1' (cheapest first; '=' within 1%), or None when a scheme lacks the figure."""
    if any(v is None for v in vals.values()):
        return None
    order = sorted(vals, key=lambda s: vals[s])  # type: ignore[arg-type,return-value]
    out = f"{order[0]}"
    for a, b in zip(order, order[1:]):
        va, vb = vals[a], vals[b]
        same = va is not None and vb is not None and abs(vb - va) <= 0.01 * max(abs(va), 1.0)
        out += f" {'=' if same else '<'} {b}"
    return out


def shootdown_table(df: pd.DataFrame, preset: str, asid: bool) -> Tuple[List[str], Dict[str, List[str]]]:
    """The table's lines, and {ordering: [points]} for the region statement."""
    lines = ["| Pages | Remote harts | " + " | ".join(
        f"Scheme {s}: insns / fences / model cycles" for s in SCHEMES) + " | Cheapest first |",
        "|" + "|".join([" --- "] * (3 + len(SCHEMES))) + "|"]
    regions: Dict[str, List[str]] = {}
    for pages in SHOOTDOWN_PAGES:
        for remote in REMOTES:
            cells, insns = [], {}
            for s in SCHEMES:
                i = figure(df, "bench_shootdown", "insns_per_op", s, asid, pages=pages, remote=remote)
                f = figure(df, "bench_shootdown", "remote_fences", s, asid, pages=pages, remote=remote)
                c = figure(df, "bench_shootdown", "tlb_model_cycles_per_op", s, asid, mode="tlb",
                           preset=preset, pages=pages, remote=remote)
                insns[s] = i
                cells.append(f"{_cell(i)} / {_cell(f)} / {_cell(c)}")
            order = _ordering(insns)
            if order:
                regions.setdefault(order, []).append(f"{pages} page{'s' if pages > 1 else ''}, "
                                                     f"{remote} remote")
            lines.append(f"| {pages} | {remote} | " + " | ".join(cells) + f" | {order or '—'} |")
    return lines, regions


def getpid_lines(df: pd.DataFrame, asid: bool) -> List[str]:
    lines = ["| Busy harts | " + " | ".join(f"Scheme {s}: mean / max per hart" for s in SCHEMES)
             + " |", "|" + "|".join([" --- "] * (1 + len(SCHEMES))) + "|"]
    for h in GETPID_HARTS:
        cells = []
        for s in SCHEMES:
            mean = figure(df, "bench_getpid_harts", "insns_per_op", s, asid, harts=h)
            mx = figure(df, "bench_getpid_harts", "insns_per_op_max", s, asid, harts=h)
            cells.append(f"{_cell(mean)} / {_cell(mx)}")
        lines.append(f"| {h} | " + " | ".join(cells) + " |")
    return lines


def render_multihart(df: pd.DataFrame, preset: Optional[str]) -> List[str]:
    """The section's lines; empty when no multi-hart benchmark was measured."""
    multi = df[df["bench"].isin(["bench_shootdown", "bench_getpid_harts"])]
    if multi.empty:
        return []
    p = preset or ""
    out = ["## Multi-hart", "",
           "The design document rates no multi-hart dimension: its rating is *not stated* for "
           "every figure here, and nothing below is ranked against it. Figures come from the "
           "-smp runs (the `harts` column; the variant with the most harts that measured a "
           "point), the instruction counts under `-icount` (deterministic), the modelled cycles "
           f"from the TLB model{f' ({p})' if p else ''} over the `munmap` alone.", "",
           "**Shootdown** (`bench_shootdown`): one `munmap` of touched pages while threads of the "
           "process spin on other harts. *insns*: instructions retired on the requesting hart "
           "(the remote harts' fence handlers are not in it); *fences*: remote fence requests "
           "sent per `munmap` (`stats().remote_fences_sent`).", ""]
    for asid in (True, False):
        lines, regions = shootdown_table(df, p, asid)
        out.append(f"ASIDs {'on' if asid else 'off'}:")
        out.append("")
        out += lines
        out.append("")
        if regions:
            out.append("Where each ordering of the schemes (by instructions) holds: " + "; ".join(
                f"{o} at {', '.join(pts)}" for o, pts in regions.items()) + ".")
            out.append("")
    out += ["**getpid per hart** (`bench_getpid_harts`): instructions per call on each busy hart, "
            "one pinned thread per hart, all calling at once (mean and maximum over the harts).",
            ""]
    for asid in (True, False):
        out.append(f"ASIDs {'on' if asid else 'off'}:")
        out.append("")
        out += getpid_lines(df, asid)
        out.append("")
    return out
