"""The design document's final comparison table, regenerated from measurements.

`render_comparison(df, facts)` is a pure function: the tidy measurement DataFrame (see tidy.py)
and the facts dict (see facts.py) in, markdown out. No clock, no file system, no QEMU.

For each dimension and scheme a cell holds the measured figure(s) of the ASID and no-ASID
variants, the ranking derived from the figures (best / middle / worst, ties within a stated
tolerance) and the document's own rating; the last columns say whether the measurement agrees
with the document and why, in one line. The ranking uses the scheme's ASID variant (the
default configuration), or the no-ASID variant when the ASID one has no data.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import pandas as pd

from . import select as sel
from .facts import varying_bits

SCHEMES = (1, 2, 3)
SCHEME_TITLES = {1: "Scheme 1 (separate table)", 2: "Scheme 2 (shared, same VA)",
                 3: "Scheme 3 (shared, per-process VA)"}

DEFAULT_TOLERANCES: Dict[str, float] = {
    "latency": 0.02,      # relative: within 2 % is a tie
    "switch": 0.02,
    "security": 0.5,      # absolute, in bits of kernel-address entropy
    "complexity": 0.10,   # relative, lines of code
    "performance": 0.02,
    "memory": 0.0,        # absolute, page-table pages
}
RELATIVE = {"latency", "switch", "complexity", "performance"}


@dataclass(frozen=True)
class DocRating:
    zh: str
    en: str
    order: int  # higher is better in this dimension

    def text(self) -> str:
        return f"{self.zh} ({self.en})" if self.zh != self.en else self.en


@dataclass(frozen=True)
class RowSpec:
    key: str
    title: str
    doc: Mapping[int, DocRating]
    lower_is_better: bool
    unit: str
    doc_ties_claimed: bool = True  # a document tie is a claim of equality


ROWS: List[RowSpec] = [
    RowSpec("latency", "Trap/syscall latency (陷阱/系统调用延迟)",
            {1: DocRating("最差", "worst", 1), 2: DocRating("最佳", "best", 3),
             3: DocRating("好", "good", 2)}, True, "insns"),
    RowSpec("switch", "Process-switch cost (切换进程开销)",
            {1: DocRating("差", "poor", 1), 2: DocRating("最佳", "best", 3),
             3: DocRating("好", "good", 2)}, True, "insns"),
    RowSpec("security", "Security/isolation (安全性/隔离性)",
            {1: DocRating("高", "high", 2), 2: DocRating("低", "low", 1),
             3: DocRating("最高", "highest", 3)}, False, "bits"),
    RowSpec("complexity", "Implementation complexity (实现复杂性)",
            {1: DocRating("低", "low", 2), 2: DocRating("低", "low", 2),
             3: DocRating("高", "high", 1)}, True, "LOC"),
    RowSpec("performance", "Performance (性能)",
            {1: DocRating("低", "low", 1), 2: DocRating("高", "high", 3),
             3: DocRating("中/高", "medium/high", 2)}, True, "× S2"),
    RowSpec("memory", "Memory overhead (内存开销; not in the document's final table)",
            {1: DocRating("缺点: 内存开销", "text: a con", 1),
             2: DocRating("未列为缺点", "text: not a con", 2),
             3: DocRating("缺点: 每进程内核页表", "text: a con (per-process kernel tables)", 1)},
            True, "PT pages", doc_ties_claimed=False),
]


@dataclass
class Figure:
    """One variant's figure for one dimension."""
    score: Optional[float]          # what the ranking uses (None: not measured)
    text: str                       # what the cell shows
    alt: Optional[float] = None     # secondary ranking value (wall ns), if any
    notes: List[str] = field(default_factory=list)


# ------------------------------------------------------------------ formatting

def fmt_num(v: float) -> str:
    if math.isinf(v):
        return "∞"
    if float(v).is_integer():
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_wall(s: sel.WallStats) -> str:
    return f"{fmt_num(s.median)} ns median ({fmt_num(s.min)}–{fmt_num(s.max)}, n={s.n})"


# ------------------------------------------------------------------ the figures

def _variant_names(scheme: int) -> Tuple[str, str]:
    return f"s{scheme}-asid", f"s{scheme}-noasid"


def fig_latency(df: pd.DataFrame, facts: Mapping[str, Any], v: str) -> Figure:
    insns = sel.icount_value(df, v, "bench_null", "insns_per_op")
    wall = sel.stats(sel.wall_values(df, v, "bench_null"))
    if insns is None and wall is None:
        return Figure(None, "not measured")
    parts = []
    if insns is not None:
        parts.append(f"{fmt_num(insns)} insns")
    if wall is not None:
        parts.append(fmt_wall(wall))
    return Figure(insns, "; ".join(parts), alt=wall.median if wall else None)


def fig_switch(df: pd.DataFrame, facts: Mapping[str, Any], v: str) -> Figure:
    ins = sel.ctx_switch_insns(df, v)
    wall = sel.ctx_switch_wall(df, v)
    if ins is None and wall is None:
        return Figure(None, "not measured")
    parts = []
    subtracted = (ins[1] if ins else False) or (wall[1] if wall else False)
    if ins is not None:
        parts.append(f"{fmt_num(ins[0])} insns")
    if wall is not None:
        parts.append(fmt_wall(wall[0]))
    text = "; ".join(parts) + ("" if subtracted else " †")
    return Figure(ins[0] if ins else None, text, alt=wall[0].median if wall else None)


def security_score(vf: Mapping[str, Any]) -> Tuple[Optional[float], str]:
    mapped = vf.get("kernel_mapped_in_user")
    if mapped is None:
        return None, "not measured"
    if mapped is False:
        return math.inf, "kernel not mapped in user tables"
    k = vf.get("kaslr")
    if not k:
        return None, "kernel mapped in user tables; not measured (no kaslr_probe run)"
    n, distinct = int(k["processes"]), int(k["distinct"])
    if distinct <= 1:
        return 0.0, f"kernel mapped; same kernel VA in {n}/{n} processes (0 bits)"
    theory: Optional[float] = None
    source = ""
    if k.get("kernel_entropy_bits") is not None:
        theory, source = float(k["kernel_entropy_bits"]), "kernel-reported"
    elif k.get("kernel_slots"):
        theory, source = math.log2(k["kernel_slots"]), f"log2 of {k['kernel_slots']} slots"
    elif k.get("documented_slots"):
        theory, source = (math.log2(k["documented_slots"]),
                          f"log2 of {k['documented_slots']} documented slots")
    est, est_text = varying_bits(list(k.get("slots", [])))
    text = f"kernel mapped; {distinct}/{n} distinct slots"
    score: Optional[float] = theory
    if est is not None:
        # The observation caps the claim: a source cannot have more bits than vary.
        score = float(est) if score is None else min(score, float(est) + 1.0)
    if theory is not None:
        text += f"; {theory:.1f} bits ({source})"
    text += f"; {est_text}"
    if score is None:
        score = math.log2(distinct)  # the least the observation supports
        text += f"; ≥ {score:.1f} bits observed"
    return score, text


def fig_security(df: pd.DataFrame, facts: Mapping[str, Any], v: str) -> Figure:
    vf = facts.get("variants", {}).get(v, {})
    score, text = security_score(vf)
    return Figure(score, text)


def fig_complexity(df: pd.DataFrame, facts: Mapping[str, Any], v: str) -> Figure:
    vf = facts.get("variants", {}).get(v, {})
    loc = vf.get("loc") or {}
    src, trap = loc.get("scheme_src"), loc.get("trap_s_specific")
    insns = sel.icount_value(df, v, "bench_null", "insns_per_op")
    if src is None:
        return Figure(None, "not measured" + (f"; trap path {fmt_num(insns)} insns"
                                               if insns is not None else ""))
    total = src + (trap or 0)
    name = str(loc.get("scheme_file", "")).rsplit("/", 1)[-1]
    text = (f"{total} LOC ({name} {src} + trap.S {trap if trap is not None else 'n/a'})")
    if insns is not None:
        text += f"; trap path {fmt_num(insns)} insns"
    return Figure(float(total), text)


PERF_PARTS = ("bench_null", "bench_ctx", "bench_fork")


def perf_insns(df: pd.DataFrame, v: str) -> Optional[Dict[str, float]]:
    null = sel.icount_value(df, v, "bench_null", "insns_per_op")
    ctx = sel.ctx_switch_insns(df, v, subtract=False)
    fork = sel.icount_value(df, v, "bench_fork", "insns_per_op")
    if null is None or ctx is None or fork is None:
        return None
    return {"bench_null": null, "bench_ctx": ctx[0], "bench_fork": fork}


def geomean(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(x) for x in values) / len(values))


def fig_performance(df: pd.DataFrame, facts: Mapping[str, Any], v: str) -> Figure:
    mine = perf_insns(df, v)
    if mine is None or any(x <= 0 for x in mine.values()):
        return Figure(None, "not measured")
    asid = v.endswith("-asid")
    refs = ["s2-asid", "s2-noasid"] if asid else ["s2-noasid", "s2-asid"]
    ref = None
    for r in refs:
        ref = perf_insns(df, r)
        if ref is not None and all(x > 0 for x in ref.values()):
            ref_name = r
            break
        ref = None
    raw = geomean(list(mine.values()))
    if ref is None:
        return Figure(raw, f"geomean {fmt_num(raw)} insns (no scheme-2 reference)")
    ratio = geomean([mine[k] / ref[k] for k in PERF_PARTS])
    return Figure(raw, f"{ratio:.2f}× {ref_name}")


def fig_memory(df: pd.DataFrame, facts: Mapping[str, Any], v: str) -> Figure:
    src = _memory_bench(df)
    if src is None:
        return Figure(None, "not measured")
    pt = sel.icount_value(df, v, src, "pt_pages", "")
    if pt is None:
        return Figure(None, "not measured")
    kern = sel.icount_value(df, v, src, "pt_pages_kernel", "")
    text = f"{fmt_num(pt)} PT pages/process"
    if kern is not None:
        text += f" ({fmt_num(kern)} kernel-only)"
    return Figure(pt, text + f" [{src}]")


def _memory_bench(df: pd.DataFrame) -> Optional[str]:
    """The bench whose pt_pages is known for the most variants (bench_null first on a tie)."""
    r = df[(df["mode"] == "icount") & (df["metric"] == "pt_pages")]
    if r.empty:
        return None
    counts = r.groupby("bench")["variant"].nunique()
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] != "bench_null", kv[0]))
    return str(best[0][0])


FIGURES: Dict[str, Callable[[pd.DataFrame, Mapping[str, Any], str], Figure]] = {
    "latency": fig_latency, "switch": fig_switch, "security": fig_security,
    "complexity": fig_complexity, "performance": fig_performance, "memory": fig_memory,
}


# ------------------------------------------------------------------ ranking

def compare(a: float, b: float, *, lower_is_better: bool, tol: float, relative: bool) -> int:
    """+1 if a is better than b, -1 if worse, 0 if tied within the tolerance."""
    if a == b:
        return 0
    if math.isinf(a) or math.isinf(b):
        better = a < b if lower_is_better else a > b
        return 1 if better else -1
    diff = abs(a - b)
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
    keys = sorted(scores)
    if len(keys) < 2:
        return Verdict("n/a", "fewer than two schemes measured")
    reversed_: List[str] = []
    weaker: List[str] = []
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            da, db = spec.doc[a].order, spec.doc[b].order
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
    if reversed_:
        more = f" (+{len(reversed_) - 1} more)" if len(reversed_) > 1 else ""
        return Verdict("disagree", reversed_[0] + more + suffix)
    if weaker:
        more = f" (+{len(weaker) - 1} more)" if len(weaker) > 1 else ""
        return Verdict("partly", weaker[0] + more + suffix)
    order = sorted(keys, key=lambda k: scores[k], reverse=not spec.lower_is_better)
    return Verdict("agree", "measured order best→worst S" + ", S".join(map(str, order))
                   + " matches the document's ratings" + suffix)


# ------------------------------------------------------------------ rendering

def _variant_state(facts: Mapping[str, Any], v: str) -> str:
    vf = facts.get("variants", {}).get(v)
    if vf is None:
        return "not run"
    return "built" if vf.get("built") else "not built"


def render_comparison(df: pd.DataFrame, facts: Mapping[str, Any],
                      tolerances: Optional[Mapping[str, float]] = None) -> str:
    tol = dict(DEFAULT_TOLERANCES)
    tol.update(tolerances or {})
    out: List[str] = []
    out.append("# Kernel VM schemes: the design document's comparison, measured")
    out.append("")
    out.append("Regenerated by `python3 -m harness` from `measurements.csv` and `facts.json` "
               "(see docs/harness.md). Each scheme cell: the figures of the ASID variant and "
               "the no-ASID variant, the ranking derived from the figures "
               "(**measured**), and the design document's rating (**doc**). Rankings use the "
               "ASID variant (the default configuration); ties are within the row's stated "
               "tolerance. *not built* = the variant failed to build; *not measured* = built "
               "but the data is absent.")
    out.append("")
    header = ["Dimension"] + [SCHEME_TITLES[s] for s in SCHEMES] + ["Agree?", "Reason"]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "|".join([" --- "] * len(header)) + "|")
    for spec in ROWS:
        out.append(_render_row(spec, df, facts, tol))
    out.append("")
    if any(" †" in line for line in out):
        out.append("† no 1-process bench_ctx baseline found: the per-switch figure is not net "
                   "of the same-process overhead.")
        out.append("")
    out.append(_render_definitions(tol))
    out.append(_render_details(df, facts))
    return "\n".join(out).rstrip() + "\n"


def _tol_text(key: str, tol: Mapping[str, float], unit: str) -> str:
    if tol[key] == 0:
        return "only when equal"
    if key in RELATIVE:
        return f"within {tol[key] * 100:g}%"
    return f"within {tol[key]:g} {unit}"


def _render_row(spec: RowSpec, df: pd.DataFrame, facts: Mapping[str, Any],
                tol: Mapping[str, float]) -> str:
    fig_fn = FIGURES[spec.key]
    relative = spec.key in RELATIVE

    def cmp(a: float, b: float) -> int:
        return compare(a, b, lower_is_better=spec.lower_is_better, tol=tol[spec.key],
                       relative=relative)

    def cmp_alt(a: float, b: float) -> int:
        return compare(a, b, lower_is_better=True, tol=tol[spec.key], relative=True)

    cells: Dict[int, List[str]] = {}
    scores: Dict[int, float] = {}
    alts: Dict[int, float] = {}
    primary: Dict[int, str] = {}
    for s in SCHEMES:
        lines: List[str] = []
        for v in _variant_names(s):
            state = _variant_state(facts, v)
            label = "asid" if v.endswith("-asid") else "noasid"
            if state != "built":
                lines.append(f"{label}: *{state}*")
                continue
            fig = fig_fn(df, facts, v)
            text = fig.text if fig.score is not None or fig.text != "not measured" \
                else "*not measured*"
            lines.append(f"{label}: {text}")
            if fig.score is not None and s not in scores:
                scores[s] = fig.score
                primary[s] = label
                if fig.alt is not None:
                    alts[s] = fig.alt
        cells[s] = lines
    labels = rank_labels(scores, cmp)
    alt_labels = rank_labels(alts, cmp_alt) if len(alts) == len(scores) and alts else {}
    rendered = []
    for s in SCHEMES:
        lines = cells[s]
        if s in labels:
            m = f"**measured: {labels[s]}**"
            if primary[s] != "asid":
                m += " (from noasid)"
            if s in alt_labels and alt_labels[s] != labels[s]:
                m += f" (wall ns: {alt_labels[s]})"
        else:
            states = {_variant_state(facts, v) for v in _variant_names(s)}
            m = "**measured: not built**" if states == {"not built"} else \
                "**measured: not measured**"
        lines = lines + [m, f"doc: {spec.doc[s].text()}"]
        rendered.append("<br>".join(_escape(x) for x in lines))

    fmt = _score_format(spec)
    if not scores:
        verdict = Verdict("n/a", "not measured")
    else:
        verdict = judge(spec, scores, cmp, fmt, _tol_text(spec.key, tol, spec.unit))
    if verdict.word != "n/a" and alt_labels and any(alt_labels[s] != labels[s] for s in labels):
        verdict.reason += "; the wall-time ranking differs"
    return "| " + " | ".join([_escape(spec.title)] + rendered
                             + [verdict.word, _escape(verdict.reason)]) + " |"


def _score_format(spec: RowSpec) -> Callable[[float], str]:
    """How a ranking score is written in the Reason column."""
    if spec.key == "security":
        return lambda v: "kernel not mapped" if math.isinf(v) else f"{v:.1f} bits"
    if spec.key == "performance":
        return lambda v: f"geomean {fmt_num(v)} insns"
    return lambda v: fmt_num(v) + ("" if math.isinf(v) else f" {spec.unit}")


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _render_definitions(tol: Mapping[str, float]) -> str:
    t = {k: _tol_text(k, tol, u) for k, u in
         (("latency", "insns"), ("switch", "insns"), ("security", "bits"),
          ("complexity", "LOC"), ("performance", ""), ("memory", "pages"))}
    return "\n".join([
        "## How each row is measured",
        "",
        f"- **Trap/syscall latency**: `bench_null` instructions per call from the `-icount` run "
        f"(deterministic; ranked on this, tie {t['latency']}), and the median wall ns of the "
        f"repeated runs without icount (min–max, n runs).",
        f"- **Process-switch cost**: `bench_ctx` at working set 0, per switch, minus the "
        f"1-process (same-process) measurement of the same run; ranked on instructions, tie "
        f"{t['switch']}.",
        f"- **Security/isolation**: whether the kernel is mapped in user page tables (scheme "
        f"design), whether every process sees the same kernel VA (`kaslr_probe 64`: one `@slot` "
        f"per process) and the entropy of the per-process slot (kernel-reported, else log2 of the "
        f"documented slot count, capped by the number of slot-index bits that vary across the observed processes). "
        f"Ranking: no kernel mapping in user tables > randomized slot (more bits better) > the "
        f"same VA everywhere; tie {t['security']}.",
        f"- **Implementation complexity**: non-blank, non-comment lines of the scheme's "
        f"`kernel/scheme/*.cpp` plus the scheme-specific part of the generated `trap.S`; the "
        f"trap-path instruction count is shown beside it. Tie {t['complexity']}.",
        f"- **Performance**: geometric mean of the icount instructions of `bench_null`, "
        f"`bench_ctx` (working set 0, raw) and `bench_fork`, shown normalised to scheme 2 "
        f"(same ASID setting); tie {t['performance']}.",
        f"- **Memory overhead**: page-table pages of one process (`@mem` line or `pt_pages` key "
        f"of a benchmark); tie {t['memory']}. Not in the document's final table: its text lists "
        f"memory overhead as a con of schemes 1 and 3, and the document's rating column here "
        f"reflects that.",
        "- **Agree?**: *agree* when every pair the document orders is measured in the same "
        "order (and pairs it rates alike tie); *partly* when no pair is reversed but one is "
        "tied or separated against the document; *disagree* when a pair is reversed.",
        "",
    ])


def _render_details(df: pd.DataFrame, facts: Mapping[str, Any]) -> str:
    out = ["## Per-variant figures", ""]
    cols = ["variant", "state", "null insns", "null ns (median, min–max)",
            "ctx ws=0 insns/switch", "fork insns", "satp/op (null)", "sfence/op (null)",
            "traps/op (null)"]
    out.append("| " + " | ".join(cols) + " |")
    out.append("|" + "|".join([" --- "] * len(cols)) + "|")
    names = [f"s{s}-{a}" for s in SCHEMES for a in ("asid", "noasid")]
    for v in names:
        state = _variant_state(facts, v)
        cells = [v, state]

        def ic(bench: str, metric: str) -> str:
            x = sel.icount_value(df, v, bench, metric)
            return "–" if x is None else fmt_num(x)

        wall = sel.stats(sel.wall_values(df, v, "bench_null"))
        ctx = sel.ctx_switch_insns(df, v)
        cells += [ic("bench_null", "insns_per_op"),
                  "–" if wall is None else
                  f"{fmt_num(wall.median)} ({fmt_num(wall.min)}–{fmt_num(wall.max)})",
                  "–" if ctx is None else fmt_num(ctx[0]) + ("" if ctx[1] else " †"),
                  ic("bench_fork", "insns_per_op"), ic("bench_null", "satp_per_op"),
                  ic("bench_null", "sfence_per_op"), ic("bench_null", "traps_per_op")]
        out.append("| " + " | ".join(_escape(c) for c in cells) + " |")
    out.append("")
    problems = []
    for v in names:
        vf = facts.get("variants", {}).get(v)
        if vf is None:
            continue
        if not vf.get("built"):
            problems.append(f"- {v}: not built — {vf.get('build_error') or 'build failed'} "
                            f"(log: `{vf.get('build_log')}`)")
        for f in vf.get("run_failures", []):
            first = str(f.get("error", "")).splitlines()[0] if f.get("error") else "failed"
            problems.append(f"- {v} {f.get('bench')}: {first}")
    if problems:
        out += ["## Missing variants and failed runs", ""] + problems + [""]
    return "\n".join(out)
