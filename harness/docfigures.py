"""docs/results.md from docs/results.md.in: every figure of the prose is a placeholder filled
from a results directory (measurements.csv, facts.json, metadata.json), so the document cannot
drift from the run it describes. `python3 -m harness docs [DIR]` rewrites it (a complete
`reproduce` does so when it replaces results/); `--check` only compares, and a unit test
(harness/tests/test_docs.py) fails when the committed document differs from the rendering of
the committed results/.

Placeholders: ``{{function:arg:arg...}}``; the functions are the keys of FUNCTIONS below, e.g.
``{{icount:s1-asid:bench_null:insns_per_op}}``, ``{{switch:s2-asid}}``,
``{{tlb:u54:s1-noasid:bench_null:tlb_l1i_misses_per_op+tlb_l1d_misses_per_op}}``,
``{{meta:elapsed_seconds}}``. An unknown function or absent data is an error, never a guess.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping

import pandas as pd

from . import select as sel
from .errors import UserError
from .report.figures import perf_insns
from .report.format import fmt_dist, fmt_num, geomean

PLACEHOLDER = re.compile(r"\{\{([^{}]+)\}\}")
HEADER = ("<!-- Generated from docs/results.md.in and the files in results/ by "
          "`/usr/bin/python3 -m harness docs`; edit the .in file, not this one. -->\n")


class Missing(Exception):
    pass


def _need(x: Any, what: str) -> Any:
    if x is None:
        raise Missing(what)
    return x


def _metrics(spec: str) -> List[str]:
    return spec.split("+")


class Figures:
    def __init__(self, df: pd.DataFrame, facts: Mapping[str, Any],
                 meta: Mapping[str, Any]) -> None:
        self.df, self.facts, self.meta = df, facts, meta

    # each returns the text that replaces the placeholder
    def icount(self, v: str, bench: str, metric: str, params: str = "") -> str:
        return fmt_dist(_need(sel.seed_dist(self.df, v, bench, metric, params),
                              f"{v} {bench} {metric}"))

    def kilo(self, v: str, bench: str, metric: str) -> str:
        x = _need(sel.icount_value(self.df, v, bench, metric), f"{v} {bench} {metric}")
        return f"{x / 1000:.0f} k"

    def switch(self, v: str, ws: str = "0") -> str:
        x = _need(sel.ctx_switch_insns(self.df, v, ws=int(ws)), f"{v} switch")
        return fmt_num(x[0])

    def wall_us(self, v: str, bench: str) -> str:
        s = _need(sel.stats(sel.wall_values(self.df, v, bench)), f"{v} {bench} wall")
        return f"{s.median / 1000:.1f}"

    def tlb(self, preset: str, v: str, bench: str, metrics: str, params: str = "") -> str:
        vals = [sel.tlb_value(self.df, v, bench, m, preset, params) for m in _metrics(metrics)]
        return fmt_num(sum(_need(x, f"{v} {bench} {metrics} {preset}") for x in vals))

    def tlbswitch(self, preset: str, v: str, metrics: str) -> str:
        vals = [sel.ctx_switch_tlb(self.df, v, m, preset) for m in _metrics(metrics)]
        return fmt_num(sum(_need(x, f"{v} switch {metrics} {preset}")[0] for x in vals))

    def loc(self, v: str) -> str:
        from .report.complexity import scheme_loc
        return fmt_num(_need(scheme_loc(self.facts, v), f"{v} loc"))

    def perf(self, v: str) -> str:
        mine = _need(perf_insns(self.df, v), f"{v} perf")
        ref = _need(perf_insns(self.df, "s2-" + v.split("-", 1)[1]), f"{v} perf reference")
        return f"{geomean([mine[k] / ref[k] for k in mine]):.2f}×"

    def whole(self, v: str, metric: str = "insns_per_op") -> str:
        """The whole yield to another process (bench_ctx ws 0, 2 processes, raw) per switch."""
        x = _need(sel.ctx_switch_insns(self.df, v, metric, subtract=False), f"{v} whole yield")
        return fmt_num(x[0])

    def wholecycles(self, preset: str, v: str) -> str:
        x = _need(sel.ctx_switch_tlb(self.df, v, "tlb_model_cycles_per_op", preset,
                                     subtract=False), f"{v} whole-yield cycles {preset}")
        return fmt_num(x[0])

    def tablepreset(self) -> str:
        from .report.figures import table_preset
        return _need(table_preset(self.df, self.facts), "a TLB preset")

    def tlbw(self, preset: str, v: str, key: str, what: str = "misses") -> str:
        """A TLB workload (harness.tlb.TLB_WORKLOADS key) of v under preset: L1 I+D misses per
        op, or its modelled cycles ("cycles"), or the params it used ("label")."""
        from .report.figures import table_preset, tlb_workload_figs
        if preset == "table":
            preset = _need(table_preset(self.df, self.facts), "a TLB preset")
        f = next((f for f in tlb_workload_figs(self.df, v, preset) if f.w.key == key), None)
        f = _need(f, f"{v} {key} {preset}")
        if what == "label":
            return f.label
        if what == "cycles":
            return fmt_num(_need(f.cycles, f"{v} {key} cycles"))
        return fmt_num(f.misses)

    def kaslr(self, v: str, key: str) -> str:
        k = _need((self.facts["variants"].get(v) or {}).get("kaslr"), f"{v} kaslr")
        x = _need(k.get(key), f"{v} kaslr {key}")
        return fmt_num(x) if not isinstance(x, float) else f"{x:.2f}"

    def meta(self, path: str) -> str:
        x: Any = self.meta
        for part in path.split("."):
            x = _need(x.get(part) if isinstance(x, Mapping) else None, f"metadata {path}")
        if isinstance(x, list):
            return ", ".join(map(str, x))
        return fmt_num(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else str(x)

    def verdict(self, row: str) -> str:
        """comparison.md's Agree? cell and Reason for one row (its rules, default tolerances)."""
        from .report.claims import DEFAULT_TOLERANCES, ROWS
        from .report.markdown import _render_row
        spec = next((r for r in ROWS if r.key == row), None)
        _need(spec, f"table row {row!r}")
        line = _render_row(spec, self.df, self.facts, dict(DEFAULT_TOLERANCES))
        word, reason = line.rstrip().rstrip("|").rstrip().rsplit(" | ", 2)[-2:]
        return f"**{word}**: {reason}"

    # -- sentences chosen by the data (issue 15 item 6); harness/tests/test_docs.py checks each
    #    claim against the CSV independently

    def summary(self) -> str:
        """comparison.md's summary table, as generated there."""
        from .report.summary import render_summary
        lines = render_summary(self.df, self.facts, self._rob())
        return "\n".join(lines[2:]).rstrip()  # without its "## Summary" heading

    def _rob(self) -> Any:
        if not hasattr(self, "_rob_cache"):
            from .report.summary import summary_rows
            self._rob_cache = summary_rows(self.df, self.facts)
        return self._rob_cache

    def verdictshort(self, row: str) -> str:
        """The summary's verdict for one row with its robustness."""
        from .report.summary import verdict_cell
        r = next((r for r in self._rob() if r.key == row), None)
        r = _need(r, f"summary row {row!r}")
        return f"**{verdict_cell(r)}**, {r.summary(limit=1)}"

    def relation(self, a: float, b: float) -> str:
        return "more" if a > b else ("fewer" if a < b else "as many")

    def pollution(self, preset: str, pages: str) -> str:
        """Does scheme 1 with ASIDs lose more of the user's entries than scheme 2 (bench_tlb,
        user-mode L1 misses per iteration)?"""
        p = f"pages={pages}"
        one = _need(sel.tlb_value(self.df, "s1-asid", "bench_tlb", "tlb_user_misses_per_op",
                                  preset, p), f"s1-asid bench_tlb {p} {preset}")
        two = _need(sel.tlb_value(self.df, "s2-asid", "bench_tlb", "tlb_user_misses_per_op",
                                  preset, p), f"s2-asid bench_tlb {p} {preset}")
        rel = self.relation(one, two)
        text = (f"at K = {pages} pages scheme 1 with ASIDs loses {rel} of the user's entries "
                f"{'than' if rel != 'as many' else 'as'} scheme 2 ({fmt_num(one)} against "
                f"{fmt_num(two)} user-mode L1 misses per iteration)")
        if one > two:
            return text + ": the document's \"TLB pollution\" of scheme 1 shows here"
        return text + ": no pollution by scheme 1 shows here"

    def asids(self, preset: str) -> str:
        from .tlb import PRESETS
        info = _need(PRESETS.get(preset), f"preset {preset}")
        if info.asid_bits == 0:
            return (f"{preset} has no ASIDs (its ASID and no-ASID variants run the same "
                    f"flushing code)")
        return f"{preset} has {info.asid_bits} ASID bits"

    def usermisses(self, preset: str) -> str:
        """User-mode L1 misses per null call after warm-up, per scheme (ASID variants)."""
        vals = {k: _need(sel.tlb_value(self.df, f"s{k}-asid", "bench_null",
                                       "tlb_user_misses_per_op", preset, ""), f"s{k} null")
                for k in (1, 2, 3)}
        none = [k for k, x in vals.items() if x == 0]
        text = ", ".join(f"{fmt_num(x)} (scheme {k})" for k, x in vals.items())
        if len(none) == 3:
            return text + ": no scheme loses a user entry on a null call"
        return text + ": " + " and ".join(f"scheme {k}" for k in vals if k not in none) + \
            " lose" + ("s" if len(vals) - len(none) == 1 else "") + " user entries on a null call"

    def probesentence(self, v: str, preset: str) -> str:
        pr = _need(((self.facts["variants"].get(v) or {}).get("tlb_probe") or {}).get(preset),
                   f"{v} probe {preset}")
        own, other = bool(pr.get("probe_own_slot_hit")), bool(pr.get("probe_other_process_hit"))
        n = pr.get("own_slot_probes")
        if own and not other:
            s = ("finds the kernel's translation at the process's own slot and not at another "
                 "process's")
        elif own and other:
            s = "finds the kernel's translation at both the own and another process's address"
        elif not own and not other:
            s = "finds no kernel translation"
        else:
            s = "finds a kernel translation only at another process's address"
        return s + f" ({preset}, {n} trial{'s' if n != 1 else ''} per address)"

    def same(self, v1: str, v2: str, bench: str, metric: str) -> str:
        a = _need(sel.icount_value(self.df, v1, bench, metric), f"{v1} {bench} {metric}")
        b = _need(sel.icount_value(self.df, v2, bench, metric), f"{v2} {bench} {metric}")
        word = "do not change" if math.isclose(a, b, rel_tol=1e-9) else "change"
        return f"{word} ({fmt_num(a)} against {fmt_num(b)})"

    def seeds(self) -> str:
        s = sorted({int(x) for x in self.df["kaslr_seed"].dropna().unique()})
        return ", ".join(map(str, s)) if s else "none (a run without kaslr_seed)"


FUNCTIONS: Dict[str, Callable[..., str]] = {
    name: getattr(Figures, name) for name in
    ("icount", "kilo", "switch", "wall_us", "tlb", "tlbswitch", "loc", "perf", "kaslr", "meta",
     "seeds", "verdict", "whole", "wholecycles", "tablepreset", "tlbw", "summary",
     "verdictshort", "pollution", "asids", "usermisses", "probesentence", "same")}


def render(template: str, df: pd.DataFrame, facts: Mapping[str, Any],
           meta: Mapping[str, Any]) -> str:
    figs = Figures(df, facts, meta)
    problems: List[str] = []

    def sub(m: "re.Match[str]") -> str:
        name, *args = m.group(1).strip().split(":")
        fn = FUNCTIONS.get(name)
        if fn is None:
            problems.append(f"unknown placeholder function {name!r} in {{{{{m.group(1)}}}}}")
            return m.group(0)
        try:
            return fn(figs, *args)
        except (Missing, KeyError, TypeError, ValueError) as exc:
            problems.append(f"{{{{{m.group(1)}}}}}: no data ({exc})")
            return m.group(0)

    text = PLACEHOLDER.sub(sub, template)
    if problems:
        raise UserError("docs/results.md.in: " + "; ".join(problems))
    return HEADER + text


def render_from(results: Path, template: Path) -> str:
    from .tidy import read_csv
    for name in ("measurements.csv", "facts.json", "metadata.json"):
        if not (results / name).is_file():
            raise UserError(f"{results}: no {name}")
    from .outputs import report_facts
    return render(template.read_text(), read_csv(results / "measurements.csv"),
                  report_facts(json.loads((results / "facts.json").read_text()), results),
                  json.loads((results / "metadata.json").read_text()))
