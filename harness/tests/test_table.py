"""The comparison-table generator on the hand-made fixture (tests/fixtures)."""
from __future__ import annotations

import copy
import math
from typing import Any, Dict, List

import pandas as pd
import pytest

from harness.table import compare, rank_labels, render_comparison

pytestmark = pytest.mark.unit

SCHEME_COLS = {1: 1, 2: 2, 3: 3}  # scheme -> column index in a table row


def table_rows(md: str) -> Dict[str, List[str]]:
    """The first markdown table as {dimension keyword: cells}."""
    rows: Dict[str, List[str]] = {}
    for ln in md.splitlines():
        if not ln.startswith("| ") or ln.startswith("| Dimension") or ln.startswith("| ---"):
            if rows and not ln.startswith("|"):
                break
            continue
        cells = [c.strip() for c in ln.strip().strip("|").split(" | ")]
        key = cells[0].split(" (")[0].split("/")[0].split()[0].lower()
        rows.setdefault(key, cells)
    return rows


KEYS = {"trap": "latency", "process-switch": "switch", "security": "security",
        "implementation": "complexity", "performance": "performance", "memory": "memory"}


def render(df: pd.DataFrame, facts: Dict[str, Any]) -> Dict[str, List[str]]:
    md = render_comparison(df, facts)
    raw = table_rows(md)
    return {KEYS[k]: v for k, v in raw.items() if k in KEYS}


def test_full_fixture_cells_and_verdicts(fixture_df: pd.DataFrame,
                                         fixture_facts: Dict[str, Any]) -> None:
    rows = render(fixture_df, fixture_facts)
    assert set(rows) == set(KEYS.values())
    lat = rows["latency"]
    assert "asid: 420 insns; 1,210 ns median (1,190–1,250, n=3)" in lat[1]
    assert "**measured: worst**" in lat[1] and "doc: 最差 (worst)" in lat[1]
    assert "**measured: best**" in lat[2] and "doc: 最佳 (best)" in lat[2]
    # S3 within 2 % of S2 in instructions: a tie, so both are "best"; wall time separates them
    assert "**measured: best** (wall ns: middle)" in lat[3]
    assert lat[4] == "partly" and "tie (within 2%" in lat[5]

    sw = rows["switch"]
    # ranked on the whole yield (raw 2-process line), the net figure beside it
    assert "asid: whole yield 1,100 insns, 3 satp + 0 sfence.vma per switch" in sw[1]
    assert "net (minus the 1-process yield) 900 insns" in sw[1]   # 1100 - 200
    assert "whole yield 650 insns, 1 satp" in sw[2] and "whole yield 760 insns" in sw[3]
    assert "net (minus the 1-process yield) 500 insns" in sw[2]
    assert "noasid: whole yield 1,100 insns, 3 satp + 3 sfence.vma" in sw[1]
    assert "†" not in sw[1]
    assert [sw[4], "S2, S3, S1" in sw[5]] == ["agree", True]

    sec = rows["security"]
    assert "kernel not mapped in user tables" in sec[1] and "**measured: best**" in sec[1]
    assert "same kernel VA in 64/64 processes" in sec[2] and "**measured: worst**" in sec[2]
    assert "64/64 distinct slots; 17.0 bits (kernel-reported)" in sec[3]
    assert "doc: 最高 (highest)" in sec[3]
    assert sec[4] == "disagree" and "S3 (highest) above S1 (high)" in sec[5]

    cx = rows["complexity"]
    assert "310 LOC (separate.cpp 280 + trap.S 30); trap path 420 insns" in cx[1]
    assert cx[4] == "partly" and "S1 and S2 alike" in cx[5]

    perf = rows["performance"]
    # no TLB-model data in this fixture: the icount instructions, said so
    assert "1.70× s2-asid (no TLB-model data: ranked on instructions)" in perf[1]
    assert "1.00× s2-asid" in perf[2] and "1.11× s2-asid" in perf[3]
    assert perf[4] == "agree"

    mem = rows["memory"]
    assert "6 PT pages/process (2 kernel-only)" in mem[3]
    assert mem[4] == "agree" and "S2, S1, S3" in mem[5]


def without_scheme3(df: pd.DataFrame, facts: Dict[str, Any]) -> tuple:
    facts = copy.deepcopy(facts)
    for v in ("s3-asid", "s3-noasid"):
        facts["variants"][v].update(built=False, kaslr=None, loc=None,
                                    build_error="make failed with status 2",
                                    build_log=f"results/logs/build-{v}.log")
    return df[df["scheme"] != 3].reset_index(drop=True), facts


def test_missing_variant_shows_not_built(fixture_df: pd.DataFrame,
                                         fixture_facts: Dict[str, Any]) -> None:
    df, facts = without_scheme3(fixture_df, fixture_facts)
    md = render_comparison(df, facts)
    rows = render(df, facts)
    for key, cells in rows.items():
        assert "asid: *not built*<br>noasid: *not built*" in cells[3], key
        assert "**measured: not built**" in cells[3], key
    # judged on S1 vs S2 only
    assert rows["latency"][4] == "agree" and "(S3 not measured)" in rows["latency"][5]
    assert rows["security"][4] == "agree"  # doc: S1 above S2; S1 not mapped vs 0 bits
    assert "- s3-asid: not built — make failed with status 2 (log: " \
           "`results/logs/build-s3-asid.log`)" in md


def test_one_asid_variant_missing(fixture_df: pd.DataFrame,
                                  fixture_facts: Dict[str, Any]) -> None:
    facts = copy.deepcopy(fixture_facts)
    facts["variants"]["s1-asid"]["built"] = False
    df = fixture_df[fixture_df["variant"] != "s1-asid"]
    rows = render(df, facts)
    lat = rows["latency"][1]
    assert "asid: *not built*" in lat and "noasid: 420 insns" in lat
    assert "**measured: worst** (from noasid)" in lat


def test_absent_data_is_not_measured(fixture_df: pd.DataFrame,
                                     fixture_facts: Dict[str, Any]) -> None:
    df = fixture_df[~fixture_df["metric"].isin(["pt_pages", "pt_pages_kernel"])]
    rows = render(df, fixture_facts)
    mem = rows["memory"]
    assert all("*not measured*" in mem[s] for s in (1, 2, 3))
    assert mem[4] == "n/a" and mem[5] == "not measured"


def test_no_ctx_baseline_is_flagged(fixture_df: pd.DataFrame,
                                    fixture_facts: Dict[str, Any]) -> None:
    df = fixture_df[fixture_df["params"] != "procs=1,ws_kb=0"]
    md = render_comparison(df, fixture_facts)
    sw = render(df, fixture_facts)["switch"]
    assert "asid: whole yield 1,100 insns" in sw[1] and "net: no 1-process line †" in sw[1]
    assert "net (minus the 1-process yield)" not in sw[1]
    assert "† no 1-process bench_ctx baseline" in md


def test_pure_and_deterministic(fixture_df: pd.DataFrame,
                                fixture_facts: Dict[str, Any]) -> None:
    before = fixture_df.copy()
    facts_before = copy.deepcopy(fixture_facts)
    a = render_comparison(fixture_df, fixture_facts)
    b = render_comparison(fixture_df.sample(frac=1, random_state=3), fixture_facts)
    assert a == b
    pd.testing.assert_frame_equal(fixture_df, before)
    assert fixture_facts == facts_before


def test_tolerance_is_configurable(fixture_df: pd.DataFrame,
                                   fixture_facts: Dict[str, Any]) -> None:
    md = render_comparison(fixture_df, fixture_facts, tolerances={"latency": 0.0})
    lat = render(fixture_df, fixture_facts)["latency"]
    assert lat[4] == "partly"
    strict = {KEYS[k]: v for k, v in table_rows(md).items() if k in KEYS}["latency"]
    assert strict[4] == "agree" and "**measured: middle**" in strict[3]


@pytest.mark.parametrize("a, b, lower, tol, rel, expected", [
    (100, 101.9, True, 0.02, True, 0),
    (100, 103, True, 0.02, True, 1),
    (103, 100, True, 0.02, True, -1),
    (17.0, 16.8, False, 0.5, False, 0),
    (math.inf, 17.0, False, 0.5, False, 1),
    (0.0, 17.0, False, 0.5, False, -1),
    (4, 4, True, 0.0, False, 0),
])
def test_compare(a: float, b: float, lower: bool, tol: float, rel: bool, expected: int) -> None:
    assert compare(a, b, lower_is_better=lower, tol=tol, relative=rel) == expected


def test_rank_labels() -> None:
    def cmp(a: float, b: float) -> int:
        return compare(a, b, lower_is_better=True, tol=0.02, relative=True)
    assert rank_labels({1: 300, 2: 100, 3: 200}, cmp) == {1: "worst", 2: "best", 3: "middle"}
    assert rank_labels({1: 100, 2: 101, 3: 100.5}, cmp) == {1: "tied", 2: "tied", 3: "tied"}
    assert rank_labels({1: 100, 2: 101.5, 3: 103}, cmp) == {1: "best", 2: "middle", 3: "worst"}
    assert rank_labels({2: 100}, cmp)[2].startswith("n/a")


def test_workloads_section_only_with_workload_rows(fixture_df: pd.DataFrame,
                                                   fixture_facts: Dict[str, Any]) -> None:
    """A table without the issue-11 benchmarks renders as before (no Workloads section); with
    their rows the section follows the probe, and the document's rows are unchanged by them.
    The -dc variants' pt_pages never choose the memory row's benchmark."""
    from harness.tidy import make_frame, make_row
    from harness.variants import variant_by_name
    before = render_comparison(fixture_df, fixture_facts)
    assert "## Workloads" not in before
    extra = []
    for s, lat in ((1, 5000), (2, 4400), (3, 4600)):
        v, dc = variant_by_name(f"s{s}-asid"), variant_by_name(f"s{s}-asid-dc")
        extra.append(make_row(v, "bench_pipe", {"mode": "lat", "size": 1}, mode="icount",
                              metric="insns_per_op", value=lat))
        for var in (v, dc):
            extra.append(make_row(var, "bench_fork", {"touched_kb": 4096}, mode="icount",
                                  metric="insns_per_op", value=lat * 100))
        extra.append(make_row(dc, "bench_fault", {}, mode="icount", metric="pt_pages",
                              value=99))
    df = pd.concat([fixture_df, make_frame(extra)], ignore_index=True)
    after = render_comparison(df, fixture_facts)
    assert "## Workloads" in after
    assert after.index("## Workloads") < after.index("## How each row is measured")
    assert render(df, fixture_facts) == render(fixture_df, fixture_facts)
    pipe = [ln for ln in after.splitlines() if ln.startswith("| Pipe round trip")][0]
    assert "S1 worst, S2 best, S3 middle" in pipe and "| agree: " in pipe
