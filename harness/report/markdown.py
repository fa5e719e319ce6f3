"""`render_comparison(df, facts)`: the comparison as markdown (pure: DataFrame and facts in,
text out; no clock, no file system, no QEMU)."""
from __future__ import annotations

import pandas as pd
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .. import crossover as xo
from .. import select as sel
from ..tlb import CYCLE_MODEL_SHORT, CYCLE_MODEL_TEXT, PRESET_TEXT, TLB_WORKLOADS
from ..variants import ordered_names
from .claims import DEFAULT_TOLERANCES, RELATIVE, ROWS, RowSpec, SCHEMES, SCHEME_TITLES, WORKLOADS, Workload
from .figures import FIGURES, _variant_names, first_preset, preset_label, table_preset, tlb_figures, tlb_missing_reason, tlb_workload_figs
from .format import _escape, _opt, _yes, fmt_dist, fmt_num
from .ranking import Verdict, _score_format, _tol_text, compare, judge, rank_labels
from .regions import REGIONS


def _workload_cell(df: pd.DataFrame, w: Workload, scheme: int
                   ) -> Tuple[Optional[float], str, Optional[str]]:
    """(instructions per op, cell text, params used) of one scheme."""
    v = f"s{scheme}{w.suffix}"
    for params in w.params:
        insns = sel.icount_value(df, v, w.bench, "insns_per_op", params)
        if insns is None:
            continue
        satp = sel.icount_value(df, v, w.bench, "satp_per_op", params)
        text = f"{fmt_num(insns)} insns"
        if satp is not None:
            text += f", {satp:.2f} satp/op"
        return insns, f"{text} [{v}]", params
    return None, f"not measured [{v}]", None


def render_workloads(df: pd.DataFrame, tol: Optional[Mapping[str, float]] = None) -> str:
    """The workloads table: per scheme instructions (and satp writes) per op, the ranking from the instructions, and whether it agrees with the
    design document's row for that kind of cost."""
    tols = dict(DEFAULT_TOLERANCES)
    tols.update(tol or {})
    if not any(_workload_cell(df, w, s)[0] is not None for w in WORKLOADS for s in SCHEMES):
        return ""  # a table without the workloads (plain bench_fork has no touched_kb line)
    specs = {s.key: s for s in ROWS}
    out = ["## Workloads (pipes, faults, fork size, applications)", "",
           "Instructions per operation from the -icount run (satp writes per op beside them; "
           "QEMU wall time is not hardware time and ranks nothing). Ranked by "
           f"instructions (ties within {tols['performance'] * 100:g} %); *doc row* is the "
           "design document's row that covers that kind of cost (process switch includes "
           "the pipe form; trap latency includes page faults; fork and the applications "
           "stand for performance). Fault and COW rows use the `-dc` variants "
           "(CONFIG_MEMORY_DEMAND, CONFIG_FORK_COW); the eager fork row the ASID variants.",
           ""]
    header = ["Workload"] + [f"S{s}" for s in SCHEMES] + ["Measured", "Doc row", "Agree?"]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "|".join([" --- "] * len(header)) + "|")
    for w in WORKLOADS:
        cells, scores, used = [], {}, set()
        for s in SCHEMES:
            score, text, params = _workload_cell(df, w, s)
            cells.append(_escape(text))
            if score is not None:
                scores[s] = score
                used.add(params)
        spec = specs[w.doc_row]
        title = w.title
        if used and not any(p == w.params[0] for p in used):
            title += f" (measured at {', '.join(sorted(p for p in used if p))} instead)"

        def cmp(a: float, b: float) -> int:
            return compare(a, b, lower_is_better=True, tol=tols["performance"], relative=True)
        labels = rank_labels(scores, cmp) if scores else {}
        measured = ", ".join(f"S{s} {labels[s]}" for s in SCHEMES if s in labels) or "—"
        doc = ", ".join(f"S{s} {spec.doc[s].en}" for s in SCHEMES)
        wspec = RowSpec(spec.key, spec.title, spec.doc, True, "insns")
        verdict = judge(wspec, scores, cmp, fmt_num,
                        f"within {tols['performance'] * 100:g} %")
        out.append("| " + " | ".join([_escape(title), *cells, measured,
                                      _escape(f"{spec.title.split(' (')[0]}: {doc}"),
                                      _escape(f"{verdict.word}: {verdict.reason}")]) + " |")
    out.append("")
    return "\n".join(out)


def _variant_state(facts: Mapping[str, Any], v: str) -> str:
    vf = facts.get("variants", {}).get(v)
    if vf is None:
        return "not run"
    return "built" if vf.get("built") else "not built"


def render_comparison(df: pd.DataFrame, facts: Mapping[str, Any],
                      tolerances: Optional[Mapping[str, float]] = None) -> str:
    return render_report(df, facts, tolerances)[0]


def render_report(df: pd.DataFrame, facts: Mapping[str, Any],
                  tolerances: Optional[Mapping[str, float]] = None) -> Tuple[str, str]:
    """(comparison.md, robustness.csv)."""
    from .robustness import robustness_csv
    from .security import detail as security_detail
    from .summary import findings, render_summary, summary_rows
    tol = dict(DEFAULT_TOLERANCES)
    tol.update(tolerances or {})
    rob = summary_rows(df, facts)
    out: List[str] = []
    out.append("# Kernel VM schemes: the design document's comparison, measured")
    out.append("")
    out.append("Regenerated by `/usr/bin/python3 -m harness` from `measurements.csv`, `facts.json` and "
               "`complexity.json` (see docs/harness.md); `harness verify` re-derives it from "
               "`results/` alone. The summary comes first; the per-variant detail, the regions "
               "and the methods follow.")
    out.append("")
    out += render_summary(df, facts, rob)
    out += findings(df, facts, rob)
    out.append("## Detail: per-scheme figures")
    out.append("")
    out.append("Each scheme cell: the figures of the ASID variant and the no-ASID variant, the "
               "ranking derived from the figures (**measured**), and the design document's "
               "rating (**doc**). Rankings use the ASID variant (the default configuration); "
               "ties are within the row's stated tolerance. *not built* = the variant failed to "
               "build; *not measured* = built but the data is absent.")
    out.append("")
    header = ["Dimension"] + [SCHEME_TITLES[s] for s in SCHEMES] + ["Agree?", "Reason"]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "|".join([" --- "] * len(header)) + "|")
    for spec in ROWS:
        out.append(_render_row(spec, df, facts, tol))
    out.append("")
    if any(" †" in line for line in out):
        out.append("† no 1-process bench_ctx baseline found: no net figure (the whole yield "
                   "minus the same-process overhead) can be given.")
        out.append("")
    seeds = sorted({int(x) for x in df["kaslr_seed"].dropna().unique()}) \
        if "kaslr_seed" in df.columns else []
    if seeds:
        out.append(f"Scheme 3 draws each process's kernel slot at random; its runs boot with "
                   f"`kaslr_seed=N` for N in {', '.join(map(str, seeds))} (one deterministic "
                   f"run per seed, listed in metadata.json). Its figures are means over the "
                   f"seeds; where they differ between seeds the cell says (min–max, n).")
        out.append("")
    out.append(_render_probe(df, facts))
    out += security_detail(facts, table_preset(df, facts))
    wl = render_workloads(df, tol)
    if wl:
        out.append(wl)
    from .multihart import render_multihart
    out += render_multihart(df, table_preset(df, facts))
    out.append(_render_definitions(tol, table_preset(df, facts)))
    out.append(_render_details(df, facts))
    return "\n".join(out).rstrip() + "\n", robustness_csv(rob)


# What a row's ranking rests on, in its cells: the TLB and performance rows come from the cost
# model, the security row from a stated rule over design facts and estimates.
RANK_LABEL = {"performance": "modelled", "tlb": "modelled", "security": "by rule"}


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
    extras: Dict[str, Dict[int, float]] = {}
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
                if fig.alt is not None and not spec.alt_noasid:
                    alts[s] = fig.alt
                for name, x in fig.extra.items():
                    extras.setdefault(name, {})[s] = x
            elif (spec.alt_noasid and fig.score is not None and label == "noasid"
                  and primary.get(s) == "asid"):
                alts[s] = fig.score
        cells[s] = lines
    labels = rank_labels(scores, cmp)
    alt_labels = rank_labels(alts, cmp_alt) if len(alts) == len(scores) and alts else {}
    rendered = []
    for s in SCHEMES:
        lines = cells[s]
        if s in labels:
            m = f"**{RANK_LABEL.get(spec.key, 'measured')}: {labels[s]}**"
            if primary[s] != "asid":
                m += " (from noasid)"
            if s in alt_labels and alt_labels[s] != labels[s]:
                m += f" ({'noasid' if spec.alt_noasid else 'wall ns'}: {alt_labels[s]})"
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
        if spec.alt_noasid:
            verdict.reason += ("; without ASIDs the ranking differs: " + ", ".join(
                f"S{s} {alt_labels[s]} ({fmt(alts[s])})" for s in sorted(alt_labels)))
        else:
            verdict.reason += "; the wall-time ranking differs"
    if verdict.word != "n/a":
        for name, xs in extras.items():
            if len(xs) != len(scores):
                continue
            xl = rank_labels(xs, cmp_alt)
            if any(xl[k] != labels[k] for k in labels):
                verdict.reason += (f"; on {name} the ranking differs: " + ", ".join(
                    f"S{k} {xl[k]} ({fmt_num(xs[k])})" for k in sorted(xl)))
            else:
                verdict.reason += f"; {name} rank the same"
        region = REGIONS.get(spec.key)
        if region is not None:
            text = region(df, facts, tol)
            if text:
                verdict.reason += ". " + text
    return "| " + " | ".join([_escape(spec.title)] + rendered
                             + [verdict.word, _escape(verdict.reason)]) + " |"


def _evidence(report: Any) -> str:
    """Where a cited TLB-model report is kept: DIR/logs/V/F is committed, compressed, as
    DIR/evidence/V/F.gz (report.verify.write_evidence); logs/ itself is not committed."""
    text = str(report)
    return text.replace("/logs/", "/evidence/", 1) + ".gz" if "/logs/" in text else text


def _render_probe(df: pd.DataFrame, facts: Mapping[str, Any]) -> str:
    """The paragraph under the table: kernel_probe's result per variant and preset."""
    out = ["**TLB probe** (`kernel_probe` under the TLB model): a child process makes a system "
           "call, then loads the kernel data that call used, in U mode, at the kernel VA *its "
           "own* table maps it (own slot), or at the VA of *another process's* table (other "
           "process). Both loads fault in every scheme; a *hit* means the model's TLB still held "
           "a kernel translation (an entry without the U bit) for that address, which a "
           "Meltdown-style speculative load could use.", ""]
    names = ordered_names(facts.get("variants", {}))  # configs/variants.toml's order
    for v in names:
        vf = facts.get("variants", {}).get(v)
        if vf is None:
            continue
        if not vf.get("built"):
            out.append(f"- {v}: *not built*")
            continue
        probes = vf.get("tlb_probe") or {}
        failed = sorted({str(f.get("preset")) for f in vf.get("run_failures", [])
                         if f.get("mode") == "tlb" and f.get("bench") == "kernel_probe"},
                        key=lambda p: (p != "u54", p))
        if not probes and not failed:
            out.append(f"- {v}: {tlb_missing_reason(facts)}")
            continue
        parts = []
        for preset in sorted(probes, key=lambda p: (p != "u54", p)):
            pr = probes[preset]
            parts.append(
                f"{preset}: own slot {_yes(pr.get('probe_own_slot_hit'))} "
                f"({pr.get('own_slot_hits_on_kernel_entries')} hit(s) in "
                f"{pr.get('own_slot_probes')} probe(s)), other process "
                f"{_yes(pr.get('probe_other_process_hit'))} "
                f"({pr.get('other_process_hits_on_kernel_entries')} in "
                f"{pr.get('other_process_probes')}) [`{_evidence(pr.get('report'))}`]")
        for preset in failed:
            if preset not in probes:
                parts.append(f"{preset}: not measured (failed run, listed below)")
        out.append(f"- {v}: " + "; ".join(parts))
    out.append("")
    return "\n".join(out)


def _render_definitions(tol: Mapping[str, float], tp: Optional[str] = None) -> str:
    t = {k: _tol_text(k, tol, u) for k, u in
         (("latency", "insns"), ("switch", "insns"), ("security", "bits"),
          ("complexity", "LOC"), ("performance", ""), ("memory", "pages"),
          ("tlb", "L1 misses"))}
    return "\n".join([
        "## How each row is measured",
        "",
        f"- **Trap/syscall latency**: `bench_null` instructions per call from the `-icount` run "
        f"(deterministic; ranked on this, tie {t['latency']}); beside it the median QEMU wall ns "
        f"of the repeated runs without icount (min–max, n runs), which is not hardware time "
        f"and ranks nothing.",
        f"- **Process-switch cost**: the whole yield to another process (trap + switch + "
        f"return): `bench_ctx` at working set 0 with 2 processes, per switch, from the "
        f"`-icount` run; ranked on its instructions, tie {t['switch']}, shown with its satp "
        f"writes and `sfence.vma` per switch (kernel counters), its modelled cycles "
        f"(`tlb_model_cycles_per_op`, the {tp} preset's cost model; ranked separately in the "
        f"Reason when that ranking differs) and, labelled *net*, the same figure minus the "
        f"1-process yield (the same-process overhead; what earlier tables ranked on). The "
        f"Reason gives the satp-write cost range (0–100 cycles, swept from the counted events) "
        f"in which the document's order holds in modelled cycles.",
        f"- **Security/isolation**: ranked under threat (a), an attacker process that wants "
        f"its own kernel VA: the kernel not mapped in user page tables (scheme design) > the "
        f"bits of the kernel slot it does not know, estimated from the slots `kaslr_probe` "
        f"observed (plug-in Shannon with the Miller–Madow correction; a lower bound below "
        f"4,096 samples) > the same VA everywhere (0 bits); tie {t['security']}. Threats (b) "
        f"and (c) are in the robustness analysis and the security section.",
        f"- **Implementation complexity**: non-blank, non-comment lines of the scheme's own "
        f"sources (`kernel/scheme/<name>/` when that folder exists, else "
        f"`kernel/scheme/<name>.cpp` and `.hpp`), its classes in the trap generator "
        f"(`trapgen.py`: one copy of each trampoline, however many the generator emits) and, "
        f"for scheme 3, `KPtr`; the files are listed in the cell "
        f"(`results/complexity.json`). Tie {t['complexity']}.",
        f"- **Performance**: geometric mean of the modelled cycles per op "
        f"(the one cost model under the {tp} preset) of every measured TLB workload (below; the "
        f"same set at every L1 size), as a geometric mean of ratios to scheme 2 (same ASID "
        f"setting), tie {t['performance']}; beside it the icount instructions of "
        f"`bench_null`, `bench_ctx` (ws 0, raw) and `bench_fork` as a ratio to scheme 2 (the "
        f"ranking when no TLB-model data exists, said so in the cell). The Reason gives the "
        f"region of satp-write cost × L1 size in which the verdict holds and where the "
        f"document's claim fails (the crossover maps, `plots/crossover_*.png`).",
        f"- **Memory overhead**: page-table pages of one process (`@mem` line or `pt_pages` key "
        f"of a benchmark); tie {t['memory']}. Not in the document's final table: its text lists "
        f"memory overhead as a con of schemes 1 and 3, and the document's rating column here "
        f"reflects that.",
        f"- **TLB behaviour (model)**: the TLB-model QEMU plugin (docs/tlbmodel.md) replays "
        f"every translated access of one `-icount` run through modelled TLBs, here the run's "
        f"first preset of a real core with ASIDs ({tp}: {PRESET_TEXT.get(tp or '', '–')}; the "
        f"kernel boots capped to the core's ASID width, the model's `asid` follows the "
        f"variant), so that the ASID and no-ASID variants differ. Workloads (per op, from the "
        f"benchmarks' region markers): " + "; ".join(f"{w.title}, per {w.per}"
                                                     for w in TLB_WORKLOADS) +
        f". Every measured workload counts, at every L1 size; one whose footprint (user "
        f"data pages, from the `param_*` columns) fits the preset's L1 DTLB is marked *fits "
        f"the L1*. Score: the geometric mean over the workloads of (the scheme's L1 I + D "
        f"misses per op + 0.001) / (scheme 2's + 0.001) (same ASID setting; the 0.001 keeps "
        f"a workload where a scheme misses nothing in the mean); lower is better, tie "
        f"{t['tlb']}; the no-ASID ranking in brackets "
        f"where it differs. The Reason gives the verdict at every point of the L1-size axis "
        f"(LRU sizes from the runs' stack-distance profile when present, else the presets "
        f"run). Not in the document's final table: its text calls scheme 1's TLB behaviour "
        f"'TLB 污染' (pollution: each switch invalidates the user's entries; taken as worst) "
        f"and scheme 2's 'TLB 缓存友好' (kernel entries survive process switches; best); about "
        f"scheme 3 it says nothing, so S3 is shown but not judged. bench_null and bench_ctx at "
        f"working set 0 touch fewer translations than any L1 holds and are not used here "
        f"(their figures are in the TLB table below).",
        f"- **Crossover regions** (a model): modelled cycles are linear in the counted events, "
        f"so the satp-write constant is swept 0–100 cycles without a new run (cycles + satp "
        f"writes × (c − the preset's constant)); on the L1-size axis an LRU size N charges each "
        f"miss it adds or removes the run's own cost per L1 miss ({xo.ASSUMED_MISS_PENALTY:g} "
        f"cycles when the run had none): an assumption. Every point but the preset as "
        f"modelled is hypothetical.",
        f"- **Modelled cycles** (a model, never measured hardware time): {CYCLE_MODEL_TEXT}; "
        f"i.e. {CYCLE_MODEL_SHORT}, no page-walk cache, no overlap.",
        "- **Agree?**: *agree* when every pair the document orders is measured in the same "
        "order (and pairs it rates alike tie); *partly* when no pair is reversed but one is "
        "tied or separated against the document; *disagree* when a pair is reversed.",
        "",
    ])


def _render_tlb_details(df: pd.DataFrame, facts: Mapping[str, Any],
                        names: List[str]) -> List[str]:
    """Per variant and preset: the TLB model's figures (every preset that has data)."""
    ps = sel.presets(df)
    first = first_preset(df, facts)
    if first in ps:
        ps = [first] + [p for p in ps if p != first]
    if not ps:
        return []
    out = ["## TLB model figures (per operation)", "",
           f"From the TLB-model runs (one `-icount` run per variant and preset; scheme 3: "
           f"one per kaslr seed, figures are means over the seeds). Switch = "
           f"`bench_ctx` at working set 0 minus its 1-process line († raw). Model cycles: "
           f"{CYCLE_MODEL_TEXT}.", ""]
    cols = ["variant", "preset", "null: L1I / L1D misses", "null: user-mode misses",
            "null: misses after a flush", "null: walk refs", "switch: L1I / L1D misses",
            "model cycles: null / switch"]
    out.append("| " + " | ".join(cols) + " |")
    out.append("|" + "|".join([" --- "] * len(cols)) + "|")
    for p in ps:
        for v in names:
            f = tlb_figures(df, v, p)
            if f.empty:
                continue
            walk = sel.seed_dist(df, v, "bench_null", "tlb_walk_refs_per_op", "", mode="tlb",
                                 preset=p)
            cells = [v, p, f"{_opt(f.null_i)} / {_opt(f.null_d)}", _opt(f.null_user),
                     _opt(f.null_after_flush), fmt_dist(walk),
                     f"{_opt(f.sw_i)} / {_opt(f.sw_d)}" + ("" if f.sw_net else " †"),
                     f"{_opt(f.null_cycles)} / {_opt(f.sw_cycles)}"]
            out.append("| " + " | ".join(_escape(c) for c in cells) + " |")
    out.append("")
    out += _render_tlb_workloads(df, ps, names)
    return out


def _render_tlb_workloads(df: pd.DataFrame, ps: Sequence[str], names: List[str]) -> List[str]:
    """Per variant and preset: L1 I+D misses and modelled cycles of each TLB workload."""
    cols = ["variant", "preset"] + [w.key for w in TLB_WORKLOADS]
    body = []
    for p in ps:
        for v in names:
            figs = {f.w.key: f for f in tlb_workload_figs(df, v, p)}
            if not figs:
                continue
            cells = [v, preset_label(p)]
            for w in TLB_WORKLOADS:
                f = figs.get(w.key)
                cells.append("–" if f is None else
                             f"{fmt_num(f.misses)} / {_opt(f.cycles)}"
                             + ("" if f.loads else " (fits)"))
            body.append("| " + " | ".join(_escape(c) for c in cells) + " |")
    if not body:
        return []
    legend = "; ".join(f"`{w.key}` = {w.title}, per {w.per}" for w in TLB_WORKLOADS)
    return ["## TLB workloads (per operation: L1 I+D misses / modelled cycles)", "",
            f"The workloads of the TLB and performance rows: {legend}. Modelled cycles: the "
            f"preset's cost model (docs/tlbmodel.md 'Cost model'; a model). *(fits)*: the "
            f"footprint does not exceed the preset's L1 DTLB.", "",
            "| " + " | ".join(cols) + " |", "|" + "|".join([" --- "] * len(cols)) + "|"] \
        + body + [""]


def _render_details(df: pd.DataFrame, facts: Mapping[str, Any]) -> str:
    out = ["## Per-variant figures", ""]
    cols = ["variant", "state", "null insns", "null ns (median, min–max)",
            "ctx ws=0 insns/switch (whole / net)", "fork insns", "satp/op (null)", "sfence/op (null)",
            "traps/op (null)"]
    out.append("| " + " | ".join(cols) + " |")
    out.append("|" + "|".join([" --- "] * len(cols)) + "|")
    names = ordered_names(facts.get("variants", {}))  # configs/variants.toml's order
    for v in names:
        state = _variant_state(facts, v)
        cells = [v, state]

        def ic(bench: str, metric: str) -> str:
            return fmt_dist(sel.seed_dist(df, v, bench, metric))

        wall = sel.stats(sel.wall_values(df, v, "bench_null"))
        ctx = sel.ctx_switch_insns(df, v)
        whole = sel.ctx_switch_insns(df, v, subtract=False)
        cells += [ic("bench_null", "insns_per_op"),
                  "–" if wall is None else
                  f"{fmt_num(wall.median)} ({fmt_num(wall.min)}–{fmt_num(wall.max)})",
                  "–" if whole is None or ctx is None else
                  f"{fmt_num(whole[0])} / " + (fmt_num(ctx[0]) if ctx[1] else "– †"),
                  ic("bench_fork", "insns_per_op"), ic("bench_null", "satp_per_op"),
                  ic("bench_null", "sfence_per_op"), ic("bench_null", "traps_per_op")]
        out.append("| " + " | ".join(_escape(c) for c in cells) + " |")
    out.append("")
    out += _render_tlb_details(df, facts, names)
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
            if f.get("mode") == "tlb":
                problems.append(f"- {v} {f.get('bench')} (TLB model, {f.get('preset')}): {first} "
                                f"(log: `{f.get('log')}`, report: `{f.get('report')}`)")
            else:
                problems.append(f"- {v} {f.get('bench')}: {first}")
    t = facts.get("tlbmodel") or {}
    if t.get("enabled") and t.get("built") is False:
        problems.append(f"- TLB-model plugin: not built — {t.get('build_error') or 'failed'} "
                        f"(command: `{t.get('build_command')}`, log: `{t.get('build_log')}`); "
                        f"every TLB figure is *not measured*")
    if problems:
        out += ["## Missing variants and failed runs", ""] + problems + [""]
    return "\n".join(out)
