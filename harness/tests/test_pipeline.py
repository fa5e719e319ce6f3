"""End-to-end runs of the whole pipeline on the fake tree (fake Makefile, fake QEMU, fake
TLB-model plugin): every variant, benchmark and TLB preset, the CSV, facts, metadata, plots and
table. No kernel; marked slow (not unit) because they run the full matrix of fake boots."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.benchspec import BENCH_BY_NAME
from harness.cli import main
from harness.tidy import read_csv

from .conftest import FAKE_QEMU

pytestmark = pytest.mark.slow


def test_reproduce_end_to_end(fake_repo: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    rc = main(["reproduce", "--quick", "--reps", "1", "--repo", str(fake_repo), "--results",
               str(results), "--qemu", str(FAKE_QEMU), "--no-progress"])
    assert rc == 1  # scheme 3 does not build: reported (cells say 'not built') and a failure
    df = read_csv(results / "measurements.csv")
    built = ["s1-asid", "s1-noasid", "s2-asid", "s2-noasid", "s1-asid-4k", "s2-asid-4k",
             "s1-asid-dc", "s2-asid-dc", "s2-kaslr",
             # the multi-hart variants of schemes 1 and 2 (issue 17)
             "s1-asid-h2", "s2-asid-h2", "s1-asid-h4", "s1-noasid-h4", "s2-asid-h4",
             "s2-noasid-h4", "s1-asid-h4-ipi", "s2-asid-h4-ipi"]
    assert sorted(df["variant"].unique()) == sorted(built)
    # the CSV's bench is the program: bench_fork_sizes runs bench_fork
    assert set(df["bench"]) == {b.prog for b in BENCH_BY_NAME.values()}
    # the -dc variants run the paging benchmarks only, and carry paging=demand-cow
    dc = df[df["variant"].str.endswith("-dc")]
    assert set(dc["bench"]) == {"bench_fault", "bench_fork", "bench_pipe", "bench_app"}
    assert set(dc["paging"]) == {"demand-cow"}
    assert set(df[~df["variant"].str.endswith("-dc")]["paging"]) == {"eager-copy"}
    assert len(df[(df["bench"] == "bench_copy") & (df["metric"] == "insns_per_op")]) == 7 * 14  # the non-dc variants built (s2-kaslr among them)
    meta = json.loads((results / "metadata.json").read_text())
    assert sorted(meta["variants_missing"]) == ["s3-asid", "s3-asid-4k", "s3-asid-dc",
                                                "s3-asid-h2", "s3-asid-h4", "s3-asid-h4-ipi",
                                                "s3-noasid", "s3-noasid-h4"]
    assert meta["variants_built"] == built
    assert {"qemu", "compiler", "git", "machine", "date", "command_line",
            "elapsed_seconds"} <= set(meta)
    facts = json.loads((results / "facts.json").read_text())
    assert facts["variants"]["s2-asid"]["kaslr"]["distinct"] == 1
    assert facts["variants"]["s1-asid"]["loc"]["scheme_src"] == 3
    assert facts["variants"]["s1-asid"]["loc"]["trap_s_specific"] == 2
    assert facts["variants"]["s3-asid"]["built"] is False
    md = (results / "comparison.md").read_text()
    assert "asid: *not built*<br>noasid: *not built*<br>**measured: not built**" in md
    plots = sorted(p.name for p in (results / "plots").iterdir())
    assert plots == ["copy_vs_size.png", "cost_breakdown.png", "ctx_vs_working_set.png",
                     "fault_cost_vs_size.png", "lebench_relative.png",
                     "mix_insns_per_access.png", "mix_tlb_misses_per_access.png",
                     "null_syscall.png", "pipe_bandwidth.png", "pipe_ctx_vs_working_set.png",
                     "pipe_latency.png", "robustness_matrix.png", "satp_sfence_per_op.png",
                     "tlb_model_misses.png",
                     "tlb_model_pollution.png", "tlb_pollution.png", "verdict_ratios.png",
                     "wall_repetitions.png"]
    assert "## Workloads" in md
    # the TLB-model runs (fake plugin and reports): every built variant x preset x bench
    assert facts["tlbmodel"]["built"] is True and facts["tlbmodel"]["presets"] == ["u54", "c906"]
    assert facts["tlbmodel"]["build_log"].endswith("build-tlbmodel.log")
    tlb = df[df["mode"] == "tlb"]
    assert set(tlb["preset"]) == {"u54", "c906"} and set(df[df["mode"] != "tlb"]["preset"]) == {""}
    assert set(tlb["bench"]) == {"bench_null", "bench_ctx", "bench_tlb", "bench_pipe",
                                 "bench_mix", "bench_app"}
    assert tlb.groupby("preset")["variant"].nunique().to_dict() == {"c906": 9, "u54": 9}
    assert facts["variants"]["s2-asid"]["tlb_probe"]["u54"]["probe_other_process_hit"] is True
    assert facts["variants"]["s1-noasid"]["tlb_probe"]["c906"]["probe_own_slot_hit"] is False
    assert (results / "logs" / "s1-noasid" / "tlb-bench_null-u54.json").is_file()
    # the U54 has no ASID bits: TLB runs boot the kernel capped to 0 bits and the model has
    # none, so s1-asid runs as s1-noasid does there (13 = the fake's polluting 2 + 11)
    assert "| s1-asid | u54 | 2 / 11 | 2 | 13 |" in md      # the per-variant TLB table
    assert "| s1-noasid | u54 | 2 / 11 | 2 | 13 |" in md
    # the TLB row uses the first preset with ASIDs (c906) and the TLB-loading workloads
    assert "| TLB behaviour (model) | asid: c906: L1 I+D misses: bench_tlb K=64 " in md
    assert meta["options"]["tlb"]["presets"] == ["u54", "c906"]
    assert meta["options"]["kaslr_seeds"]["seeds"] == [1, 2]  # --quick's seed list
    assert (results / "logs" / "build-s3-asid.log").is_file()
    assert (results / "logs" / "s2-noasid" / "bench_null-wall-0.log").is_file()
    # bench_timer: icount only (its instret check is meaningless without -icount)
    assert not list((results / "logs" / "s2-noasid").glob("bench_timer-wall-*"))
    timer = df[df["bench"] == "bench_timer"]
    assert set(timer["mode"]) == {"icount"} and "insns_per_op" in set(timer["metric"])
    # report regenerates the same table from the files alone
    md_before = md
    assert main(["report", "--repo", str(fake_repo), "--results", str(results)]) == 0
    assert (results / "comparison.md").read_text() == md_before


def test_plugin_build_failure_is_not_measured(fake_repo: Path, tmp_path: Path) -> None:
    """A TLB-model plugin that does not build: TLB figures say 'not measured' with the log,
    everything else is measured as usual and the exit status stays 0 (1 with --strict)."""
    import shutil
    shutil.rmtree(fake_repo / "tlbmodel")
    results = tmp_path / "results"
    argv = ["reproduce", "--quick", "--repo", str(fake_repo), "--results", str(results),
            "--qemu", str(FAKE_QEMU), "--no-progress", "-V", "s1-asid", "s2-asid",
            "-B", "bench_null", "bench_ctx"]
    assert main(argv) == 0
    df = read_csv(results / "measurements.csv")
    assert not (df["mode"] == "tlb").any() and (df["mode"] == "icount").any()
    facts = json.loads((results / "facts.json").read_text())
    assert facts["tlbmodel"]["built"] is False
    assert facts["tlbmodel"]["build_log"].endswith("logs/build-tlbmodel.log")
    assert (results / "logs" / "build-tlbmodel.log").is_file()
    assert all(not vf["run_failures"] for vf in facts["variants"].values())
    md = (results / "comparison.md").read_text()
    assert "not measured (TLB-model plugin not built: make failed with status 2" in md
    assert "- TLB-model plugin: not built" in md
    assert main(argv + ["--strict"]) == 1
