"""The TLB-model part of the harness on hand-made fixtures (tests/fixtures/tlb, and the tlb rows
of tests/fixtures/measurements.csv) and the fake QEMU: region ids, per-op extraction, failed
runs, the probe facts, the tidy round trip with the preset column, the table row and the
plots. No real QEMU here (test_kernel.py boots the real kernel under the plugin)."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, Dict, List

import pandas as pd
import pandas.testing as pdt
import pytest

from harness import select as sel
from harness.benchspec import TLB_BENCH_BY_NAME
from harness.build import build_variant
from harness.errors import TlbRunError
from harness.measure import RunOptions, measure_tlb, probe_tlb, run_all, tlb_paths
from harness.parse import Context, parse_bench_output
from harness.report import render_comparison
from harness.tidy import make_frame, make_row, read_csv, write_csv
from harness.tlb import (CYCLE_MODEL, PRESET_TEXT, PRESETS, TlbReportError, load_report,
                         op_metrics, plugin_arg, preset_asid_bits, probe_facts, region_id,
                         report_is_hypothetical, rows_from_report, run_config, run_label,
                         with_bootargs, lru_profile_supported)
from harness.variants import variant_by_name

from .conftest import FAKE_QEMU, FIXTURES

TLB_FIX = FIXTURES / "tlb"
REPO = Path(__file__).resolve().parents[2]


def console(name: str):
    text = (TLB_FIX / name).read_text()
    return parse_bench_output(text, Context("fixture", ["fixture"], TLB_FIX / name))


def frame(variant: str, bench: str, preset: str = "u54") -> pd.DataFrame:
    rep = load_report(TLB_FIX / f"{bench}.json", preset=preset)
    return make_frame(rows_from_report(variant_by_name(variant), preset,
                                       console(f"{bench}.log"), rep))


def metric(df: pd.DataFrame, name: str, params: str = "") -> float:
    r = df[(df["metric"] == name) & (df["params"] == params)]
    assert len(r) == 1, (name, params, r)
    return float(r["value"].iloc[0])


# ------------------------------------------------------------------ region ids

def test_region_ids() -> None:
    assert region_id("bench_null", {}) == 1
    assert region_id("bench_fork", {}) == 20 and region_id("bench_timer", {}) == 22
    assert [region_id("bench_tlb", {"pages": 2 ** k}) for k in range(11)] == list(range(200, 211))
    assert region_id("bench_tlb", {"pages": 48}) == 205          # non-powers share the one below
    assert region_id("bench_copy", {"size": 8}) == 103
    assert region_id("bench_copy", {"size": 65536}) == 116
    assert region_id("bench_mmap", {"pages": 1024}) == 310
    assert region_id("bench_ctx", {"procs": 1, "ws_kb": 0}) == 400
    assert region_id("bench_ctx", {"procs": 2, "ws_kb": 0}) == 401
    assert region_id("bench_ctx", {"procs": 2, "ws_kb": 16}) == 400 + 8 * 5 + 1
    assert region_id("bench_ctx", {"procs": 12, "ws_kb": 1 << 30}) == 527   # clamped
    assert region_id("kaslr_probe", {}) is None


def test_region_table_matches_bench_hpp() -> None:
    """The mapping mirrors the id table at the top of user/bench/bench.hpp and the constants
    of the benchmark sources: a change there must be made in harness/tlb.py too."""
    hpp = (REPO / "user/bench/bench.hpp").read_text()
    entries = [(name, int(base)) for base, name in re.findall(
        r"^//\s+(\d+)(?:\s*\+[^\n]*?)?\s+(bench_\w+)", hpp, flags=re.M)]
    # the params of each table line's base id (the smallest parameter of its formula)
    probe = {("bench_null", 1): {}, ("bench_fork", 20): {}, ("bench_exec", 21): {},
             ("bench_timer", 22): {}, ("bench_fork", 50): {"touched_kb": 4},
             ("bench_copy", 100): {"size": 1}, ("bench_tlb", 200): {"pages": 1},
             ("bench_mmap", 300): {"pages": 1}, ("bench_ctx", 400): {"procs": 1, "ws_kb": 0},
             ("bench_pipe", 600): {"mode": "lat", "size": 1},
             ("bench_pipe", 601): {"mode": "bw", "size": 1},
             ("bench_pipe", 620): {"mode": "ctx", "procs": 1, "ws_kb": 0},
             ("bench_app", 700): {"workload": "pipeline", "lines": 2000},
             ("bench_app", 701): {"workload": "kv", "kv_kb": 256},
             ("bench_fault", 720): {"mode": "first_touch", "kb": 4},
             ("bench_fault", 740): {"mode": "cow", "kb": 4},
             ("bench_mix", 800): {"ws_kb": 4, "every": 1},
             ("bench_lebench", 1000): None,
             ("bench_getpid_harts", 1100): {"harts": 1},
             ("bench_shootdown", 1120): {"pages": 1, "remote": 0},
             ("bench_pingpong_harts", 1150): {"placement": "same"},
             ("bench_storm", 1160): {"harts": 1},
             ("bench_kv_harts", 1170): {"clients": 1}}  # lebench: not in the TLB runs (no mapping)
    assert set(entries) == set(probe), entries
    for (name, base), params in probe.items():
        if params is not None:
            assert region_id(name, params) == base, (name, params)
    assert region_id("bench_fault", {"mode": "protfault"}) == 760  # said on the cow line
    # the other ids of the formulas, as the benchmarks compute them
    assert region_id("bench_fork", {"touched_kb": 16384}) == 62
    assert region_id("bench_pipe", {"mode": "bw", "size": 65536}) == 617
    assert region_id("bench_pipe", {"mode": "ctx", "procs": 8, "ws_kb": 64}) == 620 + 8 * 6 + 7
    assert region_id("bench_pipe", {"mode": "ctx", "procs": 2, "ws_kb": 16}) == 620 + 8 * 5 + 1
    assert region_id("bench_app", {"workload": "kv", "kv_kb": 1024}) == 703
    assert region_id("bench_fault", {"mode": "first_touch", "kb": 65536}) == 734
    assert region_id("bench_fault", {"mode": "cow", "kb": 16384}) == 752
    assert region_id("bench_mix", {"ws_kb": 256, "every": 100000}) == 800 + 8 * 6 + 5
    assert region_id("bench_lebench", {"case": "getpid"}) is None
    table = dict(entries[:1] + [e for e in entries if e[0] in ("bench_tlb", "bench_ctx")])
    for name, const in (("bench_null", "REGION"), ("bench_tlb", "REGION_BASE"),
                        ("bench_ctx", "REGION_BASE")):
        src = (REPO / "user/bench" / f"{name}.cpp").read_text()
        m = re.search(rf"constexpr int {const} = (\d+);", src)
        assert m and int(m.group(1)) == table[name], name


# ------------------------------------------------------------------ per-op extraction

def test_null_per_op_metrics() -> None:
    df = frame("s1-noasid", "bench_null")
    assert set(df["mode"]) == {"tlb"} and set(df["preset"]) == {"u54"}
    got = {m: metric(df, m) for m in df["metric"]}
    assert got == {
        "iters": 2000, "tlb_insns_per_op": 138, "tlb_l1i_misses_per_op": 7,
        "tlb_l1d_misses_per_op": 6, "tlb_l2_hits_per_op": 1, "tlb_l2_misses_per_op": 12,
        "tlb_walk_refs_per_op": 33, "tlb_misses_after_flush_per_op": 13,
        "tlb_flushes_per_op": 4, "tlb_user_misses_per_op": 2, "tlb_user_l1d_misses_per_op": 0,
        "tlb_kernel_misses_per_op": 11}
    # one cost model (harness/report/costmodel.py): the old free-satp formula is gone
    assert CYCLE_MODEL["l2_hit"] == 4 and CYCLE_MODEL["walk_ref"] == 20


def test_ctx_divides_by_switch_ops() -> None:
    """bench_ctx's iters are passes x processes (switch ops): the region is divided by them."""
    df = frame("s1-noasid", "bench_ctx")
    assert metric(df, "iters", "procs=2,ws_kb=0") == 400
    assert metric(df, "tlb_l1i_misses_per_op", "procs=2,ws_kb=0") == (800 + 2000) / 400
    assert metric(df, "tlb_l1d_misses_per_op", "procs=2,ws_kb=0") == (200 + 2800) / 400
    assert metric(df, "tlb_l1d_misses_per_op", "procs=1,ws_kb=0") == 1200 / 200
    assert metric(df, "tlb_user_misses_per_op", "procs=2,ws_kb=16") == (800 + 1800) / 400
    # the CSV keeps every line raw; the table subtracts the 1-process line
    assert sel.ctx_switch_tlb(df, "s1-noasid", "tlb_l1d_misses_per_op", "u54") == (1.5, True)
    assert sel.ctx_switch_tlb(df, "s1-noasid", "tlb_l1i_misses_per_op", "u54") == (0.0, True)
    assert sel.ctx_switch_tlb(df, "s1-noasid", "tlb_l1d_misses_per_op", "u54",
                              subtract=False) == (7.5, False)
    assert sel.ctx_switch_tlb(df, "s1-noasid", "tlb_l1d_misses_per_op", "c906") is None


def test_bench_tlb_lines() -> None:
    df = frame("s2-asid", "bench_tlb")
    for k in range(11):
        K = 2 ** k
        got = metric(df, "tlb_user_l1d_misses_per_op", f"pages={K}")
        assert got == (0 if K <= 16 else K), K


def test_preset_without_l2_has_no_l2_metrics() -> None:
    rep = load_report(TLB_FIX / "bench_null.json")
    rep["config"]["l2"] = None
    rows = rows_from_report(variant_by_name("s1-noasid"), "u54", console("bench_null.log"), rep)
    names = {r["metric"] for r in rows}
    assert "tlb_l2_hits_per_op" not in names and "tlb_l2_misses_per_op" not in names
    assert "tlb_insns_per_op" in names and "model_cycles_per_op" not in names


def test_missing_region_or_counter_fails() -> None:
    rep = load_report(TLB_FIX / "bench_null.json")
    broken = copy.deepcopy(rep)
    del broken["regions"]["1"]
    with pytest.raises(TlbReportError, match="region 1 of bench_null"):
        rows_from_report(variant_by_name("s1-noasid"), "u54", console("bench_null.log"), broken)
    broken = copy.deepcopy(rep)
    del broken["regions"]["1"]["total"]["walk_refs"]
    with pytest.raises(TlbReportError, match="walk_refs"):
        rows_from_report(variant_by_name("s1-noasid"), "u54", console("bench_null.log"), broken)
    with pytest.raises(TlbReportError, match="iters"):
        op_metrics(rep["regions"]["1"], 0, has_l2=True)


def test_mismatch_and_wrong_config_fail() -> None:
    with pytest.raises(TlbReportError, match="2 translation mismatches"):
        load_report(TLB_FIX / "mismatch.json")
    with pytest.raises(TlbReportError, match="preset 'u54', expected 'c906'"):
        load_report(TLB_FIX / "bench_null.json", preset="c906")
    with pytest.raises(TlbReportError, match="asid='off', expected 'on'"):
        load_report(TLB_FIX / "bench_null.json", asid="on")
    with pytest.raises(TlbReportError):
        load_report(TLB_FIX / "no-such-report.json")


# ------------------------------------------------------------------ the probe

def test_probe_facts() -> None:
    rep = load_report(TLB_FIX / "kernel_probe.json")
    f = probe_facts(rep)
    assert f == {"probe_own_slot_hit": True, "own_slot_hits_on_kernel_entries": 1,
                 "own_slot_probes": 1, "probe_other_process_hit": False,
                 "other_process_hits_on_kernel_entries": 0, "other_process_probes": 1}
    broken = copy.deepcopy(rep)
    broken["regions"]["31"]["U"]["user_kernel_probes"] = 0
    with pytest.raises(TlbReportError, match="probe did not run"):
        probe_facts(broken)
    del broken["regions"]["30"]
    with pytest.raises(TlbReportError, match="region 30"):
        probe_facts(broken)


# ------------------------------------------------------------------ tidy

def test_tidy_round_trip_with_preset(tmp_path: Path) -> None:
    v = variant_by_name("s1-noasid")
    rows: List[Dict[str, Any]] = [
        make_row(v, "bench_null", {}, mode="icount", metric="insns_per_op", value=138),
        make_row(v, "bench_null", {}, mode="wall", metric="ns_per_op", value=900, repetition=1)]
    df = make_frame(rows + rows_from_report(v, "u54", console("bench_ctx.log"),
                                            load_report(TLB_FIX / "bench_ctx.json"))
                    + rows_from_report(v, "c906", console("bench_null.log"),
                                       load_report(TLB_FIX / "bench_null.json")))
    assert list(df.columns) == ["variant", "scheme", "asid", "kmap", "paging", "harts", "config", "bench",
                                "params", "param_procs", "param_ws_kb", "mode", "preset",
                                "kaslr_seed", "metric", "value", "unit", "repetition"]
    write_csv(df, tmp_path / "m.csv")
    back = read_csv(tmp_path / "m.csv")
    pdt.assert_frame_equal(df, back)
    assert set(back.loc[back["mode"] != "tlb", "preset"]) == {""}
    assert set(back.loc[back["mode"] == "tlb", "preset"]) == {"u54", "c906"}
    assert sel.presets(back) == ["u54", "c906"]
    assert sel.tlb_value(back, "s1-noasid", "bench_null", "tlb_l1i_misses_per_op", "c906") == 7
    # an icount lookup never sees tlb rows
    assert sel.icount_value(back, "s1-noasid", "bench_null", "insns_per_op") == 138


def test_preset_only_on_tlb_rows(tmp_path: Path) -> None:
    v = variant_by_name("s2-asid")
    with pytest.raises(ValueError, match="preset"):
        make_row(v, "bench_null", {}, mode="tlb", metric="x", value=1)
    with pytest.raises(ValueError, match="preset"):
        make_row(v, "bench_null", {}, mode="icount", metric="x", value=1, preset="u54")
    # a table written before the preset column existed still reads (preset "")
    old = tmp_path / "old.csv"
    old.write_text("variant,scheme,asid,bench,params,mode,metric,value,repetition\n"
                   "s2-asid,2,True,bench_null,,icount,insns_per_op,104,0\n")
    df = read_csv(old)
    assert list(df["preset"]) == [""] and df["value"].iloc[0] == 104


# ------------------------------------------------------------------ the table

def _rows(md: str) -> Dict[str, List[str]]:
    out = {}
    for ln in md.splitlines():
        if ln.startswith("| TLB behaviour") or ln.startswith("| Security"):
            cells = [c.strip() for c in ln.strip().strip("|").split(" | ")]
            out[cells[0].split()[0].split("/")[0].lower()] = cells
    return out


def test_table_tlb_row_fixture_has_no_tlb_loading_workload(
        fixture_df: pd.DataFrame, fixture_facts: Dict[str, Any]) -> None:
    """The fixture's TLB runs are bench_null and bench_ctx at ws 0 only: nothing that loads
    the TLB, so the row is not measured (never ranked on a null call); the per-variant TLB
    table below keeps the null-call and switch figures."""
    md = render_comparison(fixture_df, fixture_facts)
    tlb = _rows(md)["tlb"]
    assert tlb[0] == "TLB behaviour (model)"
    assert "not measured [u54]" in tlb[1] and tlb[4] == "n/a"
    # definitions: the row and the cycle model's parameters
    assert "**TLB behaviour (model)**" in md and "tie within 2%" in md  # one band for ratios
    assert "satp writes × satp" in md and "L2-TLB hits × L2 hit" in md  # the one cost model
    assert "a model, not measured hardware time" in md
    # the per-variant TLB table
    # the fixture has no cost-model events: its modelled cycles are not given (the old formula
    # that priced it is gone)
    assert "| s1-noasid | u54 | 7 / 6 | 2 | 13 | 33 | 1 / 0.50 | – / – |" in md


def test_table_security_cells_and_probe_paragraph(fixture_df: pd.DataFrame,
                                                  fixture_facts: Dict[str, Any]) -> None:
    md = render_comparison(fixture_df, fixture_facts)
    sec = _rows(md)["security"]
    assert "TLB probe (u54): own-slot hit no, other-process hit no" in sec[1]
    assert "TLB probe (u54): own-slot hit yes, other-process hit yes" in sec[2]
    assert "TLB probe (u54): own-slot hit yes, other-process hit no" in sec[3]
    assert sec[4] == "disagree"  # the ranking rule is unchanged by the probe
    assert ("- s3-asid: u54: own slot yes (1 hit(s) in 1 probe(s)), other process no (0 in 1) "
            "[`results/evidence/s3-asid/tlb-kernel_probe-u54.json.gz`]") in md
    assert "- s1-noasid: u54: own slot no" in md


def test_table_plugin_not_built(fixture_df: pd.DataFrame,
                                fixture_facts: Dict[str, Any]) -> None:
    facts = copy.deepcopy(fixture_facts)
    facts["tlbmodel"].update(built=False, build_error="make failed with status 2")
    for vf in facts["variants"].values():
        vf["tlb_probe"] = {}
    df = fixture_df[fixture_df["mode"] != "tlb"]
    md = render_comparison(df, facts)
    rows = _rows(md)
    for s in (1, 2, 3):
        assert ("not measured (TLB-model plugin not built: make failed with status 2; log: "
                "results/logs/build-tlbmodel.log)") in rows["tlb"][s]
        assert "TLB probe (u54): not measured" in rows["security"][s]
    assert rows["tlb"][4] == "n/a"
    assert "- TLB-model plugin: not built — make failed with status 2 (command: " \
           "`make -C tlbmodel O=build/tlbmodel`, log: `results/logs/build-tlbmodel.log`)" in md
    assert "TLB model figures" not in md


def test_table_failed_tlb_runs(fixture_df: pd.DataFrame,
                               fixture_facts: Dict[str, Any]) -> None:
    """A failed TLB run (e.g. mismatches) leaves its figures 'not measured', says so, and is
    listed with its log and report."""
    facts = copy.deepcopy(fixture_facts)
    vf = facts["variants"]["s3-noasid"]
    vf["tlb_probe"] = {}
    for bench in ("kernel_probe", "bench_null", "bench_ctx"):
        vf["run_failures"].append({
            "bench": bench, "mode": "tlb", "preset": "u54",
            "error": "TLB-model report unusable: x.json: 945 translation mismatches\n  ...",
            "log": f"results/logs/s3-noasid/tlb-{bench}-u54.log",
            "report": f"results/logs/s3-noasid/tlb-{bench}-u54.json"})
    df = fixture_df[~((fixture_df["variant"] == "s3-noasid") & (fixture_df["mode"] == "tlb"))]
    md = render_comparison(df, facts)
    rows = _rows(md)
    # bench_ctx is a TLB workload of the row (bench_null no longer is)
    assert "noasid: not measured [u54]: failed run of bench_ctx (listed below)" \
        in rows["tlb"][3]
    assert "noasid: kernel mapped" in rows["security"][3]
    assert "TLB probe (u54): not measured (failed run, listed below)" in rows["security"][3]
    assert "- s3-noasid: u54: not measured (failed run, listed below)" in md
    assert ("- s3-noasid kernel_probe (TLB model, u54): TLB-model report unusable: x.json: 945 "
            "translation mismatches (log: `results/logs/s3-noasid/tlb-kernel_probe-u54.log`, "
            "report: `results/logs/s3-noasid/tlb-kernel_probe-u54.json`)") in md


# ------------------------------------------------------------------ plots

def test_tlb_plots_render(fixture_df: pd.DataFrame, tmp_path: Path) -> None:
    from harness.plots import make_plots
    written, skipped = make_plots(fixture_df, tmp_path)
    names = {p.name for p in written}
    assert {"tlb_model_misses.png", "tlb_model_pollution.png",
            "cost_breakdown.png"} <= names, skipped
    for n in ("tlb_model_misses.png", "tlb_model_pollution.png", "cost_breakdown.png"):
        assert (tmp_path / n).stat().st_size > 1000
    written, skipped = make_plots(fixture_df[fixture_df["mode"] != "tlb"], tmp_path / "none")
    assert not any(p.name.startswith("tlb_model") for p in written)
    assert "TLB model: misses: no data" in skipped


# ------------------------------------------------------------------ runs (fake QEMU)

@pytest.fixture
def fake_built(fake_repo: Path, tmp_path: Path) -> RunOptions:
    from harness.tlb import build_plugin
    for name in ("s1-noasid", "s2-asid"):
        build_variant(variant_by_name(name), fake_repo, tmp_path / "logs").check()
    assert build_plugin(fake_repo, tmp_path / "logs").ok
    return RunOptions(repo=fake_repo, results=tmp_path / "results", quick=True, reps=1,
                      timeout=60, qemu=str(FAKE_QEMU), progress=False)


def test_measure_tlb_with_fake_qemu(fake_built: RunOptions) -> None:
    v = variant_by_name("s1-noasid")
    rows = pd.DataFrame(measure_tlb(v, TLB_BENCH_BY_NAME["bench_ctx"], "c906", fake_built))
    assert set(rows["mode"]) == {"tlb"} and set(rows["preset"]) == {"c906"}
    assert set(rows["params"]) == {"procs=1,ws_kb=0", "procs=2,ws_kb=0"}  # quick: ws 0 only
    log, report, plugin_log = tlb_paths(fake_built.log_root, v.name, "bench_ctx", "c906")
    text = log.read_text()
    assert "init=bench_ctx 20 2 0" in text and report.is_file()
    assert log.name == "tlb-bench_ctx-c906.log" and report.name == "tlb-bench_ctx-c906.json"
    f = probe_tlb(variant_by_name("s2-asid"), "u54", fake_built)
    assert (f["probe_own_slot_hit"], f["probe_other_process_hit"]) == (True, True)
    assert f["report"].endswith("s2-asid/tlb-kernel_probe-u54.json")


def test_tlb_command_line(fake_built: RunOptions, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.measure as m
    seen: List[List[str]] = []
    real = m.run_qemu

    def spy(cmd, **kw):  # type: ignore[no-untyped-def]
        seen.append(list(cmd))
        return real(cmd, **kw)

    monkeypatch.setattr(m, "run_qemu", spy)
    measure_tlb(variant_by_name("s1-noasid"), TLB_BENCH_BY_NAME["bench_null"], "u54",
                fake_built)
    cmd = seen[0]
    assert cmd[cmd.index("-icount") + 1] == "shift=0,sleep=off"
    plugin = cmd[cmd.index("-plugin") + 1]
    # the U54 has no ASID bits: the kernel boots capped to 0 and the model uses 0
    lru = ",lru_profile=on" if lru_profile_supported() else ""
    assert plugin.startswith(f"build/tlbmodel/libtlbmodel.so,preset=u54,asid_bits=0{lru},out=")
    assert plugin.endswith("logs/s1-noasid/tlb-bench_null-u54.json")
    assert cmd[-2:] == ["-append", "asid_bits=0 init=bench_null 200"]
    # an ASID variant on the C906 (16 bits): kernel and model at 16
    rows = measure_tlb(variant_by_name("s2-asid"), TLB_BENCH_BY_NAME["bench_null"], "c906",
                       fake_built)
    cmd = seen[1]
    assert f",preset=c906,asid_bits=16{lru},out=" in cmd[cmd.index("-plugin") + 1]
    assert cmd[-2:] == ["-append", "asid_bits=16 init=bench_null 200"]
    assert rows and all(r["preset"] == "c906" for r in rows)
    # an ASID variant on the U54: the kernel is capped to 0 bits, so the model has none
    measure_tlb(variant_by_name("s2-asid"), TLB_BENCH_BY_NAME["bench_null"], "u54", fake_built)
    cmd = seen[2]
    assert f",preset=u54,asid_bits=0{lru},out=" in cmd[cmd.index("-plugin") + 1]
    assert cmd[-2:] == ["-append", "asid_bits=0 init=bench_null 200"]


def test_mismatch_run_is_a_failed_run(fake_built: RunOptions,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_QEMU_MODE", "tlb-mismatch")
    v = variant_by_name("s2-asid")
    with pytest.raises(TlbRunError) as info:
        measure_tlb(v, TLB_BENCH_BY_NAME["bench_null"], "u54", fake_built)
    msg = str(info.value)
    assert "3 translation mismatches" in msg and "s2-asid" in msg and "-plugin" in msg
    assert "tlb-bench_null-u54.log" in msg and "report:  " in msg
    facts: Dict[str, Any] = {"variants": {}}
    df = run_all([v], [], fake_built, facts, kaslr=False,
                 tlb_benches=[TLB_BENCH_BY_NAME["bench_null"]], tlb_presets=["u54"])
    assert df.empty  # never numbers
    fails = facts["variants"]["s2-asid"]["run_failures"]
    assert sorted(f["bench"] for f in fails) == ["bench_null", "kernel_probe"]
    for f in fails:
        assert f["mode"] == "tlb" and f["preset"] == "u54"
        assert f["report"].endswith(f"tlb-{f['bench']}-u54.json")
        assert f["log"].endswith(f"tlb-{f['bench']}-u54.log")
    assert facts["variants"]["s2-asid"].get("tlb_probe", {}) == {}


def test_missing_report_is_a_failed_run(fake_built: RunOptions,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_QEMU_MODE", "tlb-no-report")
    with pytest.raises(TlbRunError, match="No such file"):
        probe_tlb(variant_by_name("s2-asid"), "u54", fake_built)


def test_fixture_facts_are_json(fixture_facts: Dict[str, Any]) -> None:
    json.dumps(fixture_facts)  # the fixture stays plain JSON
    assert fixture_facts["tlbmodel"]["presets"] == ["u54"]


# ------------------------------------------------------------------ presets and ASID widths

def test_preset_asid_widths() -> None:
    """The cores' ASID widths: none on the FU540's U54, the JH7110's U74 (satp.ASID reads back
    0) and rocket-chip's default; 16 on the T-Head cores and XiangShan (docs/tlbmodel.md)."""
    assert {n: p.asid_bits for n, p in PRESETS.items()} == {
        "u54": 0, "u74": 0, "rocket": 0, "c906": 16, "c910": 16, "xiangshan": 16, "ideal": 16}
    assert set(PRESET_TEXT) == set(PRESETS) and {"u54", "c906"} <= set(PRESET_TEXT)
    with pytest.raises(ValueError, match="unknown TLB-model preset"):
        preset_asid_bits("z80")


@pytest.mark.parametrize("variant,preset,kbits,mbits,asid,hypo", [
    ("s1-asid", "u54", 0, 0, "off", False),     # capped: the kernel fences after satp writes
    ("s1-asid", "c906", 16, 16, "on", False),
    ("s2-noasid", "c906", 16, 0, "off", False),  # ASID=n kernel: the cap changes nothing
    ("s3-noasid", "u74", 0, 0, "off", False),
])
def test_run_config_capped(variant: str, preset: str, kbits: int, mbits: int, asid: str,
                           hypo: bool) -> None:
    rc = run_config(variant_by_name(variant), preset)
    assert (rc.kernel_asid_bits, rc.model_asid_bits, rc.asid, rc.hypothetical) == \
        (kbits, mbits, asid, hypo)
    assert rc.bootargs == [f"asid_bits={kbits}"]
    assert run_label(variant_by_name(variant), preset) == preset


def test_run_config_uncapped_is_hypothetical_on_a_core_without_asids() -> None:
    v = variant_by_name("s2-asid")
    rc = run_config(v, "u54", cap_kernel=False)
    assert (rc.kernel_asid_bits, rc.model_asid_bits, rc.asid, rc.hypothetical) == \
        (None, 16, "on", True)
    assert rc.bootargs == []
    assert run_label(v, "u54", cap_kernel=False) == \
        "u54 (hypothetical: 16 ASID bits on SiFive U54 (FU540), which has none)"
    assert not run_config(v, "c906", cap_kernel=False).hypothetical
    assert not run_config(variant_by_name("s2-noasid"), "u54", cap_kernel=False).hypothetical


def test_with_bootargs_goes_before_init() -> None:
    cmd = ["qemu", "-kernel", "k", "-append", "init=bench_null 200"]
    assert with_bootargs(cmd, ["asid_bits=0"])[-2:] == ["-append", "asid_bits=0 init=bench_null 200"]
    assert with_bootargs(cmd, []) == cmd
    assert cmd[-1] == "init=bench_null 200"  # not modified in place
    with pytest.raises(ValueError):
        with_bootargs(["qemu"], ["asid_bits=0"])


def test_plugin_arg_with_asid_bits() -> None:
    assert plugin_arg("p.so", preset="u54", asid="off", out="r.json", asid_bits=0,
                      lru_profile=False) == "p.so,preset=u54,asid_bits=0,out=r.json"
    assert plugin_arg("p.so", preset="c906", asid="on", out="r.json", asid_bits=16,
                      lru_profile=False) == "p.so,preset=c906,asid_bits=16,out=r.json"
    assert plugin_arg("p.so", preset="c906", asid="on", out="r.json", asid_bits=16,
                      lru_profile=True) == "p.so,preset=c906,asid_bits=16,lru_profile=on,out=r.json"
    with pytest.raises(ValueError):
        plugin_arg("p.so", preset="u54", asid="on", out="r.json", asid_bits=0)


def test_report_asid_bits_and_hypothetical_label(tmp_path: Path) -> None:
    rep = json.loads((TLB_FIX / "bench_null.json").read_text())
    rep["config"].update(asid_bits=16, core_asid_bits=0, hypothetical="yes")
    path = tmp_path / "r.json"
    path.write_text(json.dumps(rep))
    assert report_is_hypothetical(load_report(path, asid_bits=16))
    with pytest.raises(TlbReportError, match="asid_bits=16, expected 0"):
        load_report(path, asid_bits=0)
    assert not report_is_hypothetical({"config": {"hypothetical": "no"}})


def test_plugin_model_cycles_per_op() -> None:
    """The plugin's per-preset modelled cycles, divided by iters like every other metric."""
    region = {"insns": 100, "total": {"insns": 100, "l1i_misses": 0, "l1d_misses": 0,
                                      "walk_refs": 3, "l1i_misses_after_flush": 0,
                                      "l1d_misses_after_flush": 0, "flushes": 1, "l2_hits": 0,
                                      "l2_misses": 0, "model_cycles": 250},
              "U": {"l1i_misses": 0, "l1d_misses": 0}, "S": {"l1i_misses": 0, "l1d_misses": 0}}
    m = op_metrics(region, 10, has_l2=False)
    assert m["tlb_model_cycles_per_op"] == 25.0
    assert "model_cycles_per_op" not in m  # the old formula (a free satp write) is gone
    del region["total"]["model_cycles"]
    assert "tlb_model_cycles_per_op" not in op_metrics(region, 10, has_l2=False)


# ------------------------------------------------------------------ sweeps: events and LRU

def test_event_and_lru_rows_from_a_report(tmp_path: Path) -> None:
    """The cost model's event counts per op, and (for the crossover workloads only) the
    misses of every LRU size from the report's stack-distance profile, hand-computed."""
    from harness.tlb import LRU_SIZES, lru_metric
    rep = json.loads((TLB_FIX / "bench_tlb.json").read_text())
    t = rep["regions"]["206"]["total"]  # K = 64
    t.update(satp_writes=40, sfence_all=0, sfence_asid=0, sfence_va=20, sfence_va_asid=0,
             traps_from_u=20, srets=20, walk_cache_hits=0)
    # misses at N = not present + overflow + accesses at depth >= N
    hist = {"not_present": 10, "overflow": 0, "distances": {"5": 100, "40": 200, "100": 300}}
    empty = {"not_present": 0, "overflow": 0, "distances": {}}
    rep["lru_profile"] = {"cap": 4096, "totals": {"l1i": empty, "l1d": hist}, "modes": {},
                          "regions": {"206": {"total": {"l1i": empty, "l1d": hist}},
                                      "201": {"total": {"l1i": empty, "l1d": hist}}}}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(rep))
    df = make_frame(rows_from_report(variant_by_name("s2-asid"), "u54", console("bench_tlb.log"),
                                     load_report(path, preset="u54")))
    iters = metric(df, "iters", "pages=64")
    assert metric(df, "tlb_satp_writes_per_op", "pages=64") == 40 / iters
    assert metric(df, "tlb_sfences_per_op", "pages=64") == 20 / iters
    assert metric(df, "tlb_traps_per_op", "pages=64") == 20 / iters
    if lru_profile_supported():
        want = {4: 610, 8: 510, 10: 510, 16: 510, 24: 510, 32: 510, 40: 510, 48: 310,
                64: 310, 128: 10, 256: 10}
        assert sorted(want) == sorted(LRU_SIZES)
        for n, misses in want.items():
            assert metric(df, lru_metric("d", n), "pages=64") == misses / iters
            assert metric(df, lru_metric("i", n), "pages=64") == 0
        # K = 2 is not a crossover workload: no LRU rows for it
        assert df[(df["params"] == "pages=2") & df["metric"].str.startswith("tlb_lru")].empty
    # an older report (no event counters, no profile): neither kind of row
    old = frame("s2-asid", "bench_tlb")
    assert not old["metric"].str.startswith("tlb_lru").any()
    assert "tlb_satp_writes_per_op" not in set(old["metric"])


def test_presets_are_read_from_the_plugins_definitions(tmp_path: Path) -> None:
    """harness.tlb.PRESETS is the plugin's own listing (build/tlbmodel/presets.json, printed
    from tlbmodel/src/presets.cpp), field for field; nothing in the harness restates a preset
    (tlbmodel/tests/test_tlbmodel_presets.py checks the listing against the plugin under QEMU)."""
    import json
    from harness.tlb import PRESETS_JSON, load_presets
    listing = json.loads((REPO / PRESETS_JSON).read_text())["presets"]
    assert list(PRESETS) == [d["name"] for d in listing]
    for d in listing:
        p = PRESETS[d["name"]]
        assert (p.core, p.text, p.asid_bits) == (d["core"], d["text"], d["asid_bits"])
        assert p.l1i == (None if d["l1i"]["entries"] == "infinite" else d["l1i"]["entries"])
        assert p.l1d == (None if d["l1d"]["entries"] == "infinite" else d["l1d"]["entries"])
        assert p.satp_write == d["cost_model"]["satp_write"]
    assert load_presets() == PRESETS
    # a failing listing is an error with make's output, never an empty table
    with pytest.raises(RuntimeError, match="cannot list the TLB-model presets"):
        load_presets(make="false")
    assert not re.search(r'PresetInfo\("', (REPO / "harness" / "tlb.py").read_text())


def test_crossover_plots_render(tmp_path: Path) -> None:
    """One figure of crossover curves, drawn when a ratio crosses 1 in range (the synthetic
    S1/S2 at 15 cycles), with or without an LRU profile."""
    from harness.plots import make_plots
    from harness.tests.test_table import synthetic
    df, _ = synthetic()
    written, skipped = make_plots(df, tmp_path)
    assert "crossover_curves.png" in {p.name for p in written}, skipped
    assert (tmp_path / "crossover_curves.png").stat().st_size > 1000
    df, _ = synthetic(lru=True)
    written, _ = make_plots(df, tmp_path / "lru")
    assert "crossover_curves.png" in {p.name for p in written}
