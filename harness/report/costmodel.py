"""The one cost model of every modelled cycle figure (table, docs, plots). A MODEL, never
measured hardware time.

Per operation, from the events the TLB-model plugin counted (mode `tlb` rows of the CSV):

    cycles = instructions × cpi
           + traps from U × trap + srets × sret + satp writes × satp + sfence.vma × fence
           + L2-TLB hits × l2_hit
           + page-walk memory references × walk_ref + walk-cache hits × walk_cache_hit

It is the plugin's own cost model (docs/tlbmodel.md "Cost model"), so with DEFAULT_MODEL the
total equals the CSV's `tlb_model_cycles_per_op` (a test checks every row); being linear in
the counted events, any constant can be changed without a new run (robustness.py sweeps them).

Every constant carries its source; SWEEP gives the range each one is swept over.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Dict, Mapping, Optional, Tuple

import pandas as pd

from .. import select as sel

# The cost keys of a breakdown, in the order a stacked plot draws them.
PARTS: Tuple[str, ...] = ("instructions", "trap", "sret", "satp", "fence", "l2_hits", "walks")

# Each preset's pipeline depth (docs/tlbmodel.md "Cost model"): what the plugin charges a trap
# entry, an sret, a satp write and each sfence.vma form. Depths are from the cores' public
# descriptions; charging one pipeline depth per flush is the ASSUMPTION.
PIPELINE_DEPTH: Dict[str, float] = {"u54": 5, "rocket": 5, "c906": 5, "u74": 8, "c910": 12,
                                    "xiangshan": 15, "ideal": 0}
# CPI 1 for the in-order cores, 0.5 for the out-of-order XiangShan: an ASSUMPTION (no stalls).
PRESET_CPI: Dict[str, float] = {"xiangshan": 0.5}


@dataclass(frozen=True)
class CostModel:
    """Cycles per counted event. None: the preset's own value (PIPELINE_DEPTH, PRESET_CPI)."""
    # assumption: no stalls but the events below (1, 0.5 for xiangshan)
    cpi: Optional[float] = None
    # assumption: one pipeline depth; no public cycle count exists for a trap entry
    trap: Optional[float] = None
    # assumption: one pipeline depth; no public cycle count exists for sret
    sret: Optional[float] = None
    # assumption: one pipeline depth; no public cycle count for `csrw satp` on any shipping core
    satp: Optional[float] = None
    # assumption: one pipeline depth per sfence.vma (any form); no public cycle count exists
    fence: Optional[float] = None
    # source: T-Head C906 and C910 user manuals, a uTLB miss that hits the jTLB costs 3–4 cycles
    l2_hit: float = 4.0
    # assumption: 20 cycles per walk reference (PTE from the L2 cache); the C906/C910 manuals
    # give at least 16 cycles for a whole jTLB miss whose PTEs come from the cache
    walk_ref: float = 20.0
    # assumption: a walk-cache hit costs 1 cycle
    walk_cache_hit: float = 1.0

    def constants(self, preset: str) -> Dict[str, float]:
        depth = PIPELINE_DEPTH.get(preset, 5.0)
        l2 = 0.0 if preset == "ideal" else self.l2_hit  # ideal has no L2 (and charges none)

        def own(x: Optional[float], d: float) -> float:
            return d if x is None else float(x)
        return {"cpi": own(self.cpi, PRESET_CPI.get(preset, 1.0)), "trap": own(self.trap, depth),
                "sret": own(self.sret, depth), "satp": own(self.satp, depth),
                "fence": own(self.fence, depth), "l2_hit": l2, "walk_ref": self.walk_ref,
                "walk_cache_hit": self.walk_cache_hit}

    def with_constant(self, name: str, value: float) -> "CostModel":
        if name not in {f.name for f in fields(self)}:
            raise ValueError(f"unknown cost-model constant {name!r}")
        return replace(self, **{name: value})


DEFAULT_MODEL = CostModel()

# The range each constant is swept over in the robustness analysis (cycles), with its basis.
SWEEP: Dict[str, Tuple[float, float, str]] = {
    "trap": (0, 50, "assumption: no published figure"),
    "sret": (0, 50, "assumption: no published figure"),
    "satp": (0, 100, "assumption: no published figure for csrw satp"),
    "fence": (0, 100, "assumption: no published figure for sfence.vma"),
    "l2_hit": (3, 4, "published: C906/C910 manuals, 3–4 cycles"),
    "walk_ref": (6, 40, "assumption; low end: the manuals' ≥16 cycles per jTLB miss over "
                        "~3 references"),
}

# The CSV metric (per op, mode tlb) behind each event.
EVENTS: Dict[str, str] = {
    "insns": "tlb_insns_per_op", "traps": "tlb_traps_per_op", "srets": "tlb_srets_per_op",
    "satp": "tlb_satp_writes_per_op", "sfences": "tlb_sfences_per_op",
    "l2_hits": "tlb_l2_hits_per_op", "walk_refs": "tlb_walk_refs_per_op",
    "walk_cache_hits": "tlb_walk_cache_hits_per_op",
}
# Counted only when the preset has the structure: absent means none happened.
OPTIONAL_EVENTS = {"l2_hits", "walk_cache_hits"}

TEXT = ("modelled cycles = instructions × CPI + traps × trap + srets × sret + satp writes × satp "
        "+ sfence.vma × fence + L2-TLB hits × L2 hit + walk references × walk ref + walk-cache "
        "hits × 1; per preset CPI 1 (XiangShan 0.5), trap = sret = satp = fence = the pipeline "
        "depth (c906/u54 5, u74 8, c910 12, XiangShan 15: assumptions, swept), L2 hit 4 "
        "(C906/C910 manuals: 3–4), walk reference 20 (assumption; manuals: ≥16 per jTLB miss) "
        "— a model, not measured hardware time")
SHORT = "one cost model (docs/tlbmodel.md 'Cost model'; harness/report/costmodel.py)"


def events(df: pd.DataFrame, variant: str, preset: str, bench: str,
           params: str) -> Optional[Dict[str, float]]:
    """The counted events per op of one TLB-model line (scheme 3: the mean over its seeds),
    or None when the run lacks one of them."""
    out: Dict[str, float] = {}
    for key, metric in EVENTS.items():
        x = sel.tlb_value(df, variant, bench, metric, preset, params)
        if x is None:
            if key not in OPTIONAL_EVENTS:
                return None
            x = 0.0
        out[key] = x
    return out


def breakdown_events(ev: Mapping[str, float], preset: str,
                     model: CostModel = DEFAULT_MODEL) -> Dict[str, float]:
    k = model.constants(preset)
    return {"instructions": ev["insns"] * k["cpi"], "trap": ev["traps"] * k["trap"],
            "sret": ev["srets"] * k["sret"], "satp": ev["satp"] * k["satp"],
            "fence": ev["sfences"] * k["fence"], "l2_hits": ev["l2_hits"] * k["l2_hit"],
            "walks": ev["walk_refs"] * k["walk_ref"]
            + ev["walk_cache_hits"] * k["walk_cache_hit"]}


def breakdown(df: pd.DataFrame, variant: str, preset: str, bench: str, params: str,
              model: CostModel = DEFAULT_MODEL) -> Dict[str, float]:
    """Modelled cycles per op of one line by cost: the keys of PARTS. Empty when not measured."""
    ev = events(df, variant, preset, bench, params)
    return {} if ev is None else breakdown_events(ev, preset, model)


def total(df: pd.DataFrame, variant: str, preset: str, bench: str, params: str,
          model: CostModel = DEFAULT_MODEL) -> Optional[float]:
    b = breakdown(df, variant, preset, bench, params, model)
    return sum(b.values()) if b else None


def miss_cost(ev: Mapping[str, float], preset: str, model: CostModel = DEFAULT_MODEL) -> float:
    """The cycles of the L1 misses (L2 hits and walks): what an L1 miss costs on average."""
    b = breakdown_events(ev, preset, model)
    return b["l2_hits"] + b["walks"]


def as_dict(model: CostModel = DEFAULT_MODEL) -> Dict[str, object]:
    """The model for metadata/facts: constants (None = the preset's pipeline depth)."""
    d: Dict[str, object] = {f.name: getattr(model, f.name) for f in fields(model)}
    d["pipeline_depth"] = dict(PIPELINE_DEPTH)
    return d
