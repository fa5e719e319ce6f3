"""The summary that opens comparison.md: one short line per dimension (issue 15 items 1, 2),
and a few generated sentences of findings. Every cell is a figure and a word (≤ 120 chars)."""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Mapping, Sequence

import pandas as pd

from .claims import DEFAULT_TOLERANCES, ROWS, RowSpec, SCHEMES
from .figures import table_preset
from .ranking import compare
from .robustness import BASIS, Robustness, robustness, row_tol

MAX_CELL = 120
SHORT_TITLES = {"latency": "Trap/syscall latency", "switch": "Process switch",
                "security": "Security (threat a)", "complexity": "Complexity",
                "performance": "Performance", "memory": "Memory (PT pages)",
                "tlb": "TLB behaviour"}


def _cmp(spec: RowSpec, tol: float) -> Callable[[float, float], int]:
    relative = spec.key != "security"

    def cmp(a: float, b: float) -> int:
        return compare(a, b, lower_is_better=spec.lower_is_better,
                       tol=tol if relative else DEFAULT_TOLERANCES["security"], relative=relative)
    return cmp


def order_text(keys: Sequence[int], better: Callable[[int, int], int]) -> str:
    """`S2 > S3 = S1`: best first; `=` where neighbours tie."""
    import functools
    ks = sorted(keys, key=functools.cmp_to_key(lambda a, b: -better(a, b)))
    out = f"S{ks[0]}"
    for a, b in zip(ks, ks[1:]):
        out += (" = " if better(a, b) == 0 else " > ") + f"S{b}"
    return out


def doc_order(spec: RowSpec) -> str:
    rated = [k for k in SCHEMES if spec.doc[k].order is not None]
    text = order_text(rated, lambda a, b: (spec.doc[a].order or 0) - (spec.doc[b].order or 0))
    unstated = [k for k in SCHEMES if k not in rated]
    return text + "".join(f" (S{k} not stated)" for k in unstated)


def measured_order(spec: RowSpec, scores: Mapping[int, float], tol: float) -> str:
    if len(scores) < 2:
        return "not measured"
    cmp = _cmp(spec, tol)
    return order_text(list(scores), lambda a, b: cmp(scores[a], scores[b]))


def margin(spec: RowSpec, scores: Mapping[int, float], tol: float,
           facts: Mapping[str, Any]) -> str:
    if not scores:
        return "–"
    if spec.key == "security":
        def b(x: float) -> str:
            return "not mapped" if math.isinf(x) else f"{x:.1f} bits"
        k3 = (facts.get("variants", {}).get("s3-asid") or {}).get("kaslr") or {}
        n = len(k3.get("slots") or [])
        note = (f" (n={n}, collision est.)" if k3.get("draws") == "seq" else
                f" (n={n}: lower bound)" if n else "")
        return ", ".join(f"S{k} {b(scores[k])}" for k in sorted(scores)) + note
    if spec.key == "memory":
        return ", ".join(f"S{k} {scores[k]:g}" for k in sorted(scores)) + " pages"
    if 2 not in scores or scores[2] == 0:
        return ", ".join(f"S{k} {scores[k]:.4g}" for k in sorted(scores))
    ratios = ", ".join(f"S{k}/S2 = {scores[k] / scores[2]:.3f}" for k in sorted(scores)
                       if k != 2)
    return f"{ratios}, tie band ±{tol * 100:g} %"


def basis(spec: RowSpec, df: pd.DataFrame, facts: Mapping[str, Any]) -> str:
    b = BASIS[spec.key]
    if b.startswith("model") or "model" in b:
        return b.replace("model", f"model ({table_preset(df, facts)})", 1)
    return b


def verdict_cell(r: Robustness) -> str:
    w = r.default.verdict.word
    return f"*depends* ({w} by default)" if r.flips else w


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "…"


def summary_rows(df: pd.DataFrame, facts: Mapping[str, Any]) -> List[Robustness]:
    return [robustness(df, facts, spec.key) for spec in ROWS]


def render_summary(df: pd.DataFrame, facts: Mapping[str, Any],
                   results: Sequence[Robustness]) -> List[str]:
    out = ["## Summary", "",
           "| Dimension | Document | Measured | Verdict | Basis | Margin | Robustness |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for spec, r in zip(ROWS, results):
        sc = r.default.scores
        t = row_tol(spec.key)
        cells = [SHORT_TITLES[spec.key], doc_order(spec), measured_order(spec, sc, t),
                 verdict_cell(r), basis(spec, df, facts), margin(spec, sc, t, facts),
                 r.summary()]
        out.append("| " + " | ".join(_clip(c).replace("|", "\\|") for c in cells) + " |")
    out += ["",
            "*Basis*: `icount` = instructions measured under `-icount` (exact, repeatable); "
            "`model` = the one cost model (below) on the TLB model's counts under the named "
            "preset; `design` = follows from the scheme's construction. QEMU wall time is never "
            "a basis. *Robustness*: the default verdict under every analysis choice of "
            "`robustness.csv` (one factor changed at a time); *depends* = some choice changes "
            "it, the first such choices named.", ""]
    return out


def findings(df: pd.DataFrame, facts: Mapping[str, Any],
             results: Sequence[Robustness]) -> List[str]:
    """A few sentences chosen by the data."""
    out = ["## Findings", ""]
    for spec, r in zip(ROWS, results):
        sc = r.default.scores
        if len(sc) < 2:
            out.append(f"- {SHORT_TITLES[spec.key]}: not measured.")
            continue
        measured = measured_order(spec, sc, row_tol(spec.key))
        w = r.default.verdict.word
        if not r.flips:
            how = f"in all {len(r.measured)} analysis choices"
        else:
            groups: Dict[str, List[str]] = {}
            for c, v, fw in r.flips:
                groups.setdefault(c, []).append(f"{v} ({fw})")
            how = (f"in {r.holds} of {len(r.measured)} choices; it changes with "
                   + "; ".join(f"{c} {', '.join(vs)}" for c, vs in groups.items()))
        verb = {"agree": "agrees with", "partly": "partly agrees with",
                "disagree": "disagrees with"}.get(w, "cannot be compared with")
        out.append(f"- {SHORT_TITLES[spec.key]}: measured {measured} ({basis(spec, df, facts)})"
                   f", which {verb} the document's {doc_order(spec)} {how}.")
    out.append("")
    return out
