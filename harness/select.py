"""Looking values up in the tidy measurement table (shared by the table and the plots)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pandas as pd

from .tidy import PARAM_PREFIX, parse_params

# Parameter names the harness looks for, in order of preference (bench programs are written
# separately; see docs/harness.md for the interface).
CTX_WS_KEYS = ("ws_kb", "ws", "working_set_kb", "working_set", "kb", "size_kb")
CTX_PROCS_KEYS = ("procs", "nprocs", "nproc", "processes")
COPY_SIZE_KEYS = ("size", "bytes", "len", "size_bytes")
TLB_PAGES_KEYS = ("pages", "npages", "pages_touched", "touched")


@dataclass
class WallStats:
    median: float
    min: float
    max: float
    q1: float
    q3: float
    n: int


def rows(df: pd.DataFrame, *, variant: Optional[str] = None, bench: Optional[str] = None,
         mode: Optional[str] = None, metric: Optional[str] = None,
         params: Optional[str] = None, preset: Optional[str] = None) -> pd.DataFrame:
    m = pd.Series(True, index=df.index)
    if preset is not None:
        m &= df["preset"] == preset
    if variant is not None:
        m &= df["variant"] == variant
    if bench is not None:
        m &= df["bench"] == bench
    if mode is not None:
        m &= df["mode"] == mode
    if metric is not None:
        m &= df["metric"] == metric
    if params is not None:
        m &= df["params"] == params
    return df[m]


def param_sets(df: pd.DataFrame, variant: str, bench: str, mode: Optional[str] = None,
               preset: Optional[str] = None) -> List[str]:
    return sorted(rows(df, variant=variant, bench=bench, mode=mode,
                       preset=preset)["params"].unique().tolist())


def icount_value(df: pd.DataFrame, variant: str, bench: str, metric: str,
                 params: Optional[str] = None) -> Optional[float]:
    """The icount value; with params None the bench must have a single parameter set (or the
    one without parameters is taken)."""
    if params is None:
        sets = param_sets(df, variant, bench, mode="icount")
        if not sets:
            return None
        params = "" if "" in sets else sets[0]
    r = rows(df, variant=variant, bench=bench, mode="icount", metric=metric, params=params)
    if r.empty:
        return None
    return float(r["value"].mean())  # one row, or (scheme 3) one per kaslr seed: the mean


def presets(df: pd.DataFrame) -> List[str]:
    """The TLB-model presets present in the table (order of first appearance is lost in the
    sorted table, so: alphabetical, except that u54 comes first when present)."""
    ps = sorted(p for p in df.loc[df["mode"] == "tlb", "preset"].unique() if p)
    return sorted(ps, key=lambda p: (p != "u54", p))


_TLB_MEANS: Dict[int, Tuple[Any, Dict[Tuple[str, str, str, str, str], float]]] = {}


def _tlb_means(df: pd.DataFrame) -> Dict[Tuple[str, str, str, str, str], float]:
    """Every TLB-model mean of df by (variant, bench, metric, preset, params), computed once
    per frame (the crossover maps look up thousands of them in a frame of 10^5 rows)."""
    import weakref
    hit = _TLB_MEANS.get(id(df))
    if hit is not None and hit[0]() is df:
        return hit[1]
    t = df[df["mode"] == "tlb"]
    keys = ["variant", "bench", "metric", "preset", "params"]
    means = ({tuple(str(x) for x in k): float(v)
              for k, v in t.groupby(keys, sort=False)["value"].mean().items()}
             if not t.empty else {})
    _TLB_MEANS.clear()  # one frame at a time: the report's
    _TLB_MEANS[id(df)] = (weakref.ref(df), means)
    return means


def tlb_value(df: pd.DataFrame, variant: str, bench: str, metric: str, preset: str,
              params: Optional[str] = None) -> Optional[float]:
    """A TLB-model metric (mode tlb) of one preset; params as in icount_value."""
    if params is None:
        sets = param_sets(df, variant, bench, mode="tlb", preset=preset)
        if not sets:
            return None
        params = "" if "" in sets else sets[0]
    # one row, or (scheme 3) one per kaslr seed: the mean
    return _tlb_means(df).get((variant, bench, metric, preset, params))


@dataclass
class SeedDist:
    """A figure over the kaslr seeds of scheme-3 runs (n = 1 for the other schemes)."""
    mean: float
    min: float
    max: float
    n: int

    @property
    def varies(self) -> bool:
        return self.n > 1 and self.min != self.max


def seed_dist(df: pd.DataFrame, variant: str, bench: str, metric: str,
              params: Optional[str] = None, mode: str = "icount",
              preset: Optional[str] = None) -> Optional[SeedDist]:
    """Mean, min, max and n of an icount (or tlb) metric over the runs' kaslr seeds."""
    if params is None:
        sets = param_sets(df, variant, bench, mode=mode, preset=preset)
        if not sets:
            return None
        params = "" if "" in sets else sets[0]
    r = rows(df, variant=variant, bench=bench, mode=mode, metric=metric, params=params,
             preset=preset)
    if r.empty:
        return None
    v = r["value"]
    return SeedDist(mean=float(v.mean()), min=float(v.min()), max=float(v.max()),
                    n=int(v.count()))


def wall_values(df: pd.DataFrame, variant: str, bench: str,
                params: Optional[str] = None) -> pd.Series:
    """ns_per_op of each wall repetition, indexed by repetition."""
    if params is None:
        sets = param_sets(df, variant, bench, mode="wall")
        if not sets:
            return pd.Series(dtype=float)
        params = "" if "" in sets else sets[0]
    r = rows(df, variant=variant, bench=bench, mode="wall", metric="ns_per_op", params=params)
    return r.set_index("repetition")["value"].sort_index()


def stats(values: pd.Series) -> Optional[WallStats]:
    if values.empty:
        return None
    return WallStats(median=float(values.median()), min=float(values.min()),
                     max=float(values.max()), q1=float(values.quantile(0.25)),
                     q3=float(values.quantile(0.75)), n=int(values.count()))


def first_key(keys: Sequence[str], names: Sequence[str]) -> Optional[str]:
    for k in keys:
        if k in names:
            return k
    return None


def x_param(df: pd.DataFrame, bench: str, preferred: Sequence[str],
            exclude: Sequence[str] = ()) -> Optional[str]:
    """The parameter to plot a bench against: a preferred name if present, else the one
    parameter whose value varies."""
    b = df[df["bench"] == bench]
    names: List[str] = []
    for c in b.columns:
        if c.startswith(PARAM_PREFIX) and b[c].notna().any():
            names.append(c[len(PARAM_PREFIX):])
    k = first_key(preferred, names)
    if k:
        return k
    varying = [n for n in names if n not in exclude
               and b[PARAM_PREFIX + n].dropna().nunique() > 1]
    return varying[0] if len(varying) == 1 else (names[0] if len(names) == 1 else None)


@dataclass
class CtxChoice:
    switching: str            # params string of the measurement with >= 2 processes, ws 0
    baseline: Optional[str]   # params string of the 1-process measurement at the same ws
    ws_key: Optional[str]
    procs_key: Optional[str]


def ctx_choice(df: pd.DataFrame, variant: str, ws: int = 0, mode: Optional[str] = None,
               preset: Optional[str] = None) -> Optional[CtxChoice]:
    sets = param_sets(df, variant, "bench_ctx", mode=mode, preset=preset)
    if not sets:
        return None
    parsed: List[Tuple[str, Dict[str, int]]] = [(s, parse_params(s)) for s in sets]
    names = sorted({k for _, p in parsed for k in p})
    ws_key = first_key(CTX_WS_KEYS, names)
    procs_key = first_key(CTX_PROCS_KEYS, names)
    at_ws = [(s, p) for s, p in parsed if ws_key is None or p.get(ws_key) == ws]
    if not at_ws:
        return None
    if procs_key is None:
        return CtxChoice(at_ws[0][0], None, ws_key, None)
    multi = sorted(((p.get(procs_key, 0), s) for s, p in at_ws if p.get(procs_key, 0) >= 2))
    if not multi:
        return None
    base = [s for s, p in at_ws if p.get(procs_key) == 1]
    return CtxChoice(multi[0][1], base[0] if base else None, ws_key, procs_key)


def ctx_switch_insns(df: pd.DataFrame, variant: str, metric: str = "insns_per_op",
                     ws: int = 0, subtract: bool = True) -> Optional[Tuple[float, bool]]:
    """Per-switch icount metric at working set `ws`, minus the 1-process measurement when
    present. Returns (value, subtracted)."""
    c = ctx_choice(df, variant, ws, mode="icount")
    if c is None:
        return None
    v = icount_value(df, variant, "bench_ctx", metric, c.switching)
    if v is None:
        return None
    if subtract and c.baseline is not None:
        b = icount_value(df, variant, "bench_ctx", metric, c.baseline)
        if b is not None:
            return v - b, True
    return v, False


def ctx_switch_tlb(df: pd.DataFrame, variant: str, metric: str, preset: str, ws: int = 0,
                   subtract: bool = True) -> Optional[Tuple[float, bool]]:
    """Per-switch TLB-model metric at working set `ws` (the ≥2-process line), minus the
    1-process line of the same run when present (the CSV keeps both raw). Returns (value,
    subtracted)."""
    c = ctx_choice(df, variant, ws, mode="tlb", preset=preset)
    if c is None:
        return None
    v = tlb_value(df, variant, "bench_ctx", metric, preset, c.switching)
    if v is None:
        return None
    if subtract and c.baseline is not None:
        b = tlb_value(df, variant, "bench_ctx", metric, preset, c.baseline)
        if b is not None:
            return v - b, True
    return v, False


def ctx_switch_wall(df: pd.DataFrame, variant: str, ws: int = 0,
                    subtract: bool = True) -> Optional[Tuple[WallStats, bool]]:
    """Per-switch ns at working set `ws`; the 1-process value of the same boot (same
    repetition) is subtracted per repetition when present."""
    c = ctx_choice(df, variant, ws, mode="wall")
    if c is None:
        return None
    sw = wall_values(df, variant, "bench_ctx", c.switching)
    if sw.empty:
        return None
    if subtract and c.baseline is not None:
        base = wall_values(df, variant, "bench_ctx", c.baseline)
        common = sw.index.intersection(base.index)
        if len(common):
            s = stats(sw.loc[common] - base.loc[common])
            assert s is not None
            return s, True
    s = stats(sw)
    assert s is not None
    return s, False
