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
              REPO / "docs" / "results.md.in"]
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
    assert "default 5" in text and f"default {DEFAULT_TIMEOUT:g}" in text
    assert f"`{' '.join(TLB_PRESETS_DEFAULT)}`" in text
    assert " ".join(map(str, KASLR_SEEDS)) in text
    for name in BENCH_BY_NAME:
        assert name in text
