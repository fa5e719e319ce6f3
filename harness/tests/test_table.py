"""The comparison-table generator on the hand-made fixture (tests/fixtures)."""
from __future__ import annotations

import copy
import math
from typing import Any, Dict, List

import pandas as pd
import pytest

from harness.report import compare, rank_labels, render_comparison

pytestmark = pytest.mark.unit

SCHEME_COLS = {1: 1, 2: 2, 3: 3}  # scheme -> column index in a table row


def table_rows(md: str) -> Dict[str, List[str]]:
    """The detail table (after the summary) as {dimension keyword: cells}."""
    rows: Dict[str, List[str]] = {}
    start = md.index("| Dimension | Scheme 1")
    for ln in md[start:].splitlines():
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
    assert "asid: 420 insns; QEMU wall (not hardware, not ranked) 1,210 ns median " \
           "(1,190–1,250, n=3)" in lat[1]
    assert "**measured: worst**" in lat[1] and "doc: 最差 (worst)" in lat[1]
    assert "**measured: best**" in lat[2] and "doc: 最佳 (best)" in lat[2]
    # S3 within 2 % of S2 in instructions: a tie, so both are "best"; wall time ranks nothing
    assert "**measured: best**" in lat[3] and "wall ns" not in lat[3]
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
    assert "kernel not mapped in user tables" in sec[1] and "**by rule: best**" in sec[1]
    assert "same kernel VA in 64/64 processes" in sec[2] and "**by rule: worst**" in sec[2]
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


# ------------------------------------------------------------------ synthetic TLB workloads
# Hand-made rows: c906 (16 ASID bits, L1D 10, satp write 5 cycles in its cost model), the ASID
# variants only. bench_tlb K=64 (64 pages > 10: loads the TLB) and bench_ctx 2 × 16 KiB
# (8 pages: fits, so never ranked).

from harness import crossover as xo  # noqa: E402
from harness.tidy import make_frame, make_row  # noqa: E402
from harness.tlb import lru_metric  # noqa: E402
from harness.variants import variant_by_name  # noqa: E402


def _tlb_rows(v: str, bench: str, params: Dict[str, int], **metrics: float) -> List[Any]:
    return [make_row(variant_by_name(v), bench, params, mode="tlb", metric=m, value=x,
                     preset="c906") for m, x in metrics.items()]


# per iteration of bench_tlb K=64: (L1D misses, modelled cycles at satp 5, satp writes)
SYN = {"s1-asid": (70.0, 880.0, 2.0), "s2-asid": (66.0, 900.0, 0.0),
       "s3-asid": (66.0, 950.0, 0.0)}


def synthetic(lru: bool = False) -> tuple:
    rows: List[Any] = []
    for v, (miss, cyc, satp) in SYN.items():
        extra: Dict[str, float] = {}
        if lru:  # an LRU profile: 8 entries miss more, 128 entries hold all 64 pages
            extra = {lru_metric("i", 8): 0.0, lru_metric("d", 8): miss + 10,
                     lru_metric("i", 128): 0.0, lru_metric("d", 128): 2.0}
        rows += _tlb_rows(v, "bench_tlb", {"pages": 64}, tlb_l1i_misses_per_op=0.0,
                          tlb_l1d_misses_per_op=miss, tlb_model_cycles_per_op=cyc,
                          tlb_satp_writes_per_op=satp, tlb_insns_per_op=cyc - 100 - 5 * satp,
                          tlb_traps_per_op=0.0, tlb_srets_per_op=0.0, tlb_sfences_per_op=0.0,
                          tlb_walk_refs_per_op=5.0, **extra)
        # cost of the misses (the cost model): 5 walk references x 20 = 100 cycles
        rows += _tlb_rows(v, "bench_ctx", {"procs": 2, "ws_kb": 16}, tlb_l1i_misses_per_op=1.0,
                          tlb_l1d_misses_per_op=1.0, tlb_model_cycles_per_op=500.0,
                          tlb_satp_writes_per_op=1.0)
    facts = {"variants": {f"s{s}-{a}": {"scheme": s, "asid": a == "asid", "built": True,
                                         "run_failures": []}
                          for s in (1, 2, 3) for a in ("asid", "noasid")},
             "tlbmodel": {"enabled": True, "built": True, "presets": ["u54", "c906"]}}
    return make_frame(rows), facts


def test_cycles_sweep_and_crossing_known_answers() -> None:
    df, _ = synthetic()
    e1 = xo.events(df, "s1-asid", "c906", "bench_tlb", "pages=64")
    e2 = xo.events(df, "s2-asid", "c906", "bench_tlb", "pages=64")
    assert e1 is not None and e2 is not None and e1.satp_source == "model"
    # cycles(c) = 880 + 2 (c - 5) = 870 + 2c; scheme 2 has no satp write: 900 everywhere
    assert [e1.cycles_at(c) for c in (0, 5, 15, 100)] == [870, 880, 900, 1070]
    assert e2.cycles_at(100) == 900
    m = xo.crossover_map(df, xo.TLB_WORKLOADS[0], "asid", ["u54", "c906"], "c906")
    assert m is not None and [p.label for p in m.points] == ["c906 (10/10)"]
    assert not m.uses_lru and m.loads == {"c906": True}
    assert m.crossing((1, 2), 0) == pytest.approx(15.0)      # 870 + 2c = 900
    assert m.ratio[(1, 2)][0][0] == pytest.approx(870 / 900)
    assert m.crossing((3, 2), 0) is None                     # 950 / 900 everywhere
    # no no-ASID data: that panel has no points
    assert xo.crossover_map(df, xo.TLB_WORKLOADS[0], "noasid", ["u54", "c906"], "c906") is None


def test_cycles_at_lru_size_known_answer() -> None:
    df, _ = synthetic(lru=True)
    e1 = xo.events(df, "s1-asid", "c906", "bench_tlb", "pages=64")
    assert e1 is not None and sorted(e1.lru) == [8, 128]
    # the run's cost per miss: (model cycles - insns) / misses = 100 / 70
    assert e1.penalty == pytest.approx(100 / 70)
    # at 128 entries: 2 misses instead of 70
    assert e1.cycles_at(5, 128) == pytest.approx(880 + (2 - 70) * 100 / 70)
    assert e1.misses_at(8) == 80
    m = xo.crossover_map(df, xo.TLB_WORKLOADS[0], "asid", ["u54", "c906"], "c906")
    assert m is not None and m.uses_lru
    assert [(p.label, p.entries, p.hypothetical) for p in m.points] == \
        [("LRU 8", 8, True), ("LRU 128", 128, True)]
    assert "hypothetical except N = 10" in xo.axis_note(m)


def test_tlb_and_performance_rows_geomean_over_every_workload() -> None:
    df, facts = synthetic()
    md = render_comparison(df, facts)
    rows = table_rows(md)
    tlb, perf = rows["tlb"], rows["performance"]
    # the preset is the run's first with ASIDs (c906, not u54); ctx 2×16 KiB fits the L1 and
    # stays in the geomean: sqrt((70 + ε) / (66 + ε) × 2 / 2) = 1.030
    assert "asid: c906: L1 I+D misses: bench_tlb K=64 70/iteration; ctx 2×16 KiB " \
           "2/switch (fits the L1); geomean 1.030× s2-asid over the 2 workloads" in tlb[1]
    # 1.030 > 2 %: S1 worst; S3 ties S2: both best; S3 not judged
    assert "**modelled: worst**" in tlb[1] and "**modelled: best**" in tlb[2]
    assert tlb[4] == "agree" and "S3 not judged" in tlb[5]
    assert "Region (L1 size axis: the presets run): with ASIDs, c906 (10/10) [2 workloads]: " \
           "agree" in tlb[5]
    # performance at the preset's satp cost (5), geomean with ctx16 (500 everywhere):
    # S1 sqrt(880 / 900) = 0.99, S3 sqrt(950 / 900) = 1.03
    assert "0.99× s2-asid modelled cycles (c906 cost model; geomean of 2 TLB workloads: " \
           "bench_tlb K=64, ctx 2×16 KiB)" in perf[1]
    assert perf[4] == "disagree"
    # swept satp write 0..100 (tie 2 %, geomeans): S1 = sqrt((870 + 2c) × 500) against
    # S3 = sqrt(950 × 500): S1 beats S3 (reversed) while 870 + 2c < 950 / 1.02² (c <= 21);
    # they tie while 870 + 2c <= 950 × 1.02² (c <= 59); from c = 60 the document's order
    assert "with ASIDs, c906 (10/10) [2 workloads]: disagree at 0–21, partly at 22–59, " \
           "agree at 60–100 cycles" in perf[5]
    assert "where the document's claim fails or ties: disagree (with ASIDs, c906 (10/10) " \
           "[2 workloads] at satp write 0–21 cycles); partly" in perf[5]


def test_tlb_row_on_a_core_without_asids_says_so() -> None:
    df, facts = synthetic()
    df = df.assign(preset="u54")
    facts["tlbmodel"]["presets"] = ["u54"]
    tlb = table_rows(render_comparison(df, facts))["tlb"]
    assert "asid: u54 (no ASIDs: asid = noasid): L1 I+D misses" in tlb[1]


def test_switch_row_whole_yield_with_modelled_cycles(fixture_df: pd.DataFrame,
                                                     fixture_facts: Dict[str, Any]) -> None:
    """The whole yield's modelled cycles (c906) beside the instructions, a second ranking when
    it differs, and the satp-cost range where the document's order holds."""
    facts = copy.deepcopy(fixture_facts)
    facts["tlbmodel"]["presets"] = ["u54", "c906"]
    rows: List[Any] = []
    # (modelled cycles at satp 5, satp writes) per switch
    for v, (cyc, satp) in {"s1-asid": (700.0, 3.0), "s2-asid": (600.0, 1.0),
                           "s3-asid": (760.0, 1.0)}.items():
        rows += _tlb_rows(v, "bench_ctx", {"procs": 2, "ws_kb": 0},
                          tlb_l1i_misses_per_op=0.0, tlb_l1d_misses_per_op=0.0,
                          tlb_model_cycles_per_op=cyc, tlb_satp_writes_per_op=satp)
    df = pd.concat([fixture_df, make_frame(rows)], ignore_index=True)
    sw = table_rows(render_comparison(df, facts))["process-switch"]
    assert "asid: whole yield 1,100 insns, 3 satp + 0 sfence.vma per switch; 700 modelled " \
           "cycles (c906)" in sw[1]
    assert sw[4] == "agree"   # on instructions: 650 < 760 < 1,100
    assert "on modelled cycles (c906) the ranking differs: S1 middle (700), S2 best (600), " \
           "S3 worst (760)" in sw[5]
    # S1 = 685 + 3c, S2 = 595 + c, S3 = 755 + c (tie 2 %): S1 beats S3 (reversed) up to
    # c = 27, ties it up to c = 42, loses from c = 43
    assert "with ASIDs, c906: disagree at 0–27, partly at 28–42, agree at 43–100 cycles" in sw[5]
