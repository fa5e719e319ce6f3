"""A benchmark line's parameters, read from the tidy table's `param_<name>` columns (never
re-parsed from the `params` string, which is only the line's key)."""
from __future__ import annotations

import weakref
from typing import Any, Dict, Optional, Tuple

import pandas as pd

from ..tidy import PARAM_PREFIX

_CACHE: Dict[int, Tuple[Any, Dict[Tuple[str, str], Dict[str, Any]]]] = {}


def _table(df: pd.DataFrame) -> Dict[Tuple[str, str], Dict[str, Any]]:
    """(bench, params) -> {name: value} from the first row of each line, once per frame."""
    hit = _CACHE.get(id(df))
    if hit is not None and hit[0]() is df:
        return hit[1]
    cols = [c for c in df.columns if c.startswith(PARAM_PREFIX)]
    firsts = df.drop_duplicates(["bench", "params"])[["bench", "params"] + cols]
    out: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for row in firsts.itertuples(index=False):
        d = row._asdict()
        vals = {c[len(PARAM_PREFIX):]: d[c] for c in cols if not pd.isna(d[c])}
        out[(str(d["bench"]), "" if pd.isna(d["params"]) else str(d["params"]))] = {
            k: (int(v) if isinstance(v, (int, float)) or hasattr(v, "__index__") else v)
            for k, v in vals.items()}
    _CACHE.clear()
    _CACHE[id(df)] = (weakref.ref(df), out)
    return out


def params_of(df: pd.DataFrame, bench: str, params: str) -> Dict[str, Any]:
    """The parameters of one benchmark line ({} when the line is not in the table)."""
    return dict(_table(df).get((bench, params), {}))


def param(df: pd.DataFrame, bench: str, params: str, name: str) -> Optional[Any]:
    return _table(df).get((bench, params), {}).get(name)
