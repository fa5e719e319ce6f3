"""The summary, findings and robustness of comparison.md on the committed measurements."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Dict, Tuple

import pandas as pd
import pytest

from harness.outputs import report_facts
from harness.report.markdown import render_report
from harness.report.robustness import robustness
from harness.report.summary import MAX_CELL
from harness.tidy import read_csv

pytestmark = pytest.mark.unit

RESULTS = Path(__file__).resolve().parents[2] / "results"


@pytest.fixture(scope="module")
def committed() -> Tuple[pd.DataFrame, Dict[str, Any]]:
    df = read_csv(RESULTS / "measurements.csv")
    facts = report_facts(json.loads((RESULTS / "facts.json").read_text()), RESULTS)
    return df, facts


@pytest.fixture(scope="module")
def rendered(committed: Tuple[pd.DataFrame, Dict[str, Any]]) -> Tuple[str, str]:
    return render_report(*committed)


def summary_cells(md: str) -> list:
    lines = md.split("## Summary", 1)[1].split("## Findings", 1)[0].splitlines()
    rows = [ln for ln in lines if ln.startswith("| ") and not ln.startswith("| ---")]
    return [[c.strip() for c in r.strip("|").split(" | ")] for r in rows]


def test_summary_opens_the_report_short_cells(rendered: Tuple[str, str]) -> None:
    md, _ = rendered
    assert md.index("## Summary") < md.index("## Findings") < md.index("## Detail")
    rows = summary_cells(md)
    assert rows[0] == ["Dimension", "Document", "Measured", "Verdict", "Basis", "Margin",
                       "Robustness"]
    assert len(rows) == 1 + 7
    for r in rows[1:]:
        assert len(r) == 7
        assert all(len(c) <= MAX_CELL for c in r), r
        assert r[4].split()[0].rstrip(";") in ("icount", "model", "design"), r
        assert "wall" not in r[4]
        assert r[6].startswith("holds in "), r


def test_robustness_csv_matches_the_summary(rendered: Tuple[str, str]) -> None:
    md, rob = rendered
    recs = list(csv.DictReader(io.StringIO(rob)))
    assert rob.splitlines()[0] == "row,choice,value,verdict"
    by_row: Dict[str, list] = {}
    for r in recs:
        by_row.setdefault(r["row"], []).append(r)
    assert set(by_row) == {"latency", "switch", "security", "complexity", "performance",
                           "memory", "tlb"}
    rows = {r[0]: r for r in summary_cells(md)[1:]}
    for key, recs_ in by_row.items():
        assert recs_[0]["choice"] == "default"
        default = recs_[0]["verdict"]
        measured = [r for r in recs_ if r["verdict"] != "n/a"]
        holds = sum(1 for r in measured if r["verdict"] == default)
        cell = next(r for r in rows.values() if f"holds in {holds} of {len(measured)}" in r[6]
                    and (("*depends*" in r[3]) == (holds != len(measured))))
        assert cell is not None
    choices = {(r["row"], r["choice"]) for r in recs}
    for needed in [("performance", "tie band"), ("performance", "preset"),
                   ("performance", "kernel map"), ("performance", "ASIDs"),
                   ("performance", "workload"), ("performance", "cost satp"),
                   ("switch", "switch"), ("tlb", "L1 size (LRU)"), ("security", "threat")]:
        assert needed in choices, needed


def test_a_flip_is_reported_as_depends(committed: Tuple[pd.DataFrame, Dict[str, Any]]) -> None:
    """Performance: S3/S2 = 1.010 ties inside the 2 % band (partly) and separates at 0 %
    (agree): the row depends on the tie band."""
    r = robustness(*committed, "performance")
    assert r.default.verdict.word == "partly"
    assert ("tie band", "0 %", "agree") in r.records
    assert "fails when tie band 0 % → agree" in r.summary()


def test_wall_time_ranks_nothing(committed: Tuple[pd.DataFrame, Dict[str, Any]],
                                 rendered: Tuple[str, str]) -> None:
    """Reversing every wall figure changes no verdict, order or robustness figure."""
    df, facts = committed
    wall = df["mode"] == "wall"
    flipped = df.copy()
    flipped.loc[wall, "value"] = 1e6 - flipped.loc[wall, "value"]
    md, rob = render_report(flipped, facts)
    assert summary_cells(md) == summary_cells(rendered[0])
    assert rob == rendered[1]
    assert "ops/s" not in md and "wall ns:" not in md


def test_s2_kaslr_absent_is_not_measured_present_is_compared(
        committed: Tuple[pd.DataFrame, Dict[str, Any]], rendered: Tuple[str, str]) -> None:
    """Without an s2-kaslr variant the security section says so; with one (per-boot KASLR: one
    slot per boot for all processes) scheme 2 scores the kernel's per-boot bits against threat
    (a) and 0 bits against (b), a pointer leaked from another process."""
    import copy
    from harness.report.security import threat_scores
    df, facts = committed
    assert "s2-kaslr" in facts["variants"]  # the committed run measured it
    assert "Scheme 2 with per-boot KASLR (`s2-kaslr`) is in the table above" in rendered[0]
    assert any("scheme 2 per-boot" in c for c in rendered[1].split("\n"))
    absent = copy.deepcopy(facts)
    del absent["variants"]["s2-kaslr"]
    md, rob = render_report(df[df["variant"] != "s2-kaslr"], absent)
    assert "(`s2-kaslr`, what Linux ships): not measured in this run." in md
    assert not any("scheme 2 per-boot" in c for c in rob.split("\n"))
    f2 = copy.deepcopy(facts)
    del f2["variants"]["s2-kaslr"]
    kaslr = dict(f2["variants"]["s2-asid"]["kaslr"], kernel_entropy_bits=9.0)
    f2["variants"]["s2-kaslr"] = dict(f2["variants"]["s2-asid"], kaslr=kaslr)
    a = threat_scores(df, f2, "a", asid=True, kmap="2M", preset="c906", s2_kaslr=True)
    b = threat_scores(df, f2, "b", asid=True, kmap="2M", preset="c906", s2_kaslr=True)
    assert a is not None and b is not None and a[2] == 9.0 and b[2] == 0.0
    recs = robustness(df, f2, "security").records
    assert ("scheme 2 per-boot KASLR, threat", "a", "disagree") in recs
