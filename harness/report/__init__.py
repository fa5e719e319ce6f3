"""The comparison report (results/comparison.md and what docs/results.md cites), by concern:

- claims.py    the design document's ratings per dimension (the rows) and tolerances
- figures.py   per-variant figures of each dimension from the measurement DataFrame
- ranking.py   compare / rank / judge a measured order against the document's
- regions.py   where a verdict holds over the satp-cost and L1-size axes
- costmodel.py the one cost model of every modelled cycle figure
- robustness.py the verdict of every row under every analysis choice the data allows
- markdown.py  rendering (render_comparison)

Presentation only: nothing here imports the run side (measure, dist, qemu, build).
"""
from importlib import import_module
from typing import Any

# Loaded on first use (PEP 562): harness.tlb and harness.crossover import costmodel, and an
# eager import of the renderer here would make that a cycle.
_WHERE = {"DEFAULT_TOLERANCES": "claims", "ROWS": "claims", "WORKLOADS": "claims",
          "RowSpec": "claims", "fig_memory": "figures", "perf_insns": "figures",
          "table_preset": "figures", "tlb_workload_figs": "figures", "fmt_dist": "format",
          "fmt_num": "format", "geomean": "format", "render_comparison": "markdown",
          "render_workloads": "markdown", "compare": "ranking", "rank_labels": "ranking"}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
