"""The issue-11 workloads in the harness: parsing, tidying, the -dc variants and the paging
column, the task matrix, TLB region ids, and the plots, from console logs of real runs
(harness/tests/fixtures/workloads/, quick arguments; see the README there)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict

import pandas as pd
import pytest

from harness.benchspec import (BENCH_BY_NAME, BENCHES, TLB_BENCH_BY_NAME, TLB_BENCHES,
                               runs_in)
from harness.measure import all_tasks
from harness.parse import Context, parse_bench_output
from harness.plots import make_plots
from harness.tidy import make_frame, read_csv, rows_from_output, write_csv
from harness.tlb import region_id
from harness.variants import ALL_VARIANTS, VARIANT_NAMES, paging_of, variant_by_name

from .conftest import FIXTURES

pytestmark = pytest.mark.unit

WL = FIXTURES / "workloads"
CTX = Context("s2-asid-dc", ["qemu"], Path("x.log"))
# fixture -> (variant that printed it, program, the argv it ran with)
LOGS = {"bench_pipe.log": ("s2-asid-dc", "bench_pipe", "bench_pipe"),
        "bench_fault-dc.log": ("s2-asid-dc", "bench_fault", "bench_fault"),
        "bench_fault-eager.log": ("s2-asid", "bench_fault", "bench_fault"),
        "bench_fork-dc.log": ("s2-asid-dc", "bench_fork", "bench_fork_sizes"),
        "bench_fork-eager.log": ("s2-asid", "bench_fork", "bench_fork_sizes"),
        "bench_mix.log": ("s2-asid-dc", "bench_mix", "bench_mix"),
        "bench_lebench.log": ("s2-asid-dc", "bench_lebench", "bench_lebench"),
        "bench_app.log": ("s2-asid-dc", "bench_app", "bench_app")}


def parsed(name: str):  # type: ignore[no-untyped-def]
    spec = BENCH_BY_NAME[LOGS[name][2]]
    return parse_bench_output((WL / name).read_text(), CTX,
                              min_lines=spec.expected_lines(quick=True))


def frame() -> pd.DataFrame:
    rows = []
    for name, (v, prog, _) in LOGS.items():
        out = parsed(name)
        var = variant_by_name(v)
        rows += rows_from_output(var, prog, out, mode="icount", repetition=0)
        rows += rows_from_output(var, prog, out, mode="wall", repetition=0)
    return make_frame(rows)


def test_fixtures_match_the_quick_argv() -> None:
    """Each fixture was printed by its spec's quick argv: the sizes in its lines are the quick
    arguments, and it has exactly quick_min_lines lines."""
    sizes = {"bench_pipe": ("size", {"mode": "bw"}), "bench_fault": ("kb", {"mode": "first_touch"}),
             "bench_fork_sizes": ("touched_kb", {}), "bench_mix": ("ws_kb", {"every": 1})}
    for name, (_, prog, spec_name) in LOGS.items():
        spec = BENCH_BY_NAME[spec_name]
        assert spec.prog == prog
        out = parsed(name)
        # bench_lebench: one more line (diag) on a kernel that has the call
        assert len(out.benches) == spec.quick_min_lines + (spec_name == "bench_lebench"), name
        if spec_name in sizes:
            key, where = sizes[spec_name]
            got = [r.params[key] for r in out.benches
                   if all(r.params.get(k) == v for k, v in where.items())]
            assert tuple(map(str, got)) == spec.quick_args[1:], name


def test_string_params_and_counts() -> None:
    pipe = parsed("bench_pipe.log")
    assert [r.params for r in pipe.benches[:3]] == [
        {"mode": "lat", "size": 1}, {"mode": "bw", "size": 64}, {"mode": "bw", "size": 4096}]
    assert len(pipe.benches) == 12
    leb = parsed("bench_lebench.log")
    assert leb.benches[0].params == {"case": "getpid"}
    assert leb.benches[0].values["traps_per_op"] == 1.0
    fault = parsed("bench_fault-dc.log")
    ft = {r.params["kb"]: r.values["faults"] for r in fault.benches
          if r.params.get("mode") == "first_touch"}
    assert ft == {4: 1.0, 64: 16.0, 1024: 256.0}  # one fault per page with demand paging


def test_tidy_rows_of_the_new_lines(tmp_path: Path) -> None:
    df = frame()
    assert {"param_mode", "param_case", "param_workload", "param_kb", "param_touched_kb",
            "param_every", "param_ws_kb", "param_procs", "param_size",
            "param_kv_kb", "param_lines"} <= set(df.columns)
    assert str(df["param_mode"].dtype) == "string" and str(df["param_size"].dtype) == "Int64"
    lat = df[(df["params"] == "mode=lat,size=1") & (df["mode"] == "icount")
             & (df["metric"] == "insns_per_op")]
    assert list(lat["value"]) == [4844.2] and list(lat["param_mode"]) == ["lat"]
    # the extra key is an icount metric only: wall rows carry ns_per_op alone
    assert "faults" in set(df[df["mode"] == "icount"]["metric"])
    assert set(df[df["mode"] == "wall"]["metric"]) == {"ns_per_op"}
    # the paging column follows the variant
    assert set(df[df["variant"] == "s2-asid-dc"]["paging"]) == {"demand-cow"}
    assert set(df[df["variant"] == "s2-asid"]["paging"]) == {"eager-copy"}
    write_csv(df, tmp_path / "m.csv")
    back = read_csv(tmp_path / "m.csv")
    pd.testing.assert_frame_equal(back, df)
    # a table written before the paging column: derived from the variant name
    old = pd.read_csv(tmp_path / "m.csv").drop(columns=["paging"])
    old.to_csv(tmp_path / "old.csv", index=False)
    assert (read_csv(tmp_path / "old.csv")["paging"] == df["paging"]).all()


def test_eager_vs_cow_figures() -> None:
    """What the fixtures show, as the table and plots read it: COW makes a 1 MiB fork cheaper
    and a child's first write a fault; eager copy pays at fork."""
    df = frame()

    def v(variant: str, bench: str, params: str) -> float:
        r = df[(df["variant"] == variant) & (df["bench"] == bench) & (df["params"] == params)
               & (df["mode"] == "icount") & (df["metric"] == "insns_per_op")]
        assert len(r) == 1
        return float(r["value"].iloc[0])
    assert v("s2-asid-dc", "bench_fork", "touched_kb=1024") < v("s2-asid", "bench_fork",
                                                                 "touched_kb=1024") / 5
    assert v("s2-asid-dc", "bench_fault", "kb=1024,mode=cow") > 10 * v(
        "s2-asid", "bench_fault", "kb=1024,mode=cow")


def test_variants_and_paging() -> None:
    assert VARIANT_NAMES[:9] == ["s1-asid", "s1-noasid", "s2-asid", "s2-noasid", "s3-asid",
                                 "s3-noasid", "s1-asid-4k", "s2-asid-4k", "s3-asid-4k"]
    assert VARIANT_NAMES[9:13] == ["s1-asid-dc", "s2-asid-dc", "s3-asid-dc", "s2-kaslr"]
    # then the multi-hart variants (issue 17), which run only the multi-hart benchmarks
    assert all(variant_by_name(n).harts > 1 for n in VARIANT_NAMES[13:])
    for v in ALL_VARIANTS[:9]:
        assert v.paging == "eager-copy" and "MEMORY_DEMAND=y" not in v.setconfig
    dc = variant_by_name("s3-asid-dc")
    assert dc.setconfig == ["MEMORY_DEMAND=y", "FORK_COW=y"] and dc.asid and not dc.kernel_4k
    assert dc.paging == paging_of("s3-asid-dc") == "demand-cow"
    assert paging_of("s3-asid-4k") == "eager-copy"


def test_multihart_variants_run_only_the_multihart_benchmarks() -> None:
    vs = [variant_by_name(n) for n in ("s2-asid", "s2-asid-h4")]
    tasks = all_tasks(vs, BENCHES, kaslr=False, tlb_benches=TLB_BENCHES, tlb_presets=["u54"],
                      tlb_probe=True)
    multi = {b.name for b in BENCHES if b.multihart}
    assert {"bench_getpid_harts", "bench_shootdown", "bench_pingpong_harts", "bench_storm",
            "bench_kv_harts"} <= multi
    by: Dict[str, set] = {}
    for t in tasks:
        by.setdefault(t.variant.name, set()).add((t.kind, t.what))
    assert {w for k, w in by["s2-asid-h4"] if k == "bench"} == multi
    assert multi < {w for k, w in by["s2-asid"] if k == "bench"}  # one hart runs them too


def test_dc_variants_run_only_the_paging_benchmarks() -> None:
    vs = [variant_by_name(n) for n in ("s1-asid", "s1-asid-dc")]
    tasks = all_tasks(vs, BENCHES, kaslr=False, tlb_benches=TLB_BENCHES, tlb_presets=["u54"],
                      tlb_probe=True)
    dc: Dict[str, set] = {}
    for t in tasks:
        dc.setdefault(t.variant.name, set()).add((t.kind, t.what))
    assert {w for k, w in dc["s1-asid-dc"] if k == "bench"} == {
        "bench_fault", "bench_fork_sizes", "bench_pipe", "bench_app"}
    assert {w for k, w in dc["s1-asid-dc"] if k == "tlb"} == {"bench_pipe", "bench_app"}
    assert ("tlb-probe", "kernel_probe") in dc["s1-asid-dc"]
    assert {w for k, w in dc["s1-asid"] if k == "bench"} == {b.name for b in BENCHES}
    assert all(runs_in(b, vs[0]) for b in BENCHES)


def test_quick_runs_are_small() -> None:
    """Quick argv of the new programs: iteration counts and sizes far below the full ones."""
    for name in ("bench_pipe", "bench_fault", "bench_fork_sizes", "bench_mix"):
        spec = BENCH_BY_NAME[name]
        assert int(spec.quick_args[0]) * 5 <= int(spec.args[0]), name
        assert max(map(int, spec.quick_args[1:])) <= 4096, name
    assert BENCH_BY_NAME["bench_fork_sizes"].args[1:] == ("64", "256", "1024", "4096", "16384")
    assert BENCH_BY_NAME["bench_fork_sizes"].prog == "bench_fork"
    assert BENCH_BY_NAME["bench_fork"].args == ("200",)  # the plain fork line, unchanged


def test_tlb_specs_have_regions() -> None:
    """Every line the TLB-model benchmarks print has a distinct region id (the fixtures' lines
    of the same programs; bench_mix's TLB working sets stay within region_begin's offsets)."""
    for name in ("bench_pipe.log", "bench_app.log", "bench_mix.log"):
        out = parsed(name)
        ids = [region_id(r.bench, r.params) for r in out.benches]
        assert None not in ids
        assert len(set(ids)) == len(ids), name
    for ws in map(int, TLB_BENCH_BY_NAME["bench_mix"].args[1:]):
        assert 8 * (ws // 4).bit_length() - 8 + 5 <= 63  # 8*log2(W/4) + log10(100000)


def test_workload_plots(tmp_path: Path) -> None:
    written, skipped = make_plots(frame(), tmp_path)
    names = {p.name for p in written}
    assert {"pipe_latency.png", "pipe_bandwidth.png", "pipe_ctx_vs_working_set.png",
            "fault_cost_vs_size.png", "mix_insns_per_access.png",
            "lebench_relative.png"} <= names
    assert "mix_tlb_misses_per_access.png" not in names  # no TLB rows in this frame
    for p in written:
        assert p.stat().st_size > 10000 and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_workloads_table_ranks_and_judges() -> None:
    """Pipe round trip S1 6000 / S2 4800 / S3 4900 insns: S2 best, S3 middle (2.1 % > 2 %),
    S1 worst, which is the document's process-switch order; a COW fork row from the -dc
    variants where S3 beats S2 disagrees with the performance row."""
    from harness.report import render_workloads
    from harness.tidy import make_row
    rows = []
    for s, lat, cow in ((1, 6000, 130000), (2, 4800, 128000), (3, 4900, 100000)):
        v, dc = variant_by_name(f"s{s}-asid"), variant_by_name(f"s{s}-asid-dc")
        rows.append(make_row(v, "bench_pipe", {"mode": "lat", "size": 1}, mode="icount",
                             metric="insns_per_op", value=lat))
        rows.append(make_row(v, "bench_pipe", {"mode": "lat", "size": 1}, mode="icount",
                             metric="satp_per_op", value=2 if s == 1 else 1))
        rows.append(make_row(dc, "bench_fork", {"touched_kb": 4096}, mode="icount",
                             metric="insns_per_op", value=cow))
    text = render_workloads(make_frame(rows))
    lines = {ln.split(" | ")[0].lstrip("| "): ln for ln in text.splitlines() if ln.startswith("| ")}
    pipe = lines["Pipe round trip (lat_pipe: 1 byte there and back)"]
    assert "6,000 insns, 2.00 satp/op [s1-asid]" in pipe
    assert "S1 worst, S2 best, S3 middle" in pipe and "| agree: measured order" in pipe
    cow = lines["Fork of a 4 MiB process, COW"]
    assert "S1 worst, S2 worst, S3 best" in cow and "| disagree: " in cow  # S1, S2 tie
    assert "not measured [s1-asid]" in lines["Fork of a 4 MiB process, eager copy"]


def test_mix_tlb_plot(tmp_path: Path) -> None:
    """bench_mix TLB rows (L1 I + D misses per access) draw the TLB figure, zeros included."""
    from harness.plots import plot_mix_tlb
    from harness.tidy import make_row
    rows = []
    for name, per_call in (("s1-noasid", 12.0), ("s2-asid", 0.0)):
        v = variant_by_name(name)
        for e in range(6):
            for metric in ("tlb_l1i_misses_per_op", "tlb_l1d_misses_per_op"):
                rows.append(make_row(v, "bench_mix", {"ws_kb": 64, "every": 10 ** e},
                                     mode="tlb", preset="u54", metric=metric,
                                     value=per_call / 10 ** e))
    p = plot_mix_tlb(make_frame(rows), tmp_path)
    assert p is not None and p.name == "mix_tlb_misses_per_access.png"
    assert plot_mix_tlb(make_frame(rows[:0]), tmp_path / "none") is None
