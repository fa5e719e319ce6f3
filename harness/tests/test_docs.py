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
    from harness.table import fmt_num
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
