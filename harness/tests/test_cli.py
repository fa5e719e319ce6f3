"""The command line: option placement, validation, one-line errors and exit statuses, where
results go (results/ only from a complete successful reproduce, atomically), report's plot
ownership, `run` building a missing variant. Fake Makefile and fake QEMU only."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List

import pytest

from harness import cli
from harness.cli import main, parse_args
from harness.errors import UserError
from harness.plots import owned_files

from .conftest import FAKE_QEMU

pytestmark = pytest.mark.unit


def _run(argv: List[str], capsys: pytest.CaptureFixture) -> tuple:
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("argv, icount, guest", [
    (["run", "s1-asid", "bench_null", "1000", "--icount"], True, ["bench_null", "1000"]),
    (["run", "--icount", "s1-asid", "bench_null", "1000"], True, ["bench_null", "1000"]),
    (["run", "s1-asid", "--icount", "bench_null", "1000"], True, ["bench_null", "1000"]),
    (["run", "s1-asid", "--", "bench_null", "--icount"], False, ["bench_null", "--icount"]),
    (["run", "s1-asid", "bench_null", "--", "-3"], False, ["bench_null", "-3"]),
    (["run", "s1-asid", "bench_null", "-3"], False, ["bench_null", "-3"]),
])
def test_run_options_before_program_or_after_dashdash(argv: List[str], icount: bool,
                                                       guest: List[str]) -> None:
    a = parse_args(argv)
    assert a.icount is icount and [a.program, *a.args] == guest


def test_run_tlb_option_after_program_is_an_option() -> None:
    a = parse_args(["run", "s3-asid", "kernel_probe", "--tlb", "u54"])
    assert a.tlb == "u54" and a.program == "kernel_probe" and a.args == []


@pytest.mark.parametrize("argv", [
    ["bench", "--reps", "0"], ["bench", "--reps", "-3"], ["reproduce", "--timeout", "0"],
    ["bench", "--timeout", "-1"], ["bench", "--timeout", "nan"], ["bench", "-j", "0"],
    ["build", "--make-jobs", "0"], ["run", "s1-asid", "bench_null", "--timeout", "0"],
    ["bench", "--reps", "two"], ["nosuchcommand"], ["run", "s1-asid"],
    ["run", "nosuchvariant", "bench_null"],
])
def test_bad_options_exit_2_with_one_line(argv: List[str],
                                          capsys: pytest.CaptureFixture) -> None:
    rc, out, err = _run(argv, capsys)
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("harness: error:"), err
    assert "Traceback" not in err + out


def test_unwritable_results_is_a_user_error(fake_repo: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    rc, out, err = _run(["bench", "--repo", str(fake_repo), "--results", str(blocker / "sub"),
                         "--qemu", str(FAKE_QEMU), "--no-progress"], capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert str(blocker) in err


def test_foreign_results_directory_is_not_replaced(fake_repo: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("precious")
    rc, _, err = _run(["bench", "--repo", str(fake_repo), "--results", str(home),
                       "--qemu", str(FAKE_QEMU), "--no-progress"], capsys)
    assert rc == 2 and "thesis.tex" in err
    assert (home / "thesis.tex").read_text() == "precious"


def test_ctrl_c_exits_130_with_one_line(monkeypatch: pytest.MonkeyPatch, fake_repo: Path,
                                        capsys: pytest.CaptureFixture) -> None:
    def interrupted(*a: object, **k: object) -> int:
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "cmd_bench", interrupted)
    rc, out, err = _run(["bench", "--repo", str(fake_repo)], capsys)
    assert rc == 130 and len(err.strip().splitlines()) == 1 and "interrupted" in err
    assert "Traceback" not in err


def _bench(fake_repo: Path, *extra: str) -> List[str]:
    return ["bench", "--quick", "--repo", str(fake_repo), "--qemu", str(FAKE_QEMU),
            "--no-progress", "-V", "s2-asid", "-B", "bench_null", "--no-tlb", *extra]


def test_subset_run_writes_build_results_and_never_results(
        fake_repo: Path, capsys: pytest.CaptureFixture) -> None:
    official = fake_repo / "results"
    official.mkdir()
    (official / "measurements.csv").write_text("committed\n")
    rc, out, err = _run(_bench(fake_repo), capsys)
    assert rc == 0, err
    scratch = fake_repo / "build" / "results"
    assert (scratch / "measurements.csv").is_file() and (scratch / "metadata.json").is_file()
    assert sorted(p.name for p in official.iterdir()) == ["measurements.csv"]
    assert (official / "measurements.csv").read_text() == "committed\n"
    # a second subset run replaces build/results whole (no file of the first run remains)
    (scratch / "comparison.md").write_text("stale")
    assert main(_bench(fake_repo)) == 0
    assert not (scratch / "comparison.md").exists()
    assert not list((fake_repo / "build").glob(".results.*"))  # staging removed
    # naming results/ explicitly for a subset is refused
    rc, _, err = _run(_bench(fake_repo, "--results", str(official)), capsys)
    assert rc == 2 and "complete" in err
    assert (official / "measurements.csv").read_text() == "committed\n"


def test_complete_run_replaces_results_only_on_success(
        fake_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """A run taken for complete (complete_run forced true for a small bench on the fake tree):
    scheme 3 does not build, so results/ stays as it was and the files go to build/results;
    once every variant builds, results/ is replaced."""
    monkeypatch.setattr(cli, "complete_run", lambda args: True)
    official = fake_repo / "results"
    official.mkdir()
    (official / "comparison.md").write_text("old table\n")
    (official / ".gitkeep").write_text("")  # carried over to the replacement
    argv = ["bench", "--quick", "--repo", str(fake_repo), "--qemu", str(FAKE_QEMU),
            "--no-progress", "-V", "s2-asid", "s3-asid", "-B", "bench_null", "--no-tlb",
            "--no-kaslr", "--reps", "1"]
    rc, out, err = _run(argv, capsys)
    assert rc == 1 and "results/ unchanged" in err
    assert (official / "comparison.md").read_text() == "old table\n"
    assert len(list(official.iterdir())) == 2
    scratch = fake_repo / "build" / "results"
    facts = json.loads((scratch / "facts.json").read_text())
    assert facts["variants"]["s3-asid"]["built"] is False
    # paths in facts name where the files are now, not the staging directory
    assert facts["variants"]["s3-asid"]["build_log"] == "build/results/logs/build-s3-asid.log"
    assert (fake_repo / facts["variants"]["s3-asid"]["build_log"]).is_file()
    # make scheme 3 build: the fake Makefile fails on CONFIG_SCHEME=3 only
    mk = fake_repo / "Makefile"
    mk.write_text(mk.read_text().replace("CONFIG_SCHEME=3", "CONFIG_SCHEME=9"))
    rc, out, err = _run(argv, capsys)
    assert rc == 0, err
    assert not (official / "comparison.md").exists()  # replaced whole: a bench writes no table
    assert {"measurements.csv", "facts.json", "metadata.json", "logs", ".gitkeep"} == {
        p.name for p in official.iterdir()}
    facts = json.loads((official / "facts.json").read_text())
    assert facts["variants"]["s3-asid"]["build_log"] == "results/logs/build-s3-asid.log"
    assert (fake_repo / facts["variants"]["s3-asid"]["build_log"]).is_file()


def test_report_redraws_owned_plots_and_removes_stale_ones(
        fake_repo: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(_bench(fake_repo)) == 0
    d = fake_repo / "build" / "results"
    plots = d / "plots"
    plots.mkdir()
    for name in owned_files():
        (plots / name).write_bytes(b"stale")
    rc, out, err = _run(["report", str(d)], capsys)
    assert rc == 0
    now = {p.name: p.read_bytes() for p in plots.iterdir()}
    assert now and all(v.startswith(b"\x89PNG") for v in now.values())
    assert "tlb_model_misses.png" not in now  # --no-tlb: no TLB data, so no TLB plot
    assert "plot not drawn: TLB model: misses" in out
    rc, _, err = _run(["report", str(fake_repo / "nowhere")], capsys)
    assert rc == 2 and "measurements.csv" in err


def test_run_builds_a_missing_variant_and_quotes_commands(
        fake_repo: Path, capsys: pytest.CaptureFixture) -> None:
    base = ["run", "--repo", str(fake_repo), "--qemu", str(FAKE_QEMU), "s2-asid"]
    rc, out, err = _run(base + ["bench_null", "10", "--icount"], capsys)
    assert rc == 0, err
    assert "built    s2-asid" in err and (fake_repo / "build/variants/s2-asid/kernel.elf").is_file()
    assert "-icount shift=0,sleep=off" in out and "'init=bench_null 10'" in out
    assert "insns_per_op" in out
    rc, out, err = _run(base + ["bench_null", "10"], capsys)  # wall: time only
    assert rc == 0 and "ns_per_op" in out and "insns_per_op" not in out
    assert "host time" in out and "host clock ticks" in out
    # every boot is preceded by make (which decides what is stale): two runs, two makes
    count = fake_repo / "build/variants/s2-asid/build-count"
    assert count.read_text().count("build") == 2


def test_run_failure_shows_the_console(fake_repo: Path, capsys: pytest.CaptureFixture) -> None:
    rc, out, err = _run(["run", "--repo", str(fake_repo), "--qemu", str(FAKE_QEMU), "s1-asid",
                         "nosuchprogram"], capsys)
    assert rc == 1 and "exit status: 1" in out
    assert "no such program" in out  # the console's reason, not only the status


def test_run_a_variant_given_in_full(fake_repo: Path, capsys: pytest.CaptureFixture) -> None:
    rc, out, err = _run(["run", "--repo", str(fake_repo), "--qemu", str(FAKE_QEMU),
                         "s2-hz:scheme2_defconfig+TIMER_HZ=1000", "bench_null", "5"], capsys)
    assert rc == 0, err
    assert (fake_repo / "build/variants/s2-hz/kernel.elf").read_text().count(
        "CONFIG_TIMER_HZ=1000") == 1
    rc, out, err = _run(["run", "--repo", str(fake_repo), "s2:scheme2+SCHEME=3", "x"], capsys)
    assert rc == 2 and "SCHEME cannot be set" in err and "Traceback" not in err


def test_run_on_a_variant_that_does_not_build(fake_repo: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    rc, out, err = _run(["run", "--repo", str(fake_repo), "--qemu", str(FAKE_QEMU),
                         "s3-asid", "bench_null"], capsys)
    assert rc == 1 and "Traceback" not in err
    assert "does not build" in err and "randomized.cpp" in err  # the log's last lines
    from harness.variants import variant_by_name
    s3 = variant_by_name("s3-asid").config_hash
    assert f"make O=build/variants/{s3} -j2" in err and "build-s3-asid.log" in err
    rc, _, err = _run(["run", "--repo", str(fake_repo), "--no-build", "s1-asid", "x"], capsys)
    assert rc == 2 and "not built" in err


def test_build_failure_in_bench_is_exit_1_with_log_excerpt(
        fake_repo: Path, capsys: pytest.CaptureFixture) -> None:
    rc, out, err = _run(["bench", "--quick", "--repo", str(fake_repo), "--qemu",
                         str(FAKE_QEMU), "--no-progress", "-V", "s3-asid", "-B", "bench_null",
                         "--no-tlb"], capsys)
    assert rc == 1
    assert "MISSING  s3-asid" in err and "randomized.cpp" in err
    assert "build/results/logs/build-s3-asid.log" in err


def test_user_error_class() -> None:
    with pytest.raises(UserError):
        parse_args(["bench", "--reps", "0"])
