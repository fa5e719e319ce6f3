"""PNG plots of the measurements (matplotlib, Agg backend), one module per concern:

- style: colours, line styles, axes helpers, the coincidence checks
- registry: the one list of plots (file, what it shows, data path, drawing function)
- micro: microbenchmarks from the icount runs
- tlbmodel: the TLB-model runs
- workloads: lmbench/LEBench-style workloads
- verdicts: scheme ratios per dimension, modelled-cycle breakdown, robustness matrix, wall time
- crossover: crossover curves of the modelled-cycle ratios
- multihart: the multi-hart benchmarks (shootdown cost per remote hart)

Each plot is written only when its data exists; make_plots returns the files written and the
plots skipped (with the reason). No module here imports the run side (measure/dist/qemu/build).
"""
from __future__ import annotations

from . import micro, tlbmodel, workloads, verdicts, crossover, multihart  # noqa: F401  (registration order)
from .micro import plot_copy, plot_counters, plot_ctx, plot_null, plot_tlb  # noqa: F401
from .registry import PLOTS, Plot, Skip, by_file, make_plots, owned_files, seed_mean  # noqa: F401
from .tlbmodel import (plot_mix_tlb, plot_tlb_model_misses,  # noqa: F401
                       plot_tlb_model_pollution)
from .workloads import (plot_fault_cost, plot_lebench, plot_mix, plot_pipe_bandwidth,  # noqa: F401
                        plot_pipe_ctx, plot_pipe_latency)

__all__ = ["PLOTS", "Plot", "Skip", "by_file", "make_plots", "owned_files", "seed_mean",
           "micro", "tlbmodel", "workloads", "verdicts", "crossover", "multihart",
           "plot_null", "plot_copy", "plot_tlb", "plot_ctx", "plot_counters",
           "plot_tlb_model_misses", "plot_tlb_model_pollution", "plot_mix_tlb",
           "plot_pipe_latency", "plot_pipe_bandwidth", "plot_pipe_ctx", "plot_fault_cost",
           "plot_mix", "plot_lebench"]
