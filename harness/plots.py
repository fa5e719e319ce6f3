"""PNG plots of the measurements (matplotlib, Agg backend). Each plot is written only when its
data exists; the function returns the files written and the plots skipped (with the reason)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from . import select as sel  # noqa: E402
from .tidy import PARAM_PREFIX  # noqa: E402
from .tlb import CYCLE_MODEL_TEXT, preset_text  # noqa: E402
from .variants import VARIANT_NAMES  # noqa: E402

COLORS = {"s1-asid": "#c0392b", "s1-noasid": "#e6897e", "s2-asid": "#1f6fb4",
          "s2-noasid": "#85b6e0", "s3-asid": "#27884a", "s3-noasid": "#8fd1a6",
          "s1-asid-4k": "#7b241c", "s2-asid-4k": "#154360", "s3-asid-4k": "#145a32"}
MARKERS = {"asid": "o", "noasid": "s", "4k": "^"}


def _variants(df: pd.DataFrame) -> List[str]:
    present = set(df["variant"].unique())
    return [v for v in VARIANT_NAMES if v in present]


def _style(v: str) -> Dict[str, Any]:
    """ASIDs on: solid, circles; off: dashed, squares; kernel in 4 KiB pages: dotted, triangles."""
    kind = "4k" if v.endswith("-4k") else "asid" if v.endswith("-asid") else "noasid"
    return {"color": COLORS.get(v, "gray"), "marker": MARKERS[kind],
            "linestyle": {"asid": "-", "noasid": "--", "4k": ":"}[kind], "label": v}


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


def plot_null(df: pd.DataFrame, out: Path) -> Optional[Path]:
    vs = [v for v in _variants(df) if not sel.rows(df, variant=v, bench="bench_null").empty]
    if not vs:
        return None
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    _bars(a1, vs, [sel.icount_value(df, v, "bench_null", "insns_per_op") for v in vs])
    a1.set_ylabel("instructions per null syscall (icount)")
    a1.set_title("bench_null: instructions")
    meds: List[Optional[float]] = []
    errs: List[Tuple[float, float]] = []
    for v in vs:
        s = sel.stats(sel.wall_values(df, v, "bench_null"))
        meds.append(s.median if s else None)
        errs.append((s.median - s.min, s.max - s.median) if s else (0.0, 0.0))
    _bars(a2, vs, meds, errs)
    a2.set_ylabel("ns per null syscall (median, min–max bars)")
    a2.set_title("bench_null: wall time under QEMU")
    return _save(fig, out / "null_syscall.png")


def _curve(df: pd.DataFrame, bench: str, xkey: str, metric: str, mode: str, ax: Any,
           fixed: Optional[Dict[str, int]] = None) -> bool:
    drawn = False
    for v in _variants(df):
        r = sel.rows(df, variant=v, bench=bench, mode=mode, metric=metric)
        col = PARAM_PREFIX + xkey
        if r.empty or col not in r.columns:
            continue
        for k, val in (fixed or {}).items():
            if PARAM_PREFIX + k in r.columns:
                r = r[r[PARAM_PREFIX + k] == val]
        r = r[r[col].notna()]
        if r.empty:
            continue
        g = r.groupby(col)["value"]
        y = g.median()
        x = y.index.astype(float)
        ax.plot(x, y.values, **_style(v))
        if mode == "wall":
            ax.fill_between(x, g.min().values, g.max().values, color=COLORS.get(v, "gray"),
                            alpha=0.15)
        drawn = True
    return drawn


def _two_panel(df: pd.DataFrame, bench: str, xkey: str, xlabel: str, unit_label: str,
               title: str, path: Path, logx: bool, fixed: Optional[Dict[str, int]] = None
               ) -> Optional[Path]:
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    ok1 = _curve(df, bench, xkey, "insns_per_op", "icount", a1, fixed)
    ok2 = _curve(df, bench, xkey, "ns_per_op", "wall", a2, fixed)
    if not (ok1 or ok2):
        plt.close(fig)
        return None
    for ax, ylabel in ((a1, f"instructions per {unit_label} (icount)"),
                       (a2, f"ns per {unit_label} (median; band min–max)")):
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if logx:
            ax.set_xscale("symlog" if _has_zero(df, bench, xkey) else "log",
                          **({"linthresh": 1} if _has_zero(df, bench, xkey) else {}))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    a1.set_title("instructions (icount run)")
    a2.set_title("wall time under QEMU")
    return _save(fig, path)


def _has_zero(df: pd.DataFrame, bench: str, xkey: str) -> bool:
    col = PARAM_PREFIX + xkey
    b = df[df["bench"] == bench]
    return col in b.columns and bool((b[col] == 0).any())


def plot_copy(df: pd.DataFrame, out: Path) -> Optional[Path]:
    k = sel.x_param(df, "bench_copy", sel.COPY_SIZE_KEYS)
    if k is None:
        return None
    return _two_panel(df, "bench_copy", k, f"copy size ({k}, bytes, log scale)", "copy",
                      "bench_copy (user↔kernel copy)", out / "copy_vs_size.png", True)


def plot_ctx(df: pd.DataFrame, out: Path) -> Optional[Path]:
    k = sel.x_param(df, "bench_ctx", sel.CTX_WS_KEYS, exclude=sel.CTX_PROCS_KEYS)
    if k is None:
        return None
    procs = sel.first_key(sel.CTX_PROCS_KEYS, [c[len(PARAM_PREFIX):] for c in df.columns
                                               if c.startswith(PARAM_PREFIX)])
    fixed: Dict[str, int] = {}
    if procs is not None:
        b = df[(df["bench"] == "bench_ctx") & (df[PARAM_PREFIX + procs] >= 2)]
        if not b.empty:
            fixed[procs] = int(b[PARAM_PREFIX + procs].min())
    return _two_panel(df, "bench_ctx", k, f"working set ({k}, KiB, symlog scale)", "switch op",
                      "bench_ctx (raw, overhead not subtracted)", out / "ctx_vs_working_set.png",
                      True, fixed)


def plot_tlb(df: pd.DataFrame, out: Path) -> Optional[Path]:
    k = sel.x_param(df, "bench_tlb", sel.TLB_PAGES_KEYS)
    if k is None:
        return None
    return _two_panel(df, "bench_tlb", k, f"pages touched per iteration ({k})", "iteration",
                      "bench_tlb (TLB pollution)", out / "tlb_pollution.png", False)


def plot_counters(df: pd.DataFrame, out: Path) -> Optional[Path]:
    ic = df[(df["mode"] == "icount") & df["metric"].isin(["satp_per_op", "sfence_per_op"])]
    if ic.empty:
        return None
    benches = [b for b in ("bench_null", "bench_ctx", "bench_fork", "bench_exec", "bench_mmap",
                           "bench_timer", "bench_copy", "bench_tlb") if b in set(ic["bench"])]
    vs = _variants(ic)
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
        for i, v in enumerate(vs):
            null, sw, net = _tlb_null_switch(df, v, p, metrics)
            raw |= sw is not None and not net
            for off, val, hatch in ((-width / 2, null, None), (width / 2, sw, "//")):
                ax.bar(i + off, val if val is not None else 0.0, width=width,
                       color=COLORS.get(v, "gray"), hatch=hatch, edgecolor="black",
                       linewidth=0.5)
                if val is None:
                    ax.text(i + off, 0, "n/a", ha="center", va="bottom", fontsize=7)
                else:
                    ax.text(i + off, val, fmt_bar(val), ha="center", va="bottom", fontsize=7)
                    drawn = True
        ax.set_xticks(range(len(vs)))
        ax.set_xticklabels(vs, rotation=30, ha="right")
        ax.set_ylabel(ylabel)
        ax.set_title(f"TLB model ({preset_text(p)})", fontsize=9)
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
        ax.set_yscale("symlog", linthresh=1)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("pages touched per iteration (K, log2 scale)")
        ax.set_ylabel("user-mode L1 TLB misses per iteration\n(I + D, model; symlog scale)")
        ax.set_title(f"TLB model ({preset_text(p)})", fontsize=9)
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
