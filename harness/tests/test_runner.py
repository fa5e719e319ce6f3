"""Building and booting code paths, exercised with a fake Makefile and a fake QEMU (no kernel).
No wall-clock thresholds: the timeout test only checks that a hung run is killed and reported."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from harness.benchspec import BENCH_BY_NAME
from harness.build import build_variant
from harness.cli import main
from harness.errors import BuildError, QemuError
from harness.measure import RunOptions, measure_bench, probe_kaslr
from harness.qemu import qemu_command, run_qemu
from harness.tidy import read_csv
from harness.variants import variant_by_name

from .conftest import FAKE_QEMU

pytestmark = pytest.mark.unit


def test_qemu_command_line() -> None:
    k = Path("build/variants/s1-asid/kernel.elf")
    assert qemu_command(k, ["bench_null", "100000"], icount=False) == [
        "qemu-system-riscv64", "-machine", "virt", "-nographic", "-bios", "default", "-m",
        "128M", "-kernel", "build/variants/s1-asid/kernel.elf",
        "-append", "init=bench_null 100000"]
    ic = qemu_command(k, ["bench_timer"], icount=True, qemu="q")
    assert ic[ic.index("-icount") + 1] == "shift=0,sleep=off"
    assert ic[-2:] == ["-append", "init=bench_timer"]


def test_build_variants(fake_repo: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    v = variant_by_name("s1-noasid")
    res = build_variant(v, fake_repo, logs)
    assert res.ok, res.log.read_text()
    d = f"build/variants/{v.config_hash}"
    assert res.kernel == fake_repo / d / "kernel.elf"
    assert "# CONFIG_ASID is not set" in res.kernel.read_text()
    assert "CONFIG_SCHEME=1" in res.kernel.read_text()
    assert res.commands == [f"(write {d}/.config: scheme1_defconfig + ASID=n)",
                            f"make O={d} -j2"]
    assert res.log == logs / "build-s1-noasid.log"
    assert os.readlink(fake_repo / "build/variants/s1-noasid") == v.config_hash
    # second build: the configuration is unchanged (not rewritten), but make runs again: it,
    # not the harness, decides whether the kernel is stale
    again = build_variant(v, fake_repo, logs)
    assert again.ok and again.commands[-1] == f"make O={d} -j2"
    assert "(unchanged)" in again.log.read_text()
    assert (fake_repo / d / "build-count").read_text().count("build") == 2
    # another configuration, another directory; the config column tells them apart
    hz = variant_by_name("s1-hz1000:scheme1_defconfig+TIMER_HZ=1000")
    other = build_variant(hz, fake_repo, logs).check()
    assert other.build_dir != res.build_dir and "CONFIG_TIMER_HZ=1000" in other.kernel.read_text()
    assert (v.config_string, hz.config_string) == ("ASID=n", "TIMER_HZ=1000")


def test_failed_build_is_reported(fake_repo: Path, tmp_path: Path) -> None:
    v = variant_by_name("s3-asid")
    res = build_variant(v, fake_repo, tmp_path / "logs")
    assert not res.ok and "status 2" in (res.error or "")
    assert "randomized.cpp" in res.log.read_text()
    with pytest.raises(BuildError) as info:
        res.check()
    msg = str(info.value)
    assert "s3-asid" in msg and f"make O=build/variants/{v.config_hash} -j2" in msg
    assert str(res.log) in msg


@pytest.fixture
def built(fake_repo: Path, tmp_path: Path) -> RunOptions:
    for name in ("s1-asid", "s2-asid"):
        build_variant(variant_by_name(name), fake_repo, tmp_path / "logs").check()
    return RunOptions(repo=fake_repo, results=tmp_path / "results", quick=True, reps=2,
                      timeout=60, qemu=str(FAKE_QEMU), progress=False)


def test_measure_bench_rows_and_logs(built: RunOptions) -> None:
    v = variant_by_name("s1-asid")
    rows = pd.DataFrame(measure_bench(v, BENCH_BY_NAME["bench_ctx"], built))
    assert set(rows["mode"]) == {"icount", "wall"}
    assert set(rows[rows["mode"] == "wall"]["metric"]) == {"ns_per_op"}
    assert sorted(rows[rows["mode"] == "wall"]["repetition"].unique()) == [0, 1]
    logs = sorted(p.name for p in (built.log_root / "s1-asid").iterdir())
    assert logs == ["bench_ctx-icount-0.log", "bench_ctx-wall-0.log", "bench_ctx-wall-1.log"]
    assert "init=bench_ctx 50 2 0 16" in (built.log_root / "s1-asid" /
                                           "bench_ctx-icount-0.log").read_text()


def test_no_instruction_count_from_wall_runs(built: RunOptions) -> None:
    """Wall runs give ns_per_op only, and bench_timer (whose program checks rdinstret, host
    ticks without -icount: the fake fails that check every time) has no wall runs at all."""
    v = variant_by_name("s2-asid")
    rows = pd.DataFrame(measure_bench(v, BENCH_BY_NAME["bench_timer"], built))
    assert set(rows["mode"]) == {"icount"} and len(rows[rows["metric"] == "insns_per_op"]) == 1
    assert sorted(p.name for p in (built.log_root / "s2-asid").iterdir()) == [
        "bench_timer-icount-0.log"]
    from dataclasses import replace
    once = replace(built, reps=1)
    for spec in BENCH_BY_NAME.values():
        if spec.wall:
            wall = [r for r in measure_bench(v, spec, once) if r["mode"] == "wall"]
            assert wall and {r["metric"] for r in wall} == {"ns_per_op"}, spec.name


def test_kaslr_probe(built: RunOptions) -> None:
    f = probe_kaslr(variant_by_name("s2-asid"), built)
    from harness.benchspec import KASLR_PROCESSES
    assert f["processes"] == KASLR_PROCESSES == 4096 and f["distinct"] == 1
    assert f["documented_slots"] == 130302 and f["draws"] == "seq"  # independent draws


def test_nonzero_exit_names_variant_command_log(built: RunOptions, tmp_path: Path) -> None:
    cmd = qemu_command(Path("build/variants/s2-asid/kernel.elf"), ["nosuchprogram"],
                       icount=False, qemu=str(FAKE_QEMU))
    log = tmp_path / "nosuch.log"
    with pytest.raises(QemuError) as info:
        run_qemu(cmd, variant="s2-asid", log=log, cwd=built.repo, timeout=60)
    msg = str(info.value)
    assert "status 1" in msg and "s2-asid" in msg and str(log) in msg
    assert "init=nosuchprogram" in msg and "no such program" in msg


def test_bench_error_and_garbage(built: RunOptions, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.errors import RunError
    v = variant_by_name("s2-asid")
    monkeypatch.setenv("FAKE_QEMU_MODE", "bench-error")
    with pytest.raises(RunError, match="status 3"):
        measure_bench(v, BENCH_BY_NAME["bench_null"], built)
    monkeypatch.setenv("FAKE_QEMU_MODE", "garbage")
    with pytest.raises(RunError, match="malformed @bench JSON") as info:
        measure_bench(v, BENCH_BY_NAME["bench_null"], built)
    assert "bench_null-icount-0.log" in str(info.value)


def _alive_with(marker: str) -> list:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(pid)
    return found


def test_timeout_kills_process_group(built: RunOptions, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_QEMU_MODE", "timeout")
    kernel = built.repo / "build/variants/s2-asid/kernel.elf"  # the link to its directory
    marker = tmp_path / "unique-kernel.elf"
    marker.write_bytes(kernel.read_bytes())
    cmd = qemu_command(marker, ["bench_null", "1"], icount=False, qemu=str(FAKE_QEMU))
    log = tmp_path / "hang.log"
    with pytest.raises(QemuError) as info:
        run_qemu(cmd, variant="s2-asid", log=log, timeout=1.0)
    assert "timed out" in str(info.value) and str(log) in str(info.value)
    assert "timed out after 1 s" in log.read_text()
    assert _alive_with(str(marker)) == []


def test_no_tlb_and_presets_option(fake_repo: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    base = ["bench", "--quick", "--repo", str(fake_repo), "--results", str(results),
            "--qemu", str(FAKE_QEMU), "--no-progress", "-V", "s2-asid", "-B", "bench_null",
            "--no-kaslr"]
    assert main(base + ["--no-tlb"]) == 0
    df = read_csv(results / "measurements.csv")
    assert not (df["mode"] == "tlb").any()
    facts = json.loads((results / "facts.json").read_text())
    assert facts["tlbmodel"]["enabled"] is False and facts["tlbmodel"]["built"] is None
    assert not (results / "logs" / "build-tlbmodel.log").exists()
    assert main(base + ["--tlb-presets", "c906"]) == 0
    df = read_csv(results / "measurements.csv")
    assert set(df[df["mode"] == "tlb"]["preset"]) == {"c906"}
    assert set(df[df["mode"] == "tlb"]["bench"]) == {"bench_null"}  # -B selects TLB runs too
    facts = json.loads((results / "facts.json").read_text())
    assert list(facts["variants"]["s2-asid"]["tlb_probe"]) == ["c906"]


def test_failed_run_makes_exit_status_1(fake_repo: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_QEMU_MODE", "bench-error")
    results = tmp_path / "results"
    rc = main(["bench", "--quick", "--repo", str(fake_repo), "--results", str(results),
               "--qemu", str(FAKE_QEMU), "--no-progress", "-V", "s2-asid", "-B", "bench_null",
               "--no-kaslr"])
    assert rc == 1
    facts = json.loads((results / "facts.json").read_text())
    fail = facts["variants"]["s2-asid"]["run_failures"]
    assert fail[0]["bench"] == "bench_null" and "bench-error" in fail[0]["error"]
    assert read_csv(results / "measurements.csv").empty


def test_kill_running_stops_a_hung_run(built: RunOptions, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from harness.qemu import allow_runs, kill_running

    monkeypatch.setenv("FAKE_QEMU_MODE", "timeout")
    cmd = qemu_command(Path("build/variants/s2-asid/kernel.elf"), ["bench_null", "1"],
                       icount=False, qemu=str(FAKE_QEMU))
    errors: list = []
    log = tmp_path / "hung.log"

    def target() -> None:
        try:
            run_qemu(cmd, variant="s2-asid", log=log, cwd=built.repo, timeout=600)
        except QemuError as exc:
            errors.append(exc)

    t = threading.Thread(target=target)
    t.start()
    try:
        for _ in range(600):  # until the fake has started and printed its banner
            if log.exists() and "sv39lab" in log.read_text():
                break
            t.join(0.05)
        assert kill_running() == 1
        t.join(60)
        assert not t.is_alive() and errors and "status -9" in str(errors[0])
        with pytest.raises(QemuError, match="harness is stopping"):
            run_qemu(cmd, variant="s2-asid", log=tmp_path / "x.log", cwd=built.repo)
    finally:
        allow_runs()


def test_scheme3_runs_once_per_kaslr_seed(built: RunOptions) -> None:
    """Scheme 3: one icount run per seed (kaslr_seed=N before init=, repetition = the seed's
    index), wall repetitions cycling through the seeds; the slot-dependent figure is reported
    as a distribution (mean, min–max, n) in the table. Other schemes are never seeded."""
    from dataclasses import replace

    from harness.report import fig_memory
    from harness.tidy import make_frame
    from harness.build import variant_dir
    # the fake Makefile cannot build scheme 3: its fake kernel is written by hand
    s3 = built.repo / variant_dir(variant_by_name("s3-asid")) / "kernel.elf"
    s3.parent.mkdir(parents=True, exist_ok=True)
    s3.write_text("CONFIG_SCHEME=3\nCONFIG_ASID=y\n")
    opts = replace(built, kaslr_seeds=(1, 2, 3), reps=2)
    rows = measure_bench(variant_by_name("s3-asid"), BENCH_BY_NAME["bench_null"], opts)
    df = make_frame(rows)
    ic = df[(df["mode"] == "icount") & (df["metric"] == "pt_pages_kernel")]
    assert ic["kaslr_seed"].tolist() == [1, 2, 3] and ic["repetition"].tolist() == [0, 1, 2]
    assert ic["value"].tolist() == [2, 1, 2]  # the fake's slot-dependent count
    wall = df[df["mode"] == "wall"]
    assert wall["kaslr_seed"].tolist() == [1, 2]
    log = (opts.log_root / "s3-asid" / "bench_null-icount-1.log").read_text()
    assert "kaslr_seed=2 init=bench_null" in log
    fig = fig_memory(df, {}, "s3-asid")
    assert "kernel-only" in fig.text and "1.67 (mean; 1–2, n=3 seeds)" in fig.text
    other = make_frame(measure_bench(variant_by_name("s2-asid"), BENCH_BY_NAME["bench_null"],
                                     opts))
    assert other["kaslr_seed"].isna().all()
    assert "kaslr_seed" not in (opts.log_root / "s2-asid" / "bench_null-icount-0.log").read_text()
