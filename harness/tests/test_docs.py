"""The documents against the results: docs/results.md is the rendering of docs/results.md.in
with the committed results/ (every figure in it comes from there), the documents name no path
of a particular machine nor one outside the repository, and the figures docs/harness.md states
about the harness are the code's."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.benchspec import BENCH_BY_NAME, KASLR_SEEDS, TLB_PRESETS_DEFAULT
from harness.docfigures import render, render_from
from harness.errors import UserError
from harness.qemu import DEFAULT_TIMEOUT

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
OWNED_DOCS = [REPO / "README.md", REPO / "docs" / "harness.md", REPO / "docs" / "results.md",
              REPO / "docs" / "results.md.in", REPO / "docs" / "first-experiment.md"]
ALL_DOCS = [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md"))
MACHINE_PATH = re.compile(r"(/work/|/home/|/root/|/tmp/|/Users/|\.\./shared|[A-Z]:\\\\)")


def test_results_md_is_generated_from_results() -> None:
    want = render_from(REPO / "results", REPO / "docs" / "results.md.in")
    assert (REPO / "docs" / "results.md").read_text() == want, \
        "docs/results.md is stale: run `/usr/bin/python3 -m harness docs`"


def test_results_md_template_refuses_absent_data(fixture_df, fixture_facts) -> None:
    with pytest.raises(UserError, match="no data"):
        render("{{icount:s1-asid:bench_nosuch:insns_per_op}}", fixture_df, fixture_facts, {})
    with pytest.raises(UserError, match="unknown placeholder"):
        render("{{guess:s1-asid}}", fixture_df, fixture_facts, {})
    from harness import select as sel
    from harness.report import fmt_num
    want = fmt_num(sel.icount_value(fixture_df, "s1-asid", "bench_null", "insns_per_op"))
    got = render("{{icount:s1-asid:bench_null:insns_per_op}}", fixture_df, fixture_facts, {})
    assert got.splitlines()[-1] == want
    text = render("x {{meta:a.b}} y", fixture_df, fixture_facts, {"a": {"b": 7}})
    assert text.endswith("x 7 y")


@pytest.mark.parametrize("doc", OWNED_DOCS, ids=lambda p: p.name)
def test_no_machine_paths(doc: Path) -> None:
    for n, line in enumerate(doc.read_text().splitlines(), 1):
        assert not MACHINE_PATH.search(line), f"{doc.name}:{n}: {line}"


def test_harness_md_states_the_codes_defaults() -> None:
    text = (REPO / "docs" / "harness.md").read_text()
    from harness.cli import REPS_FULL, REPS_QUICK
    assert f"default {REPS_FULL}; {REPS_QUICK} with `--quick`" in text
    assert f"default {DEFAULT_TIMEOUT:g}" in text
    assert f"`{' '.join(TLB_PRESETS_DEFAULT)}`" in text
    assert " ".join(map(str, KASLR_SEEDS)) in text


def test_benchmark_table_is_the_declarations() -> None:
    """docs/userspace.md's benchmark table is generated from the programs' //! declarations
    (`make benchdocs`): every benchmark is listed, with the arguments the harness uses."""
    from harness.benchspec import DOCS_FILE, markdown_table, render_docs
    text = (REPO / DOCS_FILE).read_text()
    assert render_docs(text, markdown_table()) == text, "run `make benchdocs`"
    for name, spec in BENCH_BY_NAME.items():
        assert f"`{name}`" in text and " ".join(spec.args) in text


# ------------------------------------------------------------------ the docs' commands

HARNESS_CMD = re.compile(r"(\S*python3) -m (harness(?:\.\w+)?)\b([^`\n]*)")


def doc_commands() -> list:
    """(doc, line number, interpreter, module, argument text) of every `python3 -m harness...`
    in a code block or code span of README.md and docs/*.md."""
    out = []
    for doc in ALL_DOCS:
        in_block = False
        for n, line in enumerate(doc.read_text().splitlines(), 1):
            if line.startswith("```"):
                in_block = not in_block
                continue
            code = [line] if in_block else re.findall(r"`([^`]+)`", line)
            for c in code:
                for m in HARNESS_CMD.finditer(c):
                    comment = "#" in c[:m.start()]  # named in a shell comment, not run
                    out.append((doc.name, n, m.group(1), m.group(2),
                                "" if comment else m.group(3)))
    return out


def test_docs_run_the_harness_with_the_right_interpreter() -> None:
    cmds = doc_commands()
    assert len(cmds) > 20  # README, harness.md, first-experiment.md ...
    wrong = [f"{d}:{n}: {py} -m {mod}" for d, n, py, mod, _ in cmds if py != "/usr/bin/python3"]
    assert not wrong, "use /usr/bin/python3 (the pyenv python3 lacks the packages):\n" + \
        "\n".join(wrong)


def test_docs_harness_commands_parse() -> None:
    """Every `/usr/bin/python3 -m harness SUBCOMMAND ...` shown in the docs names a subcommand
    and options that exist (the command line parser accepts it)."""
    import shlex

    from harness.cli import parse_args
    checked = 0
    for doc, n, _, mod, rest in doc_commands():
        if mod != "harness":
            continue
        rest = rest.split("  #")[0].split(" # ")[0].strip()
        if not rest or "[" in rest or "…" in rest or "--help" in rest:
            continue  # a usage synopsis, not a command
        try:
            args = shlex.split(rest)
        except ValueError:
            continue  # a span cut at a line break
        try:
            parse_args(args)
        except (UserError, SystemExit) as exc:
            raise AssertionError(f"{doc}:{n}: harness {rest}: {exc}") from None
        checked += 1
    assert checked > 20


def test_python3_without_the_packages_says_which_interpreter(tmp_path: Path) -> None:
    """`python3 -m harness` under an interpreter that lacks the packages: one line, exit 2."""
    import subprocess
    import sys
    # the standard library only: an interpreter that cannot see Debian's packages
    res = subprocess.run([sys.executable, "-S", "-m", "harness", "bench"], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "/usr/bin/python3 -m harness" in lines[0], res.stderr
    assert "Traceback" not in res.stderr


def test_benchmark_names_in_docs() -> None:
    text = (REPO / "docs" / "userspace.md").read_text()
    for name in BENCH_BY_NAME:
        assert name in text


# ------------------------------------------------------------------ generated sentences
# Each data-dependent sentence of docs/results.md is chosen by the data (docfigures.py); these
# tests check what the committed document says against the committed CSV and facts directly,
# so a hand-written or stale claim fails.

def _doc() -> str:
    return (REPO / "docs" / "results.md").read_text()


def _csv_mean(variant: str, bench: str, metric: str, preset: str = "", params: str = "",
              mode: str = "tlb") -> float:
    import pandas as pd
    df = pd.read_csv(REPO / "results" / "measurements.csv", low_memory=False)
    r = df[(df["variant"] == variant) & (df["bench"] == bench) & (df["metric"] == metric)
           & (df["mode"] == mode) & (df["params"].fillna("") == params)]
    if preset:
        r = r[r["preset"] == preset]
    assert not r.empty, (variant, bench, metric, preset, params)
    return float(r["value"].mean())


def test_pollution_sentence_is_true() -> None:
    m = re.search(r"at K = (\d+) pages scheme 1 with ASIDs loses (more|fewer|as many) of the "
                  r"user's entries (?:than|as) scheme 2 \(([\d.,]+) against ([\d.,]+) user-mode "
                  r"L1 misses per iteration\): (the document's \"TLB pollution\" of scheme 1 "
                  r"shows here|no pollution by scheme 1 shows here)", _doc())
    assert m, "the c906 pollution sentence is missing from docs/results.md"
    k = m.group(1)
    one = _csv_mean("s1-asid", "bench_tlb", "tlb_user_misses_per_op", "c906", f"pages={k}")
    two = _csv_mean("s2-asid", "bench_tlb", "tlb_user_misses_per_op", "c906", f"pages={k}")
    want = "more" if one > two else "fewer" if one < two else "as many"
    assert m.group(2) == want
    assert m.group(5).startswith("the document's") == (one > two)


def test_null_call_user_misses_sentence_is_true() -> None:
    for preset in ("u54", "c906"):
        vals = {k: _csv_mean(f"s{k}-asid", "bench_null", "tlb_user_misses_per_op", preset)
                for k in (1, 2, 3)}
        from harness.report.format import fmt_num
        text = ", ".join(f"{fmt_num(x)} (scheme {k})" for k, x in vals.items())
        assert text in _doc(), (preset, text)
        tail = _doc().split(text, 1)[1][:60]
        assert tail.startswith(": no scheme loses") == all(x == 0 for x in vals.values())


def test_probe_sentences_are_true() -> None:
    import json
    facts = json.loads((REPO / "results" / "facts.json").read_text())
    doc = _doc()
    for v in ("s1-asid", "s2-asid", "s3-asid"):
        pr = facts["variants"][v]["tlb_probe"]["c906"]
        own, other = pr["probe_own_slot_hit"], pr["probe_other_process_hit"]
        phrase = ("finds no kernel translation" if not own and not other else
                  "finds the kernel's translation at the process's own slot and not at another "
                  "process's" if own and not other else
                  "finds the kernel's translation at both the own and another process's address"
                  if own and other else "finds a kernel translation only at another process's")
        section = doc.split(f"- Scheme {v[1]}:", 1)[1].split("\n- ", 1)[0]
        assert phrase in " ".join(section.split()), (v, phrase)


def test_same_sentences_are_true() -> None:
    doc = " ".join(_doc().split())
    for a, b in (("s2-asid-4k", "s2-asid"), ("s3-asid", "s2-asid")):
        x = _csv_mean(a, "bench_null", "insns_per_op", mode="icount")
        y = _csv_mean(b, "bench_null", "insns_per_op", mode="icount")
        from harness.report.format import fmt_num
        word = "do not change" if abs(x - y) <= 1e-9 * max(x, y) else "change"
        assert f"{word} ({fmt_num(x)} against {fmt_num(y)})" in doc, (a, b)
