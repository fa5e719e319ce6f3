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
__all__ = ["DEFAULT_TOLERANCES", "ROWS", "WORKLOADS", "RowSpec", "fig_memory", "perf_insns",
           "table_preset", "tlb_workload_figs", "fmt_dist", "fmt_num", "geomean",
           "render_comparison", "render_workloads", "compare", "rank_labels"]

from .claims import DEFAULT_TOLERANCES, ROWS, WORKLOADS, RowSpec
from .figures import (fig_memory, perf_insns, table_preset,
                      tlb_workload_figs)
from .format import fmt_dist, fmt_num, geomean
from .markdown import render_comparison, render_workloads
from .ranking import compare, rank_labels
