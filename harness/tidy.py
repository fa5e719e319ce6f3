"""The tidy measurement table: one row per measured value.

Columns: variant, scheme, asid, kmap (the kernel window's pages: ``2M`` superpages or ``4K``),
paging (``eager-copy``: eager population and eager fork copy; ``demand-cow``: demand paging
and copy-on-write fork, the ``-dc`` variants), config (the canonical sorted ``OPT=VAL,...`` list
of every Kconfig option whose value differs from the scheme's defconfig, empty for the defconfig
itself: harness/variants.py; scheme, asid, kmap and paging come from the same resolved
configuration), bench, params (stable string such as
``procs=2,ws_kb=0`` or ``mode=lat,size=1``; empty when the line has no params), one
``param_<name>`` column per parameter name (nullable ints, or strings for a parameter whose
values are names such as ``mode`` = ``lat`` or ``case`` = ``getpid``),
mode (``icount``, ``wall`` or ``tlb``), preset (the TLB model's preset for ``tlb`` rows, empty
otherwise), kaslr_seed (the boot's kaslr_seed= for scheme-3 runs, empty otherwise; one icount
and one TLB row per seed, repetition = the seed's index), metric, value, unit (of the value: ``ns``, ``instructions``, ``count``, ``pages``,
``model cycles``, ``1/s``), repetition.

- mode ``icount`` rows come from the single ``-icount shift=0,sleep=off`` run (deterministic):
  iters, insns_per_op, the counters (satp/sfence/traps/switches per op), any extra numeric key of
  the @bench line, and pt_pages / pt_pages_kernel from an @mem line. ns_per_op of an icount run
  is virtual time and is dropped.
- mode ``wall`` rows come from the repeated runs without icount: ns_per_op only.
- mode ``tlb`` rows come from one ``-icount`` run under the TLB-model plugin per preset
  (harness/tlb.py): the region counters of each @bench line divided by its iters
  (tlb_*_per_op, model_cycles_per_op) and iters; ``preset`` names the model configuration.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

import pandas as pd

from .parse import WALL_METRIC, ConsoleOutput
from .variants import Variant, paging_of

BASE_COLUMNS = ["variant", "scheme", "asid", "kmap", "paging", "harts", "config", "bench",
                "params"]
TAIL_COLUMNS = ["mode", "preset", "kaslr_seed", "metric", "value", "unit", "repetition"]
# columns a table written by an older harness may lack; normalise derives them
DERIVED_COLUMNS = ("preset", "kmap", "paging", "harts", "config", "unit", "kaslr_seed")
_UNITS = {"ns_per_op": "ns", "insns_per_op": "instructions", "tlb_insns_per_op": "instructions",
          "extra_insns_per_interrupt": "instructions", "spin_insns": "instructions",
          "model_cycles_per_op": "model cycles", "pt_pages": "pages",
          "pt_pages_kernel": "pages", "interrupts_per_sec": "1/s"}


def metric_unit(metric: str) -> str:
    """The unit of a metric's values (everything not listed is a count per op)."""
    return _UNITS.get(metric, "count")


def kmap_of(variant: str) -> str:
    """The kernel-window mapping of a variant: 4 KiB pages (-4k) or 2 MiB superpages."""
    return "4K" if variant.endswith("-4k") else "2M"
MODES = ("icount", "wall", "tlb")
PARAM_PREFIX = "param_"


ParamValue = Union[int, str]


def params_string(params: Mapping[str, ParamValue]) -> str:
    return ",".join(f"{k}={params[k]}" for k in sorted(params))


def make_row(variant: Variant, bench: str, params: Mapping[str, ParamValue], *, mode: str,
             metric: str, value: float, repetition: int = 0, preset: str = "",
             seed: Optional[int] = None) -> Dict[str, Any]:
    """One tidy row. `preset` is required for mode ``tlb`` and must be empty otherwise."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if (mode == "tlb") != bool(preset):
        raise ValueError(f"mode {mode!r} with preset {preset!r}: a preset belongs to tlb rows "
                         f"only, and every tlb row has one")
    row: Dict[str, Any] = {"variant": variant.name, "scheme": variant.scheme,
                           "asid": variant.asid,
                           "kmap": "4K" if variant.kernel_4k else "2M",
                           "paging": variant.paging, "harts": variant.harts,
                           "config": variant.config_string,
                           "bench": bench,
                           "params": params_string(params), "mode": mode, "preset": preset,
                           "kaslr_seed": seed, "metric": metric, "value": float(value),
                           "unit": metric_unit(metric), "repetition": repetition}
    for k, v in params.items():
        row[PARAM_PREFIX + k] = v
    return row


def rows_from_output(variant: Variant, program: str, out: ConsoleOutput, *, mode: str,
                     repetition: int, seed: Optional[int] = None) -> List[Dict[str, Any]]:
    """Rows of an icount or wall run (TLB rows: harness.tlb.rows_from_report)."""
    if mode not in ("icount", "wall"):
        raise ValueError(f"mode must be icount or wall, not {mode!r}")
    rows: List[Dict[str, Any]] = []

    def add(bench: str, params: Mapping[str, ParamValue], metric: str, value: float) -> None:
        rows.append(make_row(variant, bench, params, mode=mode, metric=metric, value=value,
                             repetition=repetition, seed=seed))

    for rec in out.benches:
        for metric, value in rec.values.items():
            if (mode == "wall") == (metric == WALL_METRIC):
                add(rec.bench, rec.params, metric, value)
    if out.mem and mode == "icount":
        for metric, value in out.mem.items():
            add(program, {}, metric, value)
    return rows


def make_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(list(rows))
    if df.empty:
        df = pd.DataFrame(columns=BASE_COLUMNS + TAIL_COLUMNS)
    return normalise(df)


def normalise(df: pd.DataFrame) -> pd.DataFrame:
    """Column order and dtypes, deterministic row order."""
    df = df.copy()
    if "preset" not in df.columns:  # tables written before the TLB runs existed
        df["preset"] = ""
    if "kmap" not in df.columns and "variant" in df.columns:
        df["kmap"] = df["variant"].astype(str).map(kmap_of)
    if "paging" not in df.columns and "variant" in df.columns:  # tables before the -dc variants
        df["paging"] = df["variant"].astype(str).map(paging_of)
    if "harts" not in df.columns:  # tables before the harts dimension: every run had one hart
        df["harts"] = 1
    if "config" not in df.columns:  # tables before variants were data: only the twelve
        df["config"] = df["variant"].astype(str).map(_legacy_config) if "variant" in df else ""
    if "unit" not in df.columns and "metric" in df.columns:
        df["unit"] = df["metric"].astype(str).map(metric_unit)
    if "kaslr_seed" not in df.columns:
        df["kaslr_seed"] = pd.NA
    missing = [c for c in BASE_COLUMNS + TAIL_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"measurement table lacks column(s): {', '.join(missing)}")
    param_cols = sorted(c for c in df.columns if c.startswith(PARAM_PREFIX))
    extra = [c for c in df.columns
             if c not in BASE_COLUMNS + TAIL_COLUMNS and c not in param_cols]
    if extra:
        raise ValueError(f"unexpected column(s) in measurement table: {', '.join(extra)}")
    df = df[BASE_COLUMNS + param_cols + TAIL_COLUMNS]
    df["variant"] = df["variant"].astype(str)
    df["scheme"] = df["scheme"].astype("int64")
    df["asid"] = df["asid"].map(_to_bool).astype(bool)
    df["kmap"] = df["kmap"].astype(str)
    df["paging"] = df["paging"].astype(str)
    df["harts"] = pd.to_numeric(df["harts"].fillna(1), errors="raise").astype("int64")
    df["config"] = df["config"].fillna("").astype(str)
    df["kaslr_seed"] = pd.to_numeric(
        df["kaslr_seed"].astype(object).map(lambda x: None if x is None or x is pd.NA or x == ""
                                            or (isinstance(x, float) and x != x) else x),
        errors="raise").astype("Int64")
    df["unit"] = df["unit"].fillna("").astype(str)
    df["bench"] = df["bench"].astype(str)
    df["params"] = df["params"].fillna("").astype(str)
    for c in param_cols:
        df[c] = _param_column(df[c])
    df["mode"] = df["mode"].astype(str)
    df["preset"] = df["preset"].fillna("").astype(str)
    bad = df[(df["mode"] == "tlb") != (df["preset"] != "")]
    if not bad.empty:
        r = bad.iloc[0]
        raise ValueError(f"measurement table: mode {r['mode']!r} with preset {r['preset']!r} "
                         f"({r['variant']} {r['bench']} {r['metric']}): only tlb rows have a "
                         f"preset, and all of them")
    df["metric"] = df["metric"].astype(str)
    df["value"] = df["value"].astype("float64")
    df["repetition"] = df["repetition"].astype("int64")
    df = df.sort_values(["variant", "bench", "params", "mode", "preset", "metric", "repetition"],
                        kind="mergesort").reset_index(drop=True)
    return df


_LEGACY = {"noasid": "ASID=n", "4k": "KERNEL_MAP_4K=y", "dc": "FORK_COW=y,MEMORY_DEMAND=y"}


def _legacy_config(variant: str) -> str:
    """The config column of one of the twelve variants of a table that predates it."""
    return _LEGACY.get(variant.rsplit("-", 1)[-1], "")


def _missing(x: Any) -> bool:
    return x is None or x is pd.NA or (isinstance(x, str) and x == "") or (
        isinstance(x, float) and x != x)


def _param_column(col: pd.Series) -> pd.Series:
    """A param_<name> column: nullable ints, or (when any value is a name) strings with NA."""
    if pd.api.types.is_numeric_dtype(col.dtype):
        return pd.to_numeric(col).astype("Int64")
    vals = col.astype(object).map(lambda x: None if _missing(x) else x)
    try:
        return pd.to_numeric(vals, errors="raise").astype("Int64")
    except (ValueError, TypeError):
        return vals.map(lambda x: pd.NA if x is None else str(x)).astype("string")


def _to_bool(v: Any) -> bool:
    if isinstance(v, str):
        if v.strip().lower() in ("true", "1", "yes"):
            return True
        if v.strip().lower() in ("false", "0", "no"):
            return False
        raise ValueError(f"not a boolean: {v!r}")
    return bool(v)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    normalise(df).to_csv(path, index=False, float_format="%.10g")


def read_csv(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, low_memory=False, dtype={"params": str, "preset": str, "kmap": str, "paging": str,
                                  "unit": str, "config": str},
                     keep_default_na=False,
                     na_values={c: [""] for c in ("value", "kaslr_seed")}, comment="#")
    for c in df.columns:
        if c.startswith(PARAM_PREFIX):
            df[c] = df[c].replace("", pd.NA)
    return normalise(df)


def wall_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Median and spread of the wall-time repetitions, per variant/bench/params."""
    wall = df[(df["mode"] == "wall") & (df["metric"] == WALL_METRIC)]
    cols = ["variant", "scheme", "asid", "bench", "params"]
    if wall.empty:
        return pd.DataFrame(columns=cols + ["median", "min", "max", "q1", "q3", "n"])
    g = wall.groupby(cols, sort=True)["value"]
    out = pd.DataFrame({
        "median": g.median(), "min": g.min(), "max": g.max(),
        "q1": g.quantile(0.25), "q3": g.quantile(0.75), "n": g.count()}).reset_index()
    return out


def icount_table(df: pd.DataFrame) -> pd.DataFrame:
    """icount metrics as a wide table: one row per variant/bench/params, one column per metric."""
    ic = df[df["mode"] == "icount"]
    cols = ["variant", "scheme", "asid", "bench", "params"]
    if ic.empty:
        return pd.DataFrame(columns=cols)
    return ic.pivot_table(index=cols, columns="metric", values="value",
                          aggfunc="mean").reset_index()  # scheme 3: the mean over the seeds


def tlb_table(df: pd.DataFrame) -> pd.DataFrame:
    """TLB-model metrics as a wide table: one row per variant/preset/bench/params."""
    t = df[df["mode"] == "tlb"]
    cols = ["variant", "scheme", "asid", "preset", "bench", "params"]
    if t.empty:
        return pd.DataFrame(columns=cols)
    return t.pivot_table(index=cols, columns="metric", values="value",
                         aggfunc="mean").reset_index()  # scheme 3: the mean over the seeds


def _param(v: str) -> ParamValue:
    try:
        return int(v)
    except ValueError:
        return v  # a name such as mode=lat


def param_value(params: str, name: str) -> Optional[ParamValue]:
    for part in params.split(","):
        if "=" in part:
            k, v = part.split("=", 1)
            if k == name:
                return _param(v)
    return None


def parse_params(params: str) -> Dict[str, ParamValue]:
    out: Dict[str, ParamValue] = {}
    for part in params.split(","):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k] = _param(v)
    return out
