"""`harness compare DIR`: any benchmark's figures, variant against variant, as a Markdown table
and (with --plot) a grouped bar chart, straight from DIR/measurements.csv. The report's own
tables and plots (comparison.md, plots/) are written for the benchmarks it knows; this one
works for every benchmark and variant in the CSV, a new one included, with nothing to edit.

A cell is the mean over the runs of that metric (icount: one run, or one per kaslr seed; TLB:
per preset) or, for wall-time figures, the median over the repetitions (host time)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence

import pandas as pd

from .errors import UserError
from .variants import ordered_names


def compare_frame(df: pd.DataFrame, *, benches: Sequence[str], metric: str, mode: str,
                  preset: str = "", variants: Sequence[str] = ()) -> pd.DataFrame:
    """Rows: (bench, params); columns: the variants (report order); cells: mean (median for
    mode wall) of `metric`."""
    sel = df[(df["metric"] == metric) & (df["mode"] == mode)]
    if mode == "tlb":
        sel = sel[sel["preset"] == preset] if preset else sel
    if benches:
        sel = sel[sel["bench"].isin(benches)]
    if variants:
        sel = sel[sel["variant"].isin(variants)]
    if sel.empty:
        have = sorted(set(df[df["mode"] == mode]["metric"]))
        raise UserError(f"no {mode} rows of {metric}"
                        + (f" for {', '.join(benches)}" if benches else "")
                        + f" (metrics of {mode} rows: {', '.join(have) or 'none'})")
    agg = "median" if mode == "wall" else "mean"
    wide = sel.pivot_table(index=["bench", "params"], columns="variant", values="value",
                           aggfunc=agg)
    return wide[ordered_names(wide.columns)]


def markdown(wide: pd.DataFrame, *, metric: str, mode: str) -> str:
    unit = "host ns (median)" if mode == "wall" else f"{mode}, mean"
    head = ["benchmark", "params"] + [str(c) for c in wide.columns]
    out = [f"{metric} ({unit})", "", "| " + " | ".join(head) + " |",
           "|" + " --- |" * len(head)]
    for (bench, params), row in wide.iterrows():
        cells = ["—" if pd.isna(x) else f"{x:,.3f}".rstrip("0").rstrip(".") for x in row]
        out.append("| " + " | ".join([f"`{bench}`", params or "—"] + cells) + " |")
    return "\n".join(out)


def plot(wide: pd.DataFrame, path: Path, *, metric: str, mode: str) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = [f"{b} {p}".strip() for b, p in wide.index]
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(labels) * max(1, len(wide.columns)) / 2),
                                    3.6))
    width = 0.8 / max(1, len(wide.columns))
    for i, v in enumerate(wide.columns):
        xs = [k + i * width for k in range(len(labels))]
        ax.bar(xs, wide[v].tolist(), width=width, label=str(v))
    ax.set_xticks([k + 0.4 - width / 2 for k in range(len(labels))])
    ax.set_xticklabels(labels, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(f"{metric}\n({'host ns, median' if mode == 'wall' else mode})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run(results: Path, *, benches: Sequence[str], metric: str, mode: str, preset: str,
        variants: Sequence[str], plot_to: Optional[Path]) -> List[str]:
    from .tidy import read_csv
    csv = results / "measurements.csv"
    if not csv.is_file():
        raise UserError(f"{results}: no measurements.csv (run `harness bench` first)")
    wide = compare_frame(read_csv(csv), benches=benches, metric=metric, mode=mode,
                         preset=preset, variants=variants)
    lines = [markdown(wide, metric=metric, mode=mode)]
    if plot_to is not None:
        lines.append(f"wrote {plot(wide, plot_to, metric=metric, mode=mode)}")
    return lines
