"""comparison.md's "Multi-hart" section (issue 17): the shootdown cost per scheme and mechanism
(SBI RFENCE or SBI IPI + a local fence: Kconfig SHOOTDOWN_RFENCE / SHOOTDOWN_IPI) — instructions
on the requesting hart, remote fences, IPIs and modelled cycles, for 1 and 3 remote harts — and
where each ordering of the schemes holds per mechanism; getpid per hart at 1 and 4 busy harts;
and, when measured, the cross-hart pipe round trip, the fork/exec storm and the key-value server
on several harts. The design document rates no multi-hart dimension, so the doc column is "not
stated" throughout.

Pure: a tidy DataFrame in, markdown lines out (no file system, no QEMU)."""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Tuple, Union

import pandas as pd

from .format import fmt_num

SCHEMES = (1, 2, 3)
SHOOTDOWN_PAGES = (1, 16, 256)
REMOTES = (1, 3)
GETPID_HARTS = (1, 4)
# The shootdown mechanism (the Kconfig choice): RFENCE is the default, IPI the variants with
# SHOOTDOWN_IPI=y in their CSV `config` column.
MECHANISMS = ("rfence", "ipi")
MECHANISM_LABEL = {"rfence": "RFENCE", "ipi": "IPI"}
IPI_SETTING = "SHOOTDOWN_IPI=y"
# The options a base variant may differ in from its defconfig: ASIDs and the mechanism (no -4k /
# -dc / other options).
BASE_OPTIONS = ("ASID=n", IPI_SETTING)
WALL_NOTE = "QEMU wall time, not hardware"

ParamValue = Union[int, str]


def mechanism_of(config: object) -> str:
    """'ipi' or 'rfence' from a CSV `config` string."""
    opts = str(config).split(",") if isinstance(config, str) else []
    return "ipi" if IPI_SETTING in opts else "rfence"


def _is_base(config: object) -> bool:
    opts = [o for o in (config.split(",") if isinstance(config, str) else []) if o]
    return all(o in BASE_OPTIONS for o in opts)


def base_rows(df: pd.DataFrame, mechanism: Optional[str] = None) -> pd.DataFrame:
    """Rows of the scheme defconfigs with ASIDs on or off, of one mechanism (all when None)."""
    if "config" not in df.columns:
        return df if mechanism in (None, "rfence") else df.iloc[0:0]
    cfg = df["config"].fillna("")
    keep = cfg.map(_is_base)
    if mechanism is not None:
        keep &= cfg.map(mechanism_of) == mechanism
    return df[keep]


def _param_match(df: pd.DataFrame, key: str, value: ParamValue) -> pd.Series:
    col = f"param_{key}"
    if col not in df.columns:
        return pd.Series(False, index=df.index)
    if isinstance(value, str):
        return df[col].astype("string").fillna("") == value
    return pd.to_numeric(df[col], errors="coerce") == value


def _harts(df: pd.DataFrame) -> pd.Series:
    return df["harts"] if "harts" in df.columns else pd.Series(1, index=df.index)


def _rows(df: pd.DataFrame, bench: str, metric: str, scheme: int, asid: bool, mode: str,
          preset: str, mechanism: str, params: Dict[str, ParamValue]) -> pd.DataFrame:
    r = df[(df["bench"] == bench) & (df["metric"] == metric) & (df["mode"] == mode)
           & (df["scheme"] == scheme) & (df["asid"] == asid)]
    if mode == "tlb" and preset:
        r = r[r["preset"] == preset]
    r = base_rows(r, mechanism)
    for k, v in params.items():
        r = r[_param_match(r, k, v)]
    if r.empty:
        return r
    h = _harts(r)
    return r[h == h.max()]


def figure(df: pd.DataFrame, bench: str, metric: str, scheme: int, asid: bool,
           mode: str = "icount", preset: str = "", mechanism: str = "rfence",
           **params: ParamValue) -> Optional[float]:
    """The mean (over scheme 3's kaslr seeds) of one figure, from the variant with the most
    harts that measured it; None when absent."""
    r = _rows(df, bench, metric, scheme, asid, mode, preset, mechanism, params)
    return None if r.empty else float(r["value"].mean())


def harts_of(df: pd.DataFrame, bench: str, scheme: int, asid: bool, mechanism: str = "rfence",
             **params: ParamValue) -> Optional[int]:
    """The hart count of the run `figure` takes an icount instructions figure from."""
    r = _rows(df, bench, "insns_per_op", scheme, asid, "icount", "", mechanism, params)
    return None if r.empty else int(_harts(r).max())


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


def _measured(df: pd.DataFrame, bench: str, asid: bool, mechanism: str) -> bool:
    r = df[(df["bench"] == bench) & (df["asid"] == asid)]
    return not base_rows(r, mechanism).empty


def shootdown_mechanisms(df: pd.DataFrame, asid: bool) -> List[str]:
    """With ASIDs on both mechanisms always (a missing one says "not measured"); with ASIDs off
    RFENCE, and IPI only when it was measured."""
    if asid:
        return list(MECHANISMS)
    return [m for m in MECHANISMS if m == "rfence" or _measured(df, "bench_shootdown", asid, m)]


def shootdown_table(df: pd.DataFrame, preset: str, asid: bool
                    ) -> Tuple[List[str], Dict[str, Dict[str, List[str]]]]:
    """The table's lines, and {mechanism: {ordering: [points]}} for the region statement."""
    mechs = shootdown_mechanisms(df, asid)
    lines = ["| Pages | Remote harts | Mechanism | " + " | ".join(
        f"Scheme {s}: insns / fences / IPIs / model cycles" for s in SCHEMES)
        + " | Cheapest first |", "|" + "|".join([" --- "] * (4 + len(SCHEMES))) + "|"]
    regions: Dict[str, Dict[str, List[str]]] = {}
    for pages in SHOOTDOWN_PAGES:
        for remote in REMOTES:
            for mech in mechs:
                cells, insns = [], {}
                for s in SCHEMES:
                    def fig(metric: str, mode: str = "icount") -> Optional[float]:
                        return figure(df, "bench_shootdown", metric, s, asid, mode=mode,
                                      preset=preset, mechanism=mech, pages=pages, remote=remote)
                    i = fig("insns_per_op")
                    insns[s] = i
                    cells.append(f"{_cell(i)} / {_cell(fig('remote_fences'))} / "
                                 f"{_cell(fig('ipis'))} / "
                                 f"{_cell(fig('tlb_model_cycles_per_op', 'tlb'))}")
                order = _ordering(insns)
                if order:
                    regions.setdefault(mech, {}).setdefault(order, []).append(
                        f"{pages} page{'s' if pages > 1 else ''}, {remote} remote")
                lines.append(f"| {pages} | {remote} | {MECHANISM_LABEL[mech]} | "
                             + " | ".join(cells) + f" | {order or '—'} |")
    return lines, regions


def mechanism_statement(regions: Dict[str, Dict[str, List[str]]]) -> Optional[str]:
    parts = [f"{MECHANISM_LABEL[m]}: " + "; ".join(f"{o} at {', '.join(pts)}"
                                                   for o, pts in regions[m].items())
             for m in MECHANISMS if regions.get(m)]
    if not parts:
        return None
    return ("Where each ordering of the schemes (by instructions on the requesting hart) holds, "
            "per mechanism — " + ". ".join(parts) + ".")


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
    walls = []
    for h in GETPID_HARTS:
        vals = [figure(df, "bench_getpid_harts", "ns_per_op", s, asid, mode="wall", harts=h)
                for s in SCHEMES]
        if any(v is not None for v in vals):
            walls.append(f"{h} busy: " + ", ".join(f"scheme {s} {_cell(v)}" for s, v in zip(SCHEMES, vals)))
    if walls:
        lines += ["", f"{WALL_NOTE} (ns per call on the slowest hart, mean of the runs without "
                  "`-icount`; QEMU's threads share the host's cores): " + "; ".join(walls) + "."]
    return lines


def _configs(df: pd.DataFrame, bench: str) -> List[Tuple[bool, str]]:
    """(asid, mechanism) pairs with rows of `bench`, ASIDs on first, RFENCE first."""
    return [(a, m) for a in (True, False) for m in MECHANISMS if _measured(df, bench, a, m)]


def _config_label(asid: bool, mech: str) -> str:
    return f"{'on' if asid else 'off'} | {MECHANISM_LABEL[mech]}"


def _wall_cells(df: pd.DataFrame, bench: str, asid: bool, mech: str,
                **params: ParamValue) -> Optional[List[str]]:
    """ns per op per scheme from wall rows, or None when the benchmark has none."""
    vals = [figure(df, bench, "ns_per_op", s, asid, mode="wall", mechanism=mech, **params)
            for s in SCHEMES]
    return None if all(v is None for v in vals) else [_cell(v) for v in vals]


def _harts_cell(df: pd.DataFrame, bench: str, asid: bool, mech: str,
                **params: ParamValue) -> str:
    hs = {harts_of(df, bench, s, asid, mech, **params) for s in SCHEMES} - {None}
    return "/".join(str(h) for h in sorted(hs)) if hs else "—"  # type: ignore[type-var]


def _config_table(df: pd.DataFrame, bench: str, intro: str, column: str,
                  cell: Callable[[int, bool, str], str], wall_what: str,
                  **wall_params: ParamValue) -> List[str]:
    """One row per ASID setting and mechanism that measured `bench`: the harts, then
    cell(scheme, asid, mechanism) per scheme; then the QEMU wall-time line, if any."""
    cfgs = _configs(df, bench)
    if not cfgs:
        return []
    out = [intro, "",
           "| ASIDs | Mechanism | Harts | " + " | ".join(
               f"Scheme {s}{column}" for s in SCHEMES) + " |",
           "|" + "|".join([" --- "] * (3 + len(SCHEMES))) + "|"]
    walls = []
    for asid, mech in cfgs:
        out.append(f"| {_config_label(asid, mech)} | {_harts_cell(df, bench, asid, mech)} | "
                   + " | ".join(cell(s, asid, mech) for s in SCHEMES) + " |")
        w = _wall_cells(df, bench, asid, mech, **wall_params)
        if w:
            walls.append((asid, mech, w))
    out.append("")
    out += _wall_lines(walls, wall_what)
    return out


def _wall_lines(walls: List[Tuple[bool, str, List[str]]], what: str) -> List[str]:
    if not walls:
        return []
    return [f"{WALL_NOTE} ({what}): " + "; ".join(
        f"ASIDs {'on' if a else 'off'}, {MECHANISM_LABEL[m]}: "
        + ", ".join(f"scheme {s} {c}" for s, c in zip(SCHEMES, w)) for a, m, w in walls) + ".",
        ""]


def pingpong_lines(df: pd.DataFrame) -> List[str]:
    bench = "bench_pingpong_harts"

    def cell(s: int, asid: bool, mech: str) -> str:
        def fig(metric: str, placement: str) -> Optional[float]:
            return figure(df, bench, metric, s, asid, mechanism=mech, placement=placement)
        return (f"{_cell(fig('insns_per_op', 'cross'))} / {_cell(fig('insns_per_op', 'same'))}"
                f" / {_cell(fig('ipis', 'cross'))}")

    return _config_table(
        df, bench,
        f"**Pipe round trip across harts** (`{bench}`): instructions per 1-byte round trip "
        "between two threads, measured under `-icount` (deterministic), with the threads on "
        "two harts (*cross*) or pinned to one (*same*); *IPIs*: IPIs sent per round trip "
        "across harts.",
        ": cross / same / IPIs cross", cell, "ns per round trip across harts", placement="cross")


def storm_lines(df: pd.DataFrame) -> List[str]:
    bench = "bench_storm"

    def cell(s: int, asid: bool, mech: str) -> str:
        return " / ".join(_cell(figure(df, bench, m, s, asid, mechanism=mech))
                          for m in ("insns_per_op", "remote_fences", "ipis"))

    return _config_table(
        df, bench,
        f"**Fork/exec storm** (`{bench}`): instructions per fork + exec + exit + waitpid on "
        "each hart, every hart at once, measured under `-icount`, with the remote fences and "
        "IPIs sent per operation (from the run with the most harts).",
        ": insns / fences / IPIs", cell, "ns per operation")


def kv_lines(df: pd.DataFrame) -> List[str]:
    bench = "bench_kv_harts"

    def cell(s: int, asid: bool, mech: str) -> str:
        return _cell(figure(df, bench, "insns_per_op", s, asid, mechanism=mech))

    return _config_table(
        df, bench,
        f"**Key-value server on several harts** (`{bench}`): instructions per request and "
        "reply, one client per hart, measured under `-icount` (from the run with the most "
        "harts).",
        "", cell, "ns per request")


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
           "process spin on other harts, per shootdown mechanism: *RFENCE* (SBI "
           "`remote_sfence_vma_asid`, the default) or *IPI* (SBI IPI and a local fence in the "
           "remote harts' interrupt handler; the variants with `SHOOTDOWN_IPI=y`). *insns*: "
           "the `rdinstret` delta on the requesting hart from the call to its return. Under "
           "`-icount` that is the machine's count: QEMU runs the harts in turn on one host "
           "thread, the call waits until each remote hart has had its turn and handled the "
           "request, and every instruction of those turns is in the figure. *model cycles* "
           "count the requesting hart's own instructions only, but they include its spinning "
           "while it waits. Both therefore reflect QEMU's turn length more than the scheme: "
           "read them as upper bounds, and compare schemes by *fences* and *IPIs*, which are "
           "exact counts; *fences*: remote fence requests sent per `munmap` "
           "(`stats().remote_fences_sent`); *IPIs*: IPIs sent per `munmap`.", ""]
    for asid in (True, False):
        lines, regions = shootdown_table(df, p, asid)
        out.append(f"ASIDs {'on' if asid else 'off'}:")
        out.append("")
        out += lines
        out.append("")
        statement = mechanism_statement(regions)
        if statement:
            out += [statement, ""]
    out += ["**getpid per hart** (`bench_getpid_harts`): instructions per call on each busy hart, "
            "one pinned thread per hart, all calling at once (mean and maximum over the harts; "
            "RFENCE variants). Measured, `-icount`: each hart's smallest round of 200 calls, an "
            "upper bound on the calls' own count (`rdinstret` is the machine's count under "
            "`-icount`; docs/harness.md).", ""]
    for asid in (True, False):
        out.append(f"ASIDs {'on' if asid else 'off'}:")
        out.append("")
        out += getpid_lines(df, asid)
        out.append("")
    out += pingpong_lines(df) + storm_lines(df) + kv_lines(df)
    return out
