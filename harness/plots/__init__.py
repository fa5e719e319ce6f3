"""PNG plots of the measurements (matplotlib, Agg backend). Each plot is written only when its
data exists; the function returns the files written and the plots skipped (with the reason)."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from . import select as sel  # noqa: E402
from .tidy import PARAM_PREFIX  # noqa: E402
from .tlb import PRESETS, TLB_WORKLOADS, CYCLE_MODEL_TEXT, preset_text  # noqa: E402

PRESETS_SATP = {name: p.satp_write for name, p in PRESETS.items()}
PRESET_L1D = {name: p.l1d for name, p in PRESETS.items()}
from .variants import VARIANT_NAMES  # noqa: E402

COLORS = {"s1-asid": "#c0392b", "s1-noasid": "#e6897e", "s2-asid": "#1f6fb4",
          "s2-noasid": "#85b6e0", "s3-asid": "#27884a", "s3-noasid": "#8fd1a6",
          "s1-asid-4k": "#7b241c", "s2-asid-4k": "#154360", "s3-asid-4k": "#145a32",
          "s1-asid-dc": "#f39c12", "s2-asid-dc": "#8e44ad", "s3-asid-dc": "#16a085"}
MARKERS = {"asid": "o", "noasid": "s", "4k": "^", "dc": "D"}


def _variants(df: pd.DataFrame) -> List[str]:
    present = set(df["variant"].unique())
    return [v for v in VARIANT_NAMES if v in present]


def _style(v: str) -> Dict[str, Any]:
    """ASIDs on: solid, circles; off: dashed, squares; kernel in 4 KiB pages: dotted, triangles;
    demand paging + COW (-dc): dash-dot, diamonds."""
    kind = ("4k" if v.endswith("-4k") else "dc" if v.endswith("-dc")
            else "asid" if v.endswith("-asid") else "noasid")
    return {"color": COLORS.get(v, "gray"), "marker": MARKERS[kind],
            "linestyle": {"asid": "-", "noasid": "--", "4k": ":", "dc": "-."}[kind], "label": v}


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _bars(ax: Any, names: List[str], values: List[Optional[float]],
          err: Optional[List[Tuple[float, float]]] = None) -> None:
    xs = list(range(len(names)))
    heights = [v if v is not None else 0.0 for v in values]
    yerr = None
    if err is not None:
        yerr = [[e[0] for e in err], [e[1] for e in err]]
    ax.bar(xs, heights, color=[COLORS.get(n, "gray") for n in names], yerr=yerr, capsize=4)
    for x, v in zip(xs, values):
        if v is None:
            ax.text(x, 0, "n/a", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(xs)
    ax.set_xticklabels(names, rotation=30, ha="right")


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


def _label_bars(ax: Any, xs: List[float], values: List[Optional[float]], fmt: Any) -> None:
    """Value labels above bars, vertical and small, so that neighbours never overlap."""
    top = max([v for v in values if v is not None] + [0.0])
    for x, v in zip(xs, values):
        if v is None:
            ax.text(x, 0, "n/a", ha="center", va="bottom", fontsize=7, rotation=90)
        else:
            ax.text(x, v + top * 0.01, fmt(v), ha="center", va="bottom", fontsize=7,
                    rotation=90)
    ax.set_ylim(top=top * 1.25 if top > 0 else 1)


def plot_null(df: pd.DataFrame, out: Path) -> Optional[Path]:
    """Q: what does one null system call cost in each variant (instructions; wall time)?"""
    vs = [v for v in _variants(df) if not sel.rows(df, variant=v, bench="bench_null").empty]
    if not vs:
        return None
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.3))
    ins = [sel.icount_value(df, v, "bench_null", "insns_per_op") for v in vs]
    _bars(a1, vs, ins)
    _label_bars(a1, list(range(len(vs))), ins, lambda x: f"{x:.0f}")
    a1.set_ylabel("instructions per null syscall (icount)")
    a1.set_title("instructions (deterministic)")
    st = [sel.stats(sel.wall_values(df, v, "bench_null")) for v in vs]
    div, unit = time_unit(max([s.max for s in st if s] + [0.0]))
    meds = [s.median / div if s else None for s in st]
    errs = [((s.median - s.min) / div, (s.max - s.median) / div) if s else (0.0, 0.0)
            for s in st]
    _bars(a2, vs, meds, errs)
    if any(m for m in meds):
        a2.set_yscale("log")
    for x, m in enumerate(meds):
        if m:
            a2.text(x + 0.42, m, f"{m:.3g}", ha="right", va="bottom", fontsize=7,
                    rotation=90)
    a2.set_ylabel(f"{unit} per null syscall (median; bars min–max; log)")
    a2.set_title("wall time under QEMU (QEMU's own TLB flushes included)")
    fig.suptitle("bench_null: the cost of one system call")
    return _save(fig, out / "null_syscall.png")


def _series(df: pd.DataFrame, v: str, bench: str, xkey: str, metric: str, mode: str,
            fixed: Optional[Dict[str, int]] = None) -> Optional[pd.DataFrame]:
    """x, median, min, max of one variant's metric over the x parameter (None: no data)."""
    r = sel.rows(df, variant=v, bench=bench, mode=mode, metric=metric)
    col = PARAM_PREFIX + xkey
    if r.empty or col not in r.columns:
        return None
    for k, val in (fixed or {}).items():
        if PARAM_PREFIX + k in r.columns:
            r = r[r[PARAM_PREFIX + k] == val]
    r = r[r[col].notna()]
    if r.empty:
        return None
    g = r.groupby(col)["value"]
    out = pd.DataFrame({"median": g.median(), "min": g.min(), "max": g.max()})
    out.index = out.index.astype(float)
    return out.sort_index()


def _ticks_at(ax: Any, xs: List[float], fmt: Any) -> None:
    """Ticks at the measured points only."""
    from matplotlib.ticker import NullLocator
    ax.set_xticks(xs)
    ax.set_xticklabels([fmt(x) for x in xs], rotation=45 if len(xs) > 8 else 0, fontsize=8)
    ax.xaxis.set_minor_locator(NullLocator())
    lo, hi = min(xs), max(xs)
    ax.set_xlim(lo - 0.5 if lo <= 0 else lo / 1.3, hi * 1.3)


def _size_label(x: float) -> str:
    x = int(x)
    if x >= 1024 and x % 1024 == 0:
        return f"{x // 1024}K"
    return str(x)


def _curves(df: pd.DataFrame, series: Dict[str, pd.DataFrame], ax: Any, *, band: bool = False,
            scale: float = 1.0) -> List[float]:
    xs: set = set()
    for v, s in series.items():
        ax.plot(s.index.values, s["median"].values / scale, **_style(v))
        if band:
            ax.fill_between(s.index.values, s["min"].values / scale, s["max"].values / scale,
                            color=COLORS.get(v, "gray"), alpha=0.12)
        xs |= set(s.index.values)
    return sorted(xs)


def _diff_panel(ax: Any, series: Dict[str, pd.DataFrame], what: str) -> bool:
    """Each variant minus its scheme-2 reference (same ASID and kernel map), where the
    absolute lines coincide."""
    drawn = False
    for v, s in series.items():
        ref = series.get(reference(v))
        if ref is None or v == reference(v):
            continue
        d = (s["median"] - ref["median"]).dropna()
        ax.plot(d.index.values, d.values, **_style(v))
        drawn = True
    ax.axhline(0, color=COLORS["s2-asid"], linewidth=1.2, label="scheme 2 (reference)")
    ax.set_ylabel(f"{what} minus scheme 2\n(same ASID and kernel-map setting)")
    return drawn


def _curve_figure(df: pd.DataFrame, bench: str, xkey: str, *, unit_label: str, xlabel: str,
                  title: str, path: Path, xfmt: Any, symlog_x: bool = False,
                  fixed: Optional[Dict[str, int]] = None) -> Optional[Path]:
    """Three panels: instructions (log-log), instructions minus scheme 2, wall time."""
    vs = _variants(df)
    ins = {v: s for v in vs
           if (s := _series(df, v, bench, xkey, "insns_per_op", "icount", fixed)) is not None}
    wall = {v: s for v in vs
            if (s := _series(df, v, bench, xkey, "ns_per_op", "wall", fixed)) is not None}
    if not ins and not wall:
        return None
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(16, 4.8))
    xs = _curves(df, ins, a1)
    a1.set_yscale("log")
    a1.set_ylabel(f"instructions per {unit_label} (icount; log)")
    a1.set_title("instructions (icount)")
    _diff_panel(a2, ins, "instructions")
    a2.set_title("instructions relative to scheme 2")
    top = max([float(s["max"].max()) for s in wall.values()] + [0.0])
    div, unit = time_unit(top)
    xs = sorted(set(xs) | set(_curves(df, wall, a3, band=True, scale=div)))
    if wall:
        a3.set_yscale("log")
    a3.set_ylabel(f"{unit} per {unit_label} (median, band min–max; log)")
    a3.set_title("wall time under QEMU")
    for ax in (a1, a2, a3):
        if symlog_x:
            ax.set_xscale("symlog", linthresh=1)
        else:
            ax.set_xscale("log", base=2)
        if xs:
            _ticks_at(ax, xs, xfmt)
        ax.set_xlabel(xlabel)
        ax.grid(True, alpha=0.3)
    a1.legend(fontsize=7, title="solid: ASID on, dashed: off, dotted: 4 KiB kernel map",
              title_fontsize=6)
    a2.legend(fontsize=7)
    fig.suptitle(title)
    return _save(fig, path)


def plot_copy(df: pd.DataFrame, out: Path) -> Optional[Path]:
    """Q: how does a user↔kernel copy's cost grow with its size, per scheme?"""
    k = sel.x_param(df, "bench_copy", sel.COPY_SIZE_KEYS)
    if k is None:
        return None
    return _curve_figure(df, "bench_copy", k, unit_label="copy",
                         xlabel=f"copy size ({k}, bytes; measured sizes, log2)",
                         title="bench_copy: cost of one user↔kernel copy vs its size",
                         path=out / "copy_vs_size.png", xfmt=_size_label)


def plot_tlb(df: pd.DataFrame, out: Path) -> Optional[Path]:
    """Q: how much does a system call cost a loop that touches K pages (TLB pollution)?"""
    k = sel.x_param(df, "bench_tlb", sel.TLB_PAGES_KEYS)
    if k is None:
        return None
    return _curve_figure(df, "bench_tlb", k, unit_label="iteration",
                         xlabel=f"pages touched per iteration ({k}; measured K, log2)",
                         title="bench_tlb: one iteration (K page loads + 1 getpid) vs K",
                         path=out / "tlb_pollution.png", xfmt=_size_label)


def plot_ctx(df: pd.DataFrame, out: Path) -> Optional[Path]:
    """Q: what does a process switch cost, net of the same-process overhead, vs working set?
    Net (2-process line minus the 1-process line, what the table ranks) and raw."""
    k = sel.x_param(df, "bench_ctx", sel.CTX_WS_KEYS, exclude=sel.CTX_PROCS_KEYS)
    if k is None:
        return None
    vs = _variants(df)
    col = PARAM_PREFIX + k
    b = df[(df["bench"] == "bench_ctx") & df[col].notna()] if col in df.columns else df.iloc[:0]
    wss = sorted({int(x) for x in b[col].unique()}) if not b.empty else []
    if not wss:
        return None
    net_i: Dict[str, pd.DataFrame] = {}
    raw_i: Dict[str, pd.DataFrame] = {}
    net_w: Dict[str, pd.DataFrame] = {}
    marked_raw = False
    for v in vs:
        ni, ri, nw = [], [], []
        for ws in wss:
            n = sel.ctx_switch_insns(df, v, ws=ws)
            r = sel.ctx_switch_insns(df, v, ws=ws, subtract=False)
            w = sel.ctx_switch_wall(df, v, ws=ws)
            if n is not None:
                ni.append((ws, n[0]))
                marked_raw |= not n[1]
            if r is not None:
                ri.append((ws, r[0]))
            if w is not None:
                nw.append((ws, w[0].median, w[0].min, w[0].max))
        if ni:
            net_i[v] = pd.DataFrame(ni, columns=["x", "median"]).set_index("x")
            net_i[v]["min"] = net_i[v]["max"] = net_i[v]["median"]
        if ri:
            raw_i[v] = pd.DataFrame(ri, columns=["x", "median"]).set_index("x")
        if nw:
            net_w[v] = pd.DataFrame(nw, columns=["x", "median", "min", "max"]).set_index("x")
    if not (net_i or net_w):
        return None
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    (a1, a2), (a3, a4) = axes
    _curves(df, net_i, a1)
    a1.set_ylabel("instructions per switch, net (icount)")
    a1.set_title("net switch cost: 2-process minus 1-process line" + (" († raw)" if marked_raw
                                                                      else ""))
    _diff_panel(a2, net_i, "net instructions per switch")
    a2.set_title("net switch cost relative to scheme 2")
    _curves(df, raw_i, a3)
    a3.set_yscale("log")
    a3.set_ylabel("instructions per switch op, raw (icount; log)")
    a3.set_title("raw: the 2-process line (includes touching the working set)")
    top = max([float(s["max"].max()) for s in net_w.values()] + [0.0])
    div, unit = time_unit(top)
    _curves(df, net_w, a4, band=True, scale=div)
    a4.set_ylabel(f"{unit} per switch, net (median, band min–max)")
    a4.set_title("net switch cost, wall time under QEMU")
    for ax in (a1, a2, a3, a4):
        ax.set_xscale("symlog", linthresh=4)
        _ticks_at(ax, [float(w) for w in wss], lambda x: f"{int(x)}")
        ax.set_xlabel(f"working set per process ({k}, KiB; measured points)")
        ax.grid(True, alpha=0.3)
    a1.legend(fontsize=7, title="solid: ASID on, dashed: off, dotted: 4 KiB kernel map",
              title_fontsize=6)
    a2.legend(fontsize=7)
    fig.suptitle("bench_ctx: the cost of one process switch vs working set")
    return _save(fig, out / "ctx_vs_working_set.png")


def plot_counters(df: pd.DataFrame, out: Path) -> Optional[Path]:
    ic = df[(df["mode"] == "icount") & df["metric"].isin(["satp_per_op", "sfence_per_op"])]
    if ic.empty:
        return None
    benches = [b for b in ("bench_null", "bench_ctx", "bench_fork", "bench_exec", "bench_mmap",
                           "bench_timer", "bench_copy", "bench_tlb") if b in set(ic["bench"])]
    # the -dc variants run only the paging benchmarks (their fork line is the sized one):
    # they are drawn in the workload plots
    vs = [v for v in _variants(ic) if not v.endswith("-dc")] or _variants(ic)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.8 / max(1, len(vs))
    for ax, metric, label in ((axes[0], "satp_per_op", "satp writes per op"),
                              (axes[1], "sfence_per_op", "sfence.vma per op")):
        for i, v in enumerate(vs):
            ys = []
            for b in benches:
                params = _first_params(ic, v, b)
                val = sel.icount_value(df, v, b, metric, params) if params is not None else None
                ys.append(val if val is not None else 0.0)
            xs = [j + (i - (len(vs) - 1) / 2) * width for j in range(len(benches))]
            ax.bar(xs, ys, width=width, color=COLORS.get(v, "gray"), label=v)
        ax.set_xticks(range(len(benches)))
        ax.set_xticklabels(benches, rotation=30, ha="right")
        ax.set_ylabel(f"{label} (count per op, icount run)")
        ax.set_title(label)
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    return _save(fig, out / "satp_sfence_per_op.png")


def _first_params(df: pd.DataFrame, v: str, bench: str) -> Optional[str]:
    """For multi-line benches the smallest configuration (ctx: ws 0 with >= 2 procs)."""
    if bench == "bench_ctx":
        c = sel.ctx_choice(df, v)
        return c.switching if c else None
    sets = sel.param_sets(df, v, bench)
    return sets[0] if sets else None


# ------------------------------------------------------------------ TLB model

def _tlb_null_switch(df: pd.DataFrame, v: str, preset: str, metric_null: List[str],
                     ) -> Tuple[Optional[float], Optional[float], bool]:
    """(per null syscall, per switch net of the 1-process line, subtracted?) of the sum of the
    given TLB metrics."""
    nulls = [sel.tlb_value(df, v, "bench_null", m, preset, "") for m in metric_null]
    sws = [sel.ctx_switch_tlb(df, v, m, preset) for m in metric_null]
    null = None if any(x is None for x in nulls) else float(sum(nulls))  # type: ignore[arg-type]
    if any(x is None for x in sws):
        return null, None, True
    return null, float(sum(x[0] for x in sws)), all(x[1] for x in sws)  # type: ignore[index]


def _tlb_grouped(df: pd.DataFrame, metrics: List[str], ylabel: str, title: str,
                 path: Path) -> Optional[Path]:
    ps = sel.presets(df)
    if not ps:
        return None
    fig, axes = plt.subplots(1, len(ps), figsize=(6.5 * len(ps), 4.8), squeeze=False)
    drawn = False
    for ax, p in zip(axes[0], ps):
        vs = [v for v in _variants(df)
              if not sel.rows(df, variant=v, mode="tlb", preset=p).empty]
        width = 0.38
        raw = False
        top = 0.0
        for i, v in enumerate(vs):
            null, sw, net = _tlb_null_switch(df, v, p, metrics)
            raw |= sw is not None and not net
            for off, val, hatch in ((-width / 2, null, None), (width / 2, sw, "//")):
                ax.bar(i + off, val if val is not None else 0.0, width=width,
                       color=COLORS.get(v, "gray"), hatch=hatch, edgecolor="black",
                       linewidth=0.5)
                if val is None:
                    ax.text(i + off, 0, "n/a", ha="center", va="bottom", fontsize=7,
                            rotation=90)
                else:
                    ax.text(i + off, val, " " + fmt_bar(val), ha="center", va="bottom",
                            fontsize=7, rotation=90)
                    drawn = True
                    top = max(top, val)
        ax.set_xticks(range(len(vs)))
        ax.set_xticklabels(vs, rotation=30, ha="right")
        ax.set_ylim(top=top * 1.3 if top > 0 else 1)
        ax.set_ylabel(ylabel)
        ax.set_title(textwrap.fill(f"TLB model ({preset_text(p)})", 75), fontsize=8)
        ax.grid(True, axis="y", alpha=0.3)
        from matplotlib.patches import Patch
        ax.legend(handles=[Patch(facecolor="white", edgecolor="black", label="per null syscall"),
                           Patch(facecolor="white", edgecolor="black", hatch="//",
                                 label="per context switch (ws 0, minus 1-process line"
                                       + ("; † raw" if raw else "") + ")")],
                  fontsize=7)
    if not drawn:
        plt.close(fig)
        return None
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def fmt_bar(v: float) -> str:
    if v != 0 and abs(v) < 0.01:
        return "<0.01"
    return f"{v:.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:.2g}"


def plot_tlb_model_misses(df: pd.DataFrame, out: Path) -> Optional[Path]:
    return _tlb_grouped(df, ["tlb_l1i_misses_per_op", "tlb_l1d_misses_per_op"],
                        "L1 TLB misses per operation (I + D, model)",
                        "TLB model: L1 TLB misses per null syscall (bench_null) and per context "
                        "switch (bench_ctx)", out / "tlb_model_misses.png")


def plot_tlb_model_cycles(df: pd.DataFrame, out: Path) -> Optional[Path]:
    return _tlb_grouped(df, ["model_cycles_per_op"],
                        "modelled cycles per operation (model, not hardware time)",
                        f"TLB model: MODELLED cycles per null syscall and per context switch — "
                        f"a model, not measured time\n({CYCLE_MODEL_TEXT.split(' (')[0]})",
                        out / "tlb_model_cycles.png")


def plot_tlb_model_pollution(df: pd.DataFrame, out: Path) -> Optional[Path]:
    ps = sel.presets(df)
    col = PARAM_PREFIX + "pages"
    if not ps or col not in df.columns:
        return None
    fig, axes = plt.subplots(1, len(ps), figsize=(6.5 * len(ps), 4.8), squeeze=False)
    drawn = False
    for ax, p in zip(axes[0], ps):
        for v in _variants(df):
            r = sel.rows(df, variant=v, bench="bench_tlb", mode="tlb", preset=p,
                         metric="tlb_user_misses_per_op")
            r = r[r[col].notna()].sort_values(col)
            if r.empty:
                continue
            ax.plot(r[col].astype(float).values, r["value"].values, **_style(v))
            drawn = True
        ax.set_xscale("log", base=2)
        ks = sorted({float(x) for x in df[col].dropna().unique()})
        if ks:
            _ticks_at(ax, ks, _size_label)
        ax.set_yscale("symlog", linthresh=1)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("pages touched per iteration (K; measured points, log2)")
        ax.set_ylabel("user-mode L1 TLB misses per iteration\n(I + D, model; symlog scale)")
        ax.set_title(textwrap.fill(f"TLB model ({preset_text(p)})", 75), fontsize=8)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, title="solid: ASID on, dashed: off, dotted: 4 KiB kernel map", title_fontsize=7)
    if not drawn:
        plt.close(fig)
        return None
    fig.suptitle("TLB model, bench_tlb: the user's misses per iteration (K loads + 1 getpid) "
                 "— pollution by the system call", fontsize=10)
    return _save(fig, out / "tlb_model_pollution.png")


# (file name, what it shows, function): the plots the harness owns.
PLOTS = [("null_syscall.png", "null syscall", plot_null),
         ("copy_vs_size.png", "copy vs size", plot_copy),
         ("ctx_vs_working_set.png", "context switch vs working set", plot_ctx),
         ("tlb_pollution.png", "TLB pollution", plot_tlb),
         ("satp_sfence_per_op.png", "satp/sfence per op", plot_counters),
         ("tlb_model_misses.png", "TLB model: misses", plot_tlb_model_misses),
         ("tlb_model_pollution.png", "TLB model: pollution", plot_tlb_model_pollution),
         ("tlb_model_cycles.png", "TLB model: cycles", plot_tlb_model_cycles)]


# ------------------------------------------------------------------ workloads (issue 11)
# lmbench/LEBench-style figures of bench_pipe, bench_fault, bench_fork (touched_kb), bench_mix
# and bench_lebench. Instructions come from the icount run, time from the wall runs (median).

def _value_by(r: pd.DataFrame, key: str) -> Dict[float, float]:
    """{param value: mean (icount over seeds) or median (wall)} of one variant's rows."""
    col = PARAM_PREFIX + key
    if r.empty or col not in r.columns:
        return {}
    agg = "median" if (r["mode"] == "wall").all() else "mean"
    g = r[r[col].notna()].groupby(r[col].astype(float))["value"].agg(agg)
    return {float(k): float(v) for k, v in g.items()}


def plot_pipe_latency(df: pd.DataFrame, out: Path) -> Optional[Path]:
    """lmbench lat_pipe: one-byte round trip between two processes, per variant."""
    names, insns, ns = [], [], []
    for v in _variants(df):
        d = df[df["variant"] == v]
        ri = _wl_mode(d, "lat", "insns_per_op", "icount")
        if ri.empty:
            continue
        rw = _wl_mode(d, "lat", "ns_per_op", "wall")
        names.append(v)
        insns.append(float(ri["value"].mean()))
        ns.append(float(rw["value"].median()) if not rw.empty else None)
    if not names:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    _bars(axes[0], names, insns)
    _label_bars(axes[0], list(range(len(names))), insns, lambda x: f"{x:.0f}")
    axes[0].set_ylabel("instructions per round trip (icount)")
    axes[0].set_title("instructions", fontsize=9)
    _bars(axes[1], names, ns)
    _label_bars(axes[1], list(range(len(names))), ns, lambda x: f"{x / 1000:.1f} µs")
    axes[1].set_ylabel("ns per round trip (wall, median; QEMU, not hardware)")
    axes[1].set_title("wall time under QEMU", fontsize=9)
    fig.suptitle("lat_pipe (bench_pipe lat): one byte there and back between two processes "
                 "over two pipes\n(2 writes, 2 reads, 2 process switches per round trip)",
                 fontsize=10)
    return _save(fig, out / "pipe_latency.png")


def _wl_mode(d: pd.DataFrame, pipe_mode: str, metric: str, mode: str) -> pd.DataFrame:
    r = sel.rows(d, bench="bench_pipe", metric=metric, mode=mode)
    col = PARAM_PREFIX + "mode"
    if col not in r.columns:
        return r.iloc[0:0]
    return r[r[col].astype(object).map(lambda x: x is not pd.NA and x == pipe_mode).astype(bool)]


def _log2_axis(ax: Any, xs: List[float], label: str) -> None:
    ax.set_xscale("log", base=2)
    if xs:
        _ticks_at(ax, sorted(set(xs)), _size_label)
    ax.set_xlabel(label)
    ax.grid(True, alpha=0.3)


def plot_pipe_bandwidth(df: pd.DataFrame, out: Path) -> Optional[Path]:
    """lmbench bw_pipe: throughput vs message size (log x)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    drawn, xs = False, []
    for v in _variants(df):
        d = df[df["variant"] == v]
        ins = _value_by(_wl_mode(d, "bw", "insns_per_op", "icount"), "size")
        if not ins:
            continue
        sizes = sorted(ins)
        xs += sizes
        axes[0].plot(sizes, [ins[s] / s for s in sizes], **_style(v))
        wall = _value_by(_wl_mode(d, "bw", "ns_per_op", "wall"), "size")
        ws = [s for s in sizes if s in wall and wall[s] > 0]
        if ws:  # bytes per ns = GB/s; x1000 = MB/s
            axes[1].plot(ws, [s / wall[s] * 1000 for s in ws], **_style(v))
        drawn = True
    if not drawn:
        plt.close(fig)
        return None
    for ax in axes:
        _log2_axis(ax, xs, "bytes per write (log2)")
        ax.legend(fontsize=7)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("instructions per byte moved (icount, log)")
    axes[1].set_ylabel("MB/s (wall, median; QEMU, not hardware)")
    fig.suptitle("bw_pipe (bench_pipe bw): a writer streams `size`-byte writes to a reader",
                 fontsize=10)
    return _save(fig, out / "pipe_bandwidth.png")


def plot_pipe_ctx(df: pd.DataFrame, out: Path) -> Optional[Path]:
    """lmbench lat_ctx over pipes: per switch vs working set, one panel per ring size."""
    r = _wl_mode(df, "ctx", "insns_per_op", "icount")
    pc = PARAM_PREFIX + "procs"
    if r.empty or pc not in r.columns:
        return None
    procs = sorted(int(p) for p in r[pc].dropna().unique())
    fig, axes = plt.subplots(1, len(procs), figsize=(5 * len(procs), 4.4), squeeze=False,
                             sharey=True)
    wss: List[float] = sorted({float(x) for x in r[PARAM_PREFIX + "ws_kb"].dropna()})
    pos = {w: i for i, w in enumerate(wss)}
    for ax, p in zip(axes[0], procs):
        for v in _variants(r):
            d = r[(r["variant"] == v) & (r[pc] == p)]
            got = _value_by(d, "ws_kb")
            if got:
                ks = sorted(got)
                ax.plot([pos[k] for k in ks], [got[k] for k in ks], **_style(v))
        ax.set_xticks(range(len(wss)))
        ax.set_xticklabels([f"{w:g}" for w in wss])
        ax.set_xlabel("working set per process (KiB)")
        ax.set_title(f"{p} processes in the ring", fontsize=9)
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("instructions per switch (icount)")
    axes[0][-1].legend(fontsize=7)
    fig.suptitle("lat_ctx over pipes (bench_pipe ctx): a token passed round a ring, each "
                 "process touching its working set", fontsize=10)
    return _save(fig, out / "pipe_ctx_vs_working_set.png")


def _fault_rows(df: pd.DataFrame, mode: str) -> pd.DataFrame:
    r = sel.rows(df, bench="bench_fault", metric="insns_per_op", mode="icount")
    col = PARAM_PREFIX + "mode"
    if col not in r.columns:
        return r.iloc[0:0]
    return r[r[col].astype(object).map(lambda x: x is not pd.NA and x == mode).astype(bool)]


def plot_fault_cost(df: pd.DataFrame, out: Path) -> Optional[Path]:
    """lmbench lat_pagefault-style: first-touch and COW cost per page vs size (log x), and
    fork of a touched process vs its size (eager copy against COW)."""
    panels = [("first_touch", _fault_rows(df, "first_touch"), "kb",
               "first touch of fresh anonymous memory", "instructions per page"),
              ("cow", _fault_rows(df, "cow"), "kb",
               "a forked child writes each page", "instructions per page"),
              ("fork", sel.rows(df, bench="bench_fork", metric="insns_per_op", mode="icount"),
               "touched_kb", "fork + exit + wait of a process with that much memory",
               "instructions per fork")]
    panels = [p for p in panels if not p[1].empty and PARAM_PREFIX + p[2] in p[1].columns
              and p[1][PARAM_PREFIX + p[2]].notna().any()]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.6), squeeze=False)
    for ax, (name, r, key, title, ylabel) in zip(axes[0], panels):
        xs: List[float] = []
        for v in _variants(r):
            got = _value_by(r[r["variant"] == v], key)
            if got:
                ks = sorted(got)
                xs += ks
                ax.plot(ks, [got[k] for k in ks], **_style(v))
        _log2_axis(ax, xs, "KiB (log2)")
        ax.set_yscale("log")
        ax.set_ylabel(ylabel + " (icount, log)")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle("Page-fault and fork cost vs size: eager population/copy (eager-copy "
                 "variants) against demand paging/COW (-dc, dash-dot)", fontsize=10)
    return _save(fig, out / "fault_cost_vs_size.png")


def _mix_panels(df: pd.DataFrame) -> List[str]:
    present = set(df["variant"])
    main = [v for v in ("s1-noasid", "s1-asid", "s2-asid", "s3-asid") if v in present]
    return main or [v for v in VARIANT_NAMES if v in present][:4]


def _mix_figure(r: pd.DataFrame, ylabel: str, title: str, path: Path,
                symlog: bool = False) -> Optional[Path]:
    wc, ec = PARAM_PREFIX + "ws_kb", PARAM_PREFIX + "every"
    if r.empty or wc not in r.columns or ec not in r.columns:
        return None
    vs = _mix_panels(r)
    if not vs:
        return None
    fig, axes = plt.subplots(1, len(vs), figsize=(4.6 * len(vs), 4.4), squeeze=False,
                             sharey=True)
    wss = sorted(int(w) for w in r[wc].dropna().unique())
    cmap = plt.get_cmap("viridis")
    for ax, v in zip(axes[0], vs):
        for i, w in enumerate(wss):
            got = _value_by(r[(r["variant"] == v) & (r[wc] == w)], "every")
            if got:
                ks = sorted(got)
                ax.plot(ks, [got[k] for k in ks], marker="o",
                        color=cmap(i / max(1, len(wss) - 1)), label=_size_label(w * 1024))
        ax.set_xscale("log")
        if symlog:  # counts that can be 0 (a scheme that keeps its entries)
            ax.set_yscale("symlog", linthresh=1e-3)
            ax.set_ylim(bottom=0)
        else:
            ax.set_yscale("log")
        ax.set_xlabel("accesses per system call (N, log)")
        ax.set_title(f"{v} ({'scheme ' + v[1]})", fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, title="working set", title_fontsize=7)
    axes[0][0].set_ylabel(ylabel)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def plot_mix(df: pd.DataFrame, out: Path) -> Optional[Path]:
    return _mix_figure(sel.rows(df, bench="bench_mix", metric="insns_per_op", mode="icount"),
                       "instructions per access (icount, log)",
                       "bench_mix: a read per 64-byte line of a working set, a getpid every N "
                       "reads (the KPTI surface)", out / "mix_insns_per_access.png")


def plot_mix_tlb(df: pd.DataFrame, out: Path) -> Optional[Path]:
    ps = sel.presets(df)
    if not ps:
        return None
    r = df[(df["bench"] == "bench_mix") & (df["mode"] == "tlb") & (df["preset"] == ps[0])
           & df["metric"].isin(["tlb_l1i_misses_per_op", "tlb_l1d_misses_per_op"])]
    if r.empty:
        return None
    keys = [c for c in r.columns if c.startswith(PARAM_PREFIX)]
    r = r.groupby(["variant", "mode", *keys], dropna=False, as_index=False)["value"].sum()
    return _mix_figure(r, "L1 TLB misses (I + D) per access\n(model; symlog, linear below 0.001)",
                       textwrap.fill(f"bench_mix under the TLB model ({preset_text(ps[0])}): "
                                     f"misses per access vs N", 150),
                       out / "mix_tlb_misses_per_access.png", symlog=True)


LEBENCH_REFERENCE = "s2-asid"


def plot_lebench(df: pd.DataFrame, out: Path) -> Optional[Path]:
    """LEBench style: one bar group per case, each variant's instructions normalised to
    scheme 2 (s2-asid)."""
    r = sel.rows(df, bench="bench_lebench", metric="insns_per_op", mode="icount")
    col = PARAM_PREFIX + "case"
    if r.empty or col not in r.columns:
        return None
    s2 = [v for v in _variants(r) if v.startswith("s2-")]
    if not s2:
        return None
    refv = LEBENCH_REFERENCE if LEBENCH_REFERENCE in s2 else s2[0]
    ref = r[r["variant"] == refv].groupby(col)["value"].mean()
    cases = [c for c in r[r["variant"] == refv][col].drop_duplicates()]
    vs = [v for v in _variants(r) if v != refv and not v.endswith("-dc")]
    vs = [v for v in vs if not v.endswith("-4k")] or vs
    fig, ax = plt.subplots(figsize=(max(12, 0.6 * len(cases)), 5.5))
    width = 0.8 / max(1, len(vs))
    for i, v in enumerate(vs):
        got = r[r["variant"] == v].groupby(col)["value"].mean()
        ys = [float(got[c] / ref[c]) if c in got and ref[c] else float("nan") for c in cases]
        ax.bar([k + (i - (len(vs) - 1) / 2) * width for k in range(len(cases))], ys, width,
               color=COLORS.get(v, "gray"), label=v)
    ax.axhline(1.0, color=COLORS.get(refv, "gray"), linewidth=1, label=f"{refv} = 1")
    ax.set_xticks(range(len(cases)))
    ax.set_xticklabels(cases, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(f"instructions relative to {refv} (= 1, icount)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncol=3)
    ax.set_title("LEBench-style suite (bench_lebench): every system call, one group per case, "
                 f"normalised to scheme 2 ({refv})", fontsize=10)
    return _save(fig, out / "lebench_relative.png")


PLOTS += [("pipe_latency.png", "lat_pipe", plot_pipe_latency),
          ("pipe_bandwidth.png", "bw_pipe", plot_pipe_bandwidth),
          ("pipe_ctx_vs_working_set.png", "lat_ctx over pipes", plot_pipe_ctx),
          ("fault_cost_vs_size.png", "fault and fork cost vs size", plot_fault_cost),
          ("mix_insns_per_access.png", "bench_mix instructions", plot_mix),
          ("mix_tlb_misses_per_access.png", "bench_mix TLB misses", plot_mix_tlb),
          ("lebench_relative.png", "LEBench relative to scheme 2", plot_lebench)]


def plot_crossover(w: Any, df: pd.DataFrame, out: Path) -> Optional[Path]:
    """Crossover map of one TLB workload: the S1/S2 and S3/S2 ratios of modelled cycles per op
    over the satp-write cost (x) and the L1 size (y), with ASIDs (left) and without (right).
    > 1 (red): scheme 2 wins; < 1 (blue): the other scheme wins; black ticks: where the
    ratio crosses 1; stars: the presets as modelled (every other point is hypothetical)."""
    from matplotlib.colors import TwoSlopeNorm

    from . import crossover as xo
    presets = sel.presets(df)
    panels = {}
    for panel in xo.PANELS:
        m = xo.crossover_map(df, w, panel, presets, xo.asid_preset(presets))
        if m is not None:
            panels[panel] = m
    if not panels:
        return None
    fig, axes = plt.subplots(2, 2, figsize=(12, 7.5), squeeze=False)
    mesh = None
    for col, panel in enumerate(xo.PANELS):
        m = panels.get(panel)
        for row, pair in enumerate(xo.PAIRS):
            ax = axes[row][col]
            title = (f"S{pair[0]}/S{pair[1]} modelled cycles, "
                     f"{'with ASIDs' if panel == 'asid' else 'without ASIDs'}")
            if m is None:
                ax.set_title(title + ": no data", fontsize=9)
                ax.axis("off")
                continue
            z = m.ratio[pair]
            xs = list(m.costs)
            edges_x = [xs[0] - 0.5] + [x + 0.5 for x in xs]
            edges_y = [i - 0.5 for i in range(len(m.points) + 1)]
            pv = [x for r in z for x in r if x == x]
            pnorm = TwoSlopeNorm(vcenter=1.0, vmin=min(pv + [0.99]), vmax=max(pv + [1.01]))
            mesh = ax.pcolormesh(edges_x, edges_y, z, cmap="RdBu_r", norm=pnorm, shading="flat")
            fig.colorbar(mesh, ax=ax, shrink=0.9, pad=0.02)
            for i, pt in enumerate(m.points):
                c = m.crossing(pair, i)
                if c is not None:
                    ax.plot([c, c], [i - 0.45, i + 0.45], color="black", lw=2)
                    ax.text(c + 1, i, f"{c:.0f}", fontsize=7, va="center")
                own = PRESETS_SATP.get(pt.preset)
                if own is not None and (pt.lru is None or pt.lru == PRESET_L1D.get(pt.preset)):
                    ax.plot([own], [i], marker="*", color="black", ms=9)
                ax.text(xs[-1] - 1, i, f"{z[i][-1]:.2f}", fontsize=7, ha="right", va="center")
                ax.text(xs[0] + 8, i, f"{z[i][0]:.2f} at 0", fontsize=7, ha="left",
                        va="center")
            ax.set_yticks(range(len(m.points)))
            ax.set_yticklabels([p.label for p in m.points], fontsize=7)
            ax.set_xlabel("satp-write cost (cycles; presets assume 5–15)")
            ax.set_ylabel("L1 entries (I/D)" if not m.uses_lru else "LRU L1 entries (I and D)")
            ax.set_title(title, fontsize=9)
    fig.subplots_adjust(top=0.86, right=0.97, hspace=0.45, wspace=0.3, left=0.1)
    any_m = next(iter(panels.values()))
    pp = "; ".join(f"{p}: {xo.workload_label(w, q)}" for p, q in any_m.params.items())
    note = (f"{w.bench}, per {w.per} ({pp}). A MODEL: modelled cycles from the counted events "
            f"(docs/tlbmodel.md 'Cost model'), only the satp-write constant swept "
            f"(satp count from the {any_m.satp_source} run). {xo.axis_note(any_m)}. "
            f"Stars: the preset as modelled. Colour: the ratio, each panel on its own scale "
            f"centred at 1 (red > 1: scheme 2 wins; blue < 1: the other scheme).")
    fig.suptitle("\n".join(textwrap.wrap(note, 170)), fontsize=8)
    path = out / f"crossover_{w.key}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _crossover_entry(w: Any) -> Tuple[str, str, Any]:
    return (f"crossover_{w.key}.png", f"crossover map {w.key}",
            lambda df, out: plot_crossover(w, df, out))


PLOTS += [_crossover_entry(w) for w in TLB_WORKLOADS]


def owned_files() -> List[str]:
    """The file names of every plot make_plots draws."""
    return [f for f, _, _ in PLOTS]


def make_plots(df: pd.DataFrame, out: Path) -> Tuple[List[Path], List[str]]:
    """Draw every plot; one without data is removed from `out` (never left from an earlier
    run). Returns the files written and the plots not drawn (with the reason)."""
    written: List[Path] = []
    skipped: List[str] = []
    for fname, name, fn in PLOTS:
        p = fn(df, out)
        if p is None:
            skipped.append(f"{name}: no data")  # and out/fname is removed
            (out / fname).unlink(missing_ok=True)
        else:
            written.append(p)
    return written, skipped
