"""Comparing figures, ranking the schemes and judging a measured order against the
document's (agree / partly / disagree)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping

from .claims import RELATIVE, RowSpec, SCHEMES
from .format import fmt_num


def compare(a: float, b: float, *, lower_is_better: bool, tol: float, relative: bool) -> int:
    """+1 if a is better than b, -1 if worse, 0 if tied within the tolerance."""
    if a == b:
        return 0
    if math.isinf(a) or math.isinf(b):
        better = a < b if lower_is_better else a > b
        return 1 if better else -1
    diff = abs(a - b)
    if diff <= 1e-9 * max(abs(a), abs(b)):
        return 0  # equal but for float rounding (a mean over seeds of equal counts)
    limit = tol * min(abs(a), abs(b)) if relative else tol
    if diff <= limit:
        return 0
    better = a < b if lower_is_better else a > b
    return 1 if better else -1


def rank_labels(scores: Mapping[int, float], cmp: Callable[[float, float], int]
                ) -> Dict[int, str]:
    """best / middle / worst from pairwise comparisons; 'tied' when all are within tolerance."""
    keys = list(scores)
    if len(keys) < 2:
        return {k: "n/a (only one scheme measured)" for k in keys}
    labels: Dict[int, str] = {}
    any_strict = any(cmp(scores[a], scores[b]) != 0 for a in keys for b in keys if a != b)
    for k in keys:
        others = [o for o in keys if o != k]
        better_than_me = any(cmp(scores[o], scores[k]) > 0 for o in others)
        worse_than_me = any(cmp(scores[o], scores[k]) < 0 for o in others)
        if not any_strict:
            labels[k] = "tied"
        elif not better_than_me and worse_than_me:
            labels[k] = "best"
        elif better_than_me and not worse_than_me:
            labels[k] = "worst"
        else:
            labels[k] = "middle"
    return labels


@dataclass
class Verdict:
    word: str   # agree / partly / disagree / n/a
    reason: str


def judge(spec: RowSpec, scores: Mapping[int, float], cmp: Callable[[float, float], int],
          fmt: Callable[[float], str], tol_text: str) -> Verdict:
    unstated = sorted(k for k in scores if spec.doc[k].order is None)
    keys = sorted(k for k in scores if spec.doc[k].order is not None)
    not_judged = "".join(f"; S{k} not judged: the document does not state its rating in this "
                         f"dimension (measured {fmt(scores[k])})" for k in unstated)
    if len(keys) < 2:
        if unstated:
            return Verdict("n/a", "fewer than two schemes with a document rating measured"
                           + not_judged)
        return Verdict("n/a", "fewer than two schemes measured")
    reversed_: List[str] = []
    weaker: List[str] = []
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            da, db = spec.doc[a].order, spec.doc[b].order
            assert da is not None and db is not None
            m = cmp(scores[a], scores[b])
            if da != db:
                hi, lo = (a, b) if da > db else (b, a)
                mm = m if hi == a else -m
                if mm < 0:
                    reversed_.append(
                        f"the document rates S{hi} ({spec.doc[hi].en}) above S{lo} "
                        f"({spec.doc[lo].en}) but S{lo} measures better "
                        f"({fmt(scores[lo])} vs {fmt(scores[hi])})")
                elif mm == 0:
                    weaker.append(f"the document rates S{hi} above S{lo} but they tie "
                                  f"({tol_text}: {fmt(scores[hi])} vs {fmt(scores[lo])})")
            elif spec.doc_ties_claimed and m != 0:
                good, bad = (a, b) if m > 0 else (b, a)
                weaker.append(f"the document rates S{a} and S{b} alike ({spec.doc[a].en}) but "
                              f"S{good} measures better ({fmt(scores[good])} vs "
                              f"{fmt(scores[bad])})")
    missing = [s for s in SCHEMES if s not in scores]
    suffix = f" (S{', S'.join(map(str, missing))} not measured)" if missing else ""
    suffix += not_judged
    if reversed_:
        more = f" (+{len(reversed_) - 1} more)" if len(reversed_) > 1 else ""
        return Verdict("disagree", reversed_[0] + more + suffix)
    if weaker:
        more = f" (+{len(weaker) - 1} more)" if len(weaker) > 1 else ""
        return Verdict("partly", weaker[0] + more + suffix)
    order = sorted(keys, key=lambda k: scores[k], reverse=not spec.lower_is_better)
    return Verdict("agree", "measured order best→worst S" + ", S".join(map(str, order))
                   + " matches the document's ratings" + suffix)


def _tol_text(key: str, tol: Mapping[str, float], unit: str) -> str:
    if tol[key] == 0:
        return "only when equal"
    if key in RELATIVE:
        return f"within {tol[key] * 100:g}%"
    return f"within {tol[key]:g} {unit}"


def _score_format(spec: RowSpec) -> Callable[[float], str]:
    """How a ranking score is written in the Reason column."""
    if spec.key == "security":
        return lambda v: "kernel not mapped" if math.isinf(v) else f"{v:.1f} bits"
    if spec.key == "performance":
        return lambda v: f"geomean {fmt_num(v)}"
    if spec.key == "tlb":
        return lambda v: f"{v:.2f}× S2 L1 misses"
    return lambda v: fmt_num(v) + ("" if math.isinf(v) else f" {spec.unit}")
