"""The one plot registry: every plot's file name, what it shows, the CSV rows it draws (its data
path) and the function that draws them.

A plot never draws from the raw CSV: `Plot.data` selects its rows and averages scheme 3's kaslr
seeds (`seed_mean`), and the drawing function receives only that frame, so that no plot can sum
over seeds (harness/tests/test_plots.py checks every plot's data against an independent mean).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import pandas as pd

# Columns that identify one measured figure besides its parameters; `kaslr_seed` and (outside
# the wall runs) `repetition` are what seed_mean averages over.
SEED_COLUMNS = ("kaslr_seed", "repetition")


class Skip(Exception):
    """A plot that cannot be drawn, with the reason shown by `harness report`."""


def seed_mean(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per measured figure: icount and TLB-model values averaged over scheme 3's kaslr
    seeds (n_seeds: how many), wall repetitions kept one per row (each is its own boot)."""
    if rows.empty or "value" not in rows.columns:
        return rows.assign(n_seeds=pd.Series(dtype=int))
    wall = rows[rows["mode"] == "wall"].assign(n_seeds=1)
    other = rows[rows["mode"] != "wall"]
    if other.empty:
        return wall.reset_index(drop=True)
    keys = [c for c in rows.columns if c not in ("value", *SEED_COLUMNS)]
    # one string key per figure: groupby drops or mismatches NA keys in some pandas versions
    key = other[keys].astype(str).agg("\x1f".join, axis=1)
    g = other["value"].groupby(key, sort=False)
    first = other.loc[~key.duplicated()].copy()
    first["value"] = g.mean().reindex(key.loc[first.index]).values
    first["n_seeds"] = g.count().reindex(key.loc[first.index]).values
    first["kaslr_seed"] = pd.NA
    return pd.concat([first, wall], ignore_index=True)


# select(df, src): src is the results directory (results/robustness.csv lives there), or None
Select = Callable[[pd.DataFrame, Optional[Path]], pd.DataFrame]
Draw = Callable[[pd.DataFrame, Path], Optional[Path]]


@dataclass
class Plot:
    file: str          # file name under results/plots/
    name: str          # what it shows, for the report's list of skipped plots
    select: Select     # the CSV rows it draws (raw)
    draw: Draw         # draws the seed-mean rows into out/file; None: no data
    raw: bool = False  # select returns drawn figures (not CSV rows): no seed averaging

    def data(self, df: pd.DataFrame, src: Optional[Path] = None) -> pd.DataFrame:
        """The frame the plot draws: its CSV rows with scheme 3's seeds averaged."""
        rows = self.select(df, src)
        return rows if self.raw else seed_mean(rows)


PLOTS: List[Plot] = []
# Files earlier versions drew: removed from the plots directory so that none is left stale.
RETIRED = ("tlb_model_cycles.png", "crossover_tlb64.png", "crossover_ctx16.png",
           "crossover_pipectx.png", "crossover_mix10.png", "crossover_mix1000.png",
           "crossover_kv.png")


def plot(file: str, name: str, select: Select, raw: bool = False) -> Callable[[Draw], Draw]:
    """Register a drawing function under its file name (registration order = report order)."""
    def wrap(fn: Draw) -> Draw:
        if any(p.file == file for p in PLOTS):
            raise ValueError(f"plot {file} registered twice")
        PLOTS.append(Plot(file, name, select, fn, raw))
        return fn
    return wrap


def by_file(file: str) -> Plot:
    for p in PLOTS:
        if p.file == file:
            return p
    raise KeyError(file)


def owned_files() -> List[str]:
    """The file names of every plot make_plots draws."""
    return [p.file for p in PLOTS]


def make_plots(df: pd.DataFrame, out: Path) -> Tuple[List[Path], List[str]]:
    """Draw every plot; one without data is removed from `out` (never left from an earlier
    run). Returns the files written and the plots not drawn (with the reason)."""
    written: List[Path] = []
    skipped: List[str] = []
    for old in RETIRED:
        (out / old).unlink(missing_ok=True)
    for p in PLOTS:
        try:
            data = p.data(df, out.parent)
            path = p.draw(data, out) if not data.empty else None
            reason = "no data"
        except Skip as e:
            path, reason = None, str(e)
        if path is None:
            skipped.append(f"{p.name}: {reason}")
            (out / p.file).unlink(missing_ok=True)
        else:
            written.append(path)
    return written, skipped
