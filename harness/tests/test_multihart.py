"""Multi-hart (issue 17): the harness's `harts` dimension (unit tests), and the kernel on several
harts (marker kernel): usertests at -smp 1, 2 and 4 in every scheme with ASIDs on and off, and
with asid_bits=2 at -smp 4; two -icount runs at -smp 4 give identical counts; the shootdown test
under the TLB model with no translation mismatch; regcheck's threads on different harts; the
fuzzer's threads on 4 harts.

The kernel tests fail until the kernel implements threads, sched_pin and the harts (they test
the contract in docs/syscalls.md, not a stand-in)."""
from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path
from typing import Callable, Dict, List

import pandas as pd
import pytest

from harness.build import BuildResult, build_variant
from harness.errors import RunError, UserError, format_command
from harness.measure import RunOptions, boot
from harness.parse import Context, parse_bench_output
from harness.qemu import RunResult, qemu_command
from harness.sweep import load_sweep
from harness.tidy import make_frame, make_row, read_csv, write_csv
from harness.variants import (Variant, load_variants, parse_spec, variant_by_name, with_harts,
                              with_settings)

from .kboot import assert_no_mismatch, boot_under_model, tlb_plugin, where as kwhere

REPO = Path(__file__).resolve().parents[2]
TEST_LOGS = REPO / "build" / "test-logs" / "multihart"
TIMEOUT = 600.0
SIX = ["s1-asid", "s1-noasid", "s2-asid", "s2-noasid", "s3-asid", "s3-noasid"]
# The fuzzer's calls per scheme at 4 harts in `make test` (issue 17: 10^5); 10^6 is
# FUZZ_THREAD_CALLS=1000000 in the environment (the benchmark-size run).
FUZZ_THREAD_CALLS = int(os.environ.get("FUZZ_THREAD_CALLS", "100000"))


# ------------------------------------------------------------------ the harts dimension (unit)

@pytest.mark.unit
def test_qemu_command_smp() -> None:
    k = Path("k.elf")
    one = qemu_command(k, ["usertests"], icount=False)
    assert "-smp" not in one  # one hart: the command line of every earlier measurement
    four = qemu_command(k, ["usertests"], icount=True, harts=4)
    assert four[four.index("-smp") + 1] == "4"
    assert four.index("-smp") < four.index("-kernel")
    with pytest.raises(ValueError):
        qemu_command(k, ["usertests"], icount=False, harts=0)
    with pytest.raises(ValueError):
        qemu_command(k, ["usertests"], icount=False, harts=9)


@pytest.mark.unit
def test_variant_spec_harts() -> None:
    v = parse_spec("s2-4h:scheme2+harts=4", REPO)
    assert v.harts == 4 and v.settings == () and v.spec == "s2-4h:scheme2_defconfig+harts=4"
    assert parse_spec(v.spec, REPO) == v
    assert parse_spec("s2:scheme2", REPO).harts == 1
    w = parse_spec("s1n-2h:scheme1+ASID=n+harts=2", REPO)
    assert w.harts == 2 and w.settings == ("ASID=n",) and not w.asid
    # the hart count is no build setting: the same kernel image, so the same config hash
    assert w.config_hash == parse_spec("s1n:scheme1+ASID=n", REPO).config_hash
    for bad in ("x:scheme2+harts=0", "x:scheme2+harts=9", "x:scheme2+harts=two",
                "x:scheme2+harts="):
        with pytest.raises(UserError, match="harts must be an integer 1..8"):
            parse_spec(bad, REPO)
    h = with_harts(variant_by_name("s3-asid", REPO), 4)
    assert h.name == "s3-asid+harts=4" and h.harts == 4 and h.scheme == 3
    assert with_harts(h, 4) is h
    assert with_settings(h, ["ASID=n"]).harts == 4


def _fake_repo(tmp_path: Path, variants: str) -> Path:
    (tmp_path / "configs").mkdir()
    for f in ("scheme1_defconfig", "scheme2_defconfig", "scheme3_defconfig"):
        (tmp_path / "configs" / f).write_text((REPO / "configs" / f).read_text())
    (tmp_path / "Kconfig").write_text((REPO / "Kconfig").read_text())
    (tmp_path / "configs" / "variants.toml").write_text(textwrap.dedent(variants))
    return tmp_path


@pytest.mark.unit
def test_variants_toml_harts(tmp_path: Path) -> None:
    root = _fake_repo(tmp_path, """
        [one]
        defconfig = "scheme2_defconfig"
        [four]
        defconfig = "scheme2_defconfig"
        harts = 4
    """)
    vs = load_variants(root)
    assert [(v.name, v.harts) for v in vs] == [("one", 1), ("four", 4)]
    (root / "configs" / "variants.toml").write_text('[bad]\ndefconfig = "scheme2_defconfig"\n'
                                                   'harts = "4"\n')
    with pytest.raises(UserError, match="harts must be an integer"):
        load_variants(root)


@pytest.mark.unit
def test_sweep_harts_dimension(tmp_path: Path) -> None:
    sweep = tmp_path / "h.toml"
    sweep.write_text(textwrap.dedent("""
        [dimensions]
        variant = ["s2-asid", "s3-noasid"]
        harts = [1, 2, 4]
        bench = ["bench_null"]
    """))
    s = load_sweep(sweep, REPO)
    assert [(v.name, v.harts) for v in s.variants] == [
        ("s2-asid", 1), ("s2-asid+harts=2", 2), ("s2-asid+harts=4", 4),
        ("s3-noasid", 1), ("s3-noasid+harts=2", 2), ("s3-noasid+harts=4", 4)]
    sweep.write_text('[dimensions]\nvariant = ["s2-asid"]\nharts = [16]\nbench = ["bench_null"]\n')
    with pytest.raises(UserError, match="harts must be an integer"):
        load_sweep(sweep, REPO)


@pytest.mark.unit
def test_csv_harts_column(tmp_path: Path) -> None:
    v1 = variant_by_name("s2-asid", REPO)
    v4 = with_harts(v1, 4)
    df = make_frame([make_row(v, "bench_null", {}, mode="icount", metric="insns_per_op",
                              value=100) for v in (v1, v4)])
    assert list(df["harts"]) == [1, 4]
    write_csv(df, tmp_path / "m.csv")
    assert list(read_csv(tmp_path / "m.csv")["harts"]) == [1, 4]
    # a table written before the dimension existed reads as one hart
    old = df.drop(columns=["harts"])
    old.to_csv(tmp_path / "old.csv", index=False)
    assert set(read_csv(tmp_path / "old.csv")["harts"]) == {1}


# ------------------------------------------------------------------ the kernel on several harts

@pytest.fixture(scope="session")
def kernel() -> Callable[[str], Variant]:
    cache: Dict[str, BuildResult] = {}

    def get(name: str) -> Variant:
        if name not in cache:
            cache[name] = build_variant(variant_by_name(name, REPO), REPO, TEST_LOGS)
        res = cache[name]
        if not res.ok:
            pytest.fail(f"build of {name} failed: {res.error}\n  log: {res.log}", pytrace=False)
        return res.variant

    return get


def run(v: Variant, argv: List[str], tag: str, *, icount: bool = False,
        check: bool = True) -> RunResult:
    opts = RunOptions(repo=REPO, results=REPO / "build", timeout=TIMEOUT, progress=False)
    log = TEST_LOGS / v.name / f"{argv[0]}-{'icount' if icount else 'wall'}-{tag}.log"
    try:
        return boot(v, argv, icount=icount, log=log, opts=opts, check=check)
    except RunError as exc:
        pytest.fail(str(exc), pytrace=False)


def where(res: RunResult) -> str:
    return f"\n  variant: {res.variant}\n  command: {format_command(res.command)}\n  log: {res.log}"


def harts_line(console: str) -> int:
    m = re.search(r"harts: (\d+) online", console)
    return int(m.group(1)) if m else -1


@pytest.mark.kernel
@pytest.mark.slow
@pytest.mark.parametrize("harts", [1, 2, 4])
@pytest.mark.parametrize("name", SIX)
def test_usertests_on_harts(kernel: Callable[[str], Variant], name: str, harts: int) -> None:
    v = with_harts(kernel(name), harts)
    res = run(v, ["usertests"], "all")
    assert res.exit_status == 0, f"usertests at -smp {harts} did not exit 0" + where(res)
    assert harts_line(res.console) == harts, f"the boot log does not say 'harts: {harts} online'" + where(res)


@pytest.mark.kernel
@pytest.mark.slow
@pytest.mark.parametrize("bits", [2, 3])
@pytest.mark.parametrize("scheme", [1, 2, 3])
def test_usertests_few_asid_bits_on_4_harts(kernel: Callable[[str], Variant], scheme: int,
                                            bits: int) -> None:
    """asid_bits=2 at -smp 4: 4 ASIDs cannot cover ASID 0, a reserved one per hart and one to hand
    out, so the kernel runs without ASIDs (as Linux would). asid_bits=3: 8 ASIDs, rollovers all the
    time on every hart (reserved ASIDs, each hart's lazy flush pending)."""
    from .kboot import boot as kboot
    v = kernel(f"s{scheme}-asid")
    kernel_elf = REPO / "build" / "variants" / v.config_hash / "kernel.elf"
    log = TEST_LOGS / v.name / f"usertests-asid{bits}-smp4.log"
    rc, out, cmd = kboot(kernel_elf, f"asid_bits={bits} init=usertests", log, extra=["-smp", "4"])
    assert rc == 0, f"usertests with asid_bits={bits} at -smp 4 exited {rc}" + kwhere(cmd, log)
    assert harts_line(out) == 4, "the boot log does not say 'harts: 4 online'" + kwhere(cmd, log)


@pytest.mark.kernel
@pytest.mark.parametrize("name", ["s1-asid", "s2-asid", "s3-asid"])
def test_icount_deterministic_on_4_harts(kernel: Callable[[str], Variant], name: str) -> None:
    """-icount makes the vCPUs run round-robin in one thread: the same instruction counts twice,
    including a benchmark whose threads run on every hart."""
    v = with_harts(kernel(name), 4)
    for argv in (["bench_null", "2000"], ["bench_getpid_harts", "2000"]):
        a = run(v, argv, "a", icount=True)
        b = run(v, argv, "b", icount=True)
        pa = parse_bench_output(a.console, Context(a.variant, a.command, a.log))
        pb = parse_bench_output(b.console, Context(b.variant, b.command, b.log))
        va = [(r.bench, sorted(r.params.items()), sorted(r.values.items())) for r in pa.benches]
        vb = [(r.bench, sorted(r.params.items()), sorted(r.values.items())) for r in pb.benches]
        assert va and va == vb, f"{argv[0]}: two -icount runs at -smp 4 differ" + where(a) + \
            f"\n  second log: {b.log}"


@pytest.mark.kernel
@pytest.mark.parametrize("name", SIX)
def test_shootdown_under_tlb_model(kernel: Callable[[str], Variant], name: str) -> None:
    """The munmap shootdown, COW, exit and thread tests at -smp 4 under the TLB model (one model
    per vCPU): the reader faults, and no translation the model holds ever disagrees with the
    page table (0 mismatches)."""
    v = kernel(name)
    kernel_elf = REPO / "build" / "variants" / v.config_hash / "kernel.elf"
    plugin = tlb_plugin(TEST_LOGS)
    log = TEST_LOGS / v.name / "shootdown-model.log"
    tests = "thread_shootdown thread_shootdown_counted thread_process_end thread_fork thread_exec"
    from .kboot import boot as kboot
    rep_path = log.with_suffix(".json")
    rep_path.parent.mkdir(parents=True, exist_ok=True)
    extra = ["-smp", "4", "-plugin",
             f"{plugin},preset=u54,asid={'on' if v.asid else 'off'},satp_flush=off,out={rep_path}",
             "-d", "plugin", "-D", str(log.with_suffix(".plugin.log"))]
    rep_path.unlink(missing_ok=True)
    rc, out, cmd = kboot(kernel_elf, f"init=usertests {tests}", log, extra=extra, icount=True)
    assert rc == 0, f"the thread tests under the TLB model at -smp 4 exited {rc}" + kwhere(cmd, log)
    assert out.count("test thread_shootdown: ok") == 1, "thread_shootdown did not pass" + kwhere(cmd, log)
    import json
    assert rep_path.exists(), "no TLB-model report" + kwhere(cmd, log)
    assert_no_mismatch(json.loads(rep_path.read_text()), cmd, log)


@pytest.mark.kernel
@pytest.mark.parametrize("icount", [True, False], ids=["icount", "parallel"])
def test_kernel_boot_under_tlb_model_on_4_harts(kernel: Callable[[str], Variant], icount: bool) -> None:
    """The real kernel at -smp 4 under the TLB model, with -icount (QEMU runs the vCPUs in turn
    on one host thread: QEMU 10.0 then passes callbacks the index of the vCPU that translated a
    block, scaled by its scoreboard ops, which crashed the plugin) and without (one host thread
    per vCPU): processes on several harts, QEMU exits 0, each hart has its own model and counts,
    and no translation mismatches."""
    v = kernel("s2-asid")
    kernel_elf = REPO / "build" / "variants" / v.config_hash / "kernel.elf"
    plugin = tlb_plugin(TEST_LOGS)
    log = TEST_LOGS / v.name / f"boot-model-4h-{'icount' if icount else 'parallel'}.log"
    rep_path = log.with_suffix(".json")
    rep_path.parent.mkdir(parents=True, exist_ok=True)
    rep_path.unlink(missing_ok=True)
    extra = ["-smp", "4", "-plugin", f"{plugin},preset=u54,asid=on,satp_flush=off,out={rep_path}",
             "-d", "plugin", "-D", str(log.with_suffix(".plugin.log"))]
    from .kboot import boot as kboot
    rc, out, cmd = kboot(kernel_elf, "init=usertests pipe_fork fork_tree mmap_fork", log,
                         extra=extra, icount=icount)
    assert rc == 0, f"usertests under the TLB model at -smp 4 exited {rc}" + kwhere(cmd, log)
    assert re.search(r"usertests: [1-9]\d* passed, 0 failed", out), "usertests failed" + kwhere(cmd, log)
    assert rep_path.exists(), "no TLB-model report" + kwhere(cmd, log)
    import json
    rep = json.loads(rep_path.read_text())
    assert_no_mismatch(rep, cmd, log)
    assert rep["config"]["vcpus"] == 4, rep["config"]
    harts = rep["harts"]
    assert [h["vcpu"] for h in harts] == [0, 1, 2, 3]
    assert all(h["started"] == "yes" and h["mismatches"] == 0 for h in harts), harts
    # every hart ran the kernel, and user code ran on more than one: the counts are the harts'
    # own, not all filed under the vCPU that translated the blocks
    assert all(h["modes"]["S"]["insns"] > 0 for h in harts), [h["modes"]["S"] for h in harts]
    assert sum(h["modes"]["U"]["insns"] > 0 for h in harts) >= 2, [h["modes"]["U"] for h in harts]
    for key in ("insns", "loads", "stores", "l1i_misses", "l1d_misses", "walks", "checked_data"):
        assert rep["totals"][key] == sum(h["totals"][key] for h in harts), key


@pytest.mark.kernel
@pytest.mark.parametrize("name", ["s1-asid", "s2-noasid", "s3-asid"])
def test_regcheck_threads_on_harts(kernel: Callable[[str], Variant], name: str) -> None:
    v = with_harts(kernel(name), 4)
    res = run(v, ["regcheck", "threads"], "threads")
    assert res.exit_status == 0, "regcheck threads failed at -smp 4" + where(res)
    assert "threads: ok" in res.console, "regcheck did not report 'threads: ok'" + where(res)


@pytest.mark.kernel
@pytest.mark.slow
@pytest.mark.parametrize("name", ["s1-asid", "s2-asid", "s3-asid"])
def test_fuzz_threads_on_4_harts(kernel: Callable[[str], Variant], name: str) -> None:
    v = with_harts(kernel(name), 4)
    seed = {"s1-asid": 117, "s2-asid": 217, "s3-asid": 317}[name]
    res = run(v, ["fuzz", "--threads", "4", str(seed), str(FUZZ_THREAD_CALLS), "2000"], "threads",
              check=False)
    assert not res.timed_out, "the threaded fuzzer timed out (a hang?)" + where(res)
    out = res.console.replace("\r", "").splitlines()
    odd = [ln for ln in out if ln.startswith("fuzz: odd") or "KILLED" in ln or "panic" in ln.lower()]
    assert not odd, "fuzz found:\n    " + "\n    ".join(odd[:20]) + where(res)
    final = [m for ln in out
             for m in [re.fullmatch(r"fuzz: (\d+) calls, (\d+) batches, leaks (\d+)", ln)] if m]
    assert len(final) == 1 and final[0].group(3) == "0", "no clean final line" + where(res)
    # every planned call was issued (fork/exec children do not count theirs here)
    assert int(final[0].group(1)) >= FUZZ_THREAD_CALLS, "fewer calls than planned" + where(res)
    assert res.exit_status == 0, f"fuzz exited {res.exit_status}" + where(res)


# ------------------------------------------------------------------ report and plot (unit)

def _multihart_frame() -> pd.DataFrame:
    rows = []
    for scheme in (1, 2, 3):
        for asid in (True, False):
            base = variant_by_name(f"s{scheme}-{'asid' if asid else 'noasid'}", REPO)
            v4 = with_harts(base, 4)
            for pages in (1, 16, 256):
                for remote in range(4):
                    insns = 1000 * scheme + 100 * remote + pages + (0 if asid else 7)
                    p = {"pages": pages, "remote": remote}
                    rows.append(make_row(v4, "bench_shootdown", p, mode="icount",
                                         metric="insns_per_op", value=insns))
                    rows.append(make_row(v4, "bench_shootdown", p, mode="icount",
                                         metric="remote_fences", value=remote))
                    rows.append(make_row(v4, "bench_shootdown", p, mode="tlb", preset="u54",
                                         metric="tlb_model_cycles_per_op", value=2 * insns))
            for h in (1, 4):
                v = base if h == 1 else v4
                rows.append(make_row(v, "bench_getpid_harts", {"harts": h}, mode="icount",
                                     metric="insns_per_op", value=100 + scheme + h))
                rows.append(make_row(v, "bench_getpid_harts", {"harts": h}, mode="icount",
                                     metric="insns_per_op_max", value=101 + scheme + h))
    return make_frame(rows)


@pytest.mark.unit
def test_multihart_section() -> None:
    from harness.report.multihart import figure, render_multihart
    df = _multihart_frame()
    assert figure(df, "bench_shootdown", "insns_per_op", 2, True, pages=16, remote=3) == 2316
    assert figure(df, "bench_shootdown", "tlb_model_cycles_per_op", 3, False, mode="tlb",
                  preset="u54", pages=1, remote=1) == 2 * 3108
    text = "\n".join(render_multihart(df, "u54"))
    assert text.startswith("## Multi-hart") and "*not stated*" in text
    # scheme 1, 1 page, 1 remote, ASIDs on: 1101 insns, 1 fence, 2202 model cycles
    assert "| 1 | 1 | 1,101 / 1 / 2,202 |" in text
    assert "| 4 | 105 / 106 | 106 / 107 | 107 / 108 |" in text
    assert "1 < 2 < 3 at 1 page, 1 remote" in text
    assert render_multihart(df[df["bench"] == "bench_null"], "u54") == []


@pytest.mark.unit
def test_multihart_section_without_data_says_not_measured() -> None:
    from harness.report.multihart import render_multihart
    df = _multihart_frame()
    only_getpid = df[df["bench"] == "bench_getpid_harts"]
    text = "\n".join(render_multihart(only_getpid, None))
    assert "not measured / not measured / not measured" in text


@pytest.mark.unit
def test_shootdown_plot(tmp_path: Path) -> None:
    from harness.plots import by_file
    p = by_file("shootdown.png")
    data = p.data(_multihart_frame())
    assert set(data["metric"]) == {"insns_per_op"} and set(data["mode"]) == {"icount"}
    assert p.draw(data, tmp_path) == tmp_path / "shootdown.png"
    assert (tmp_path / "shootdown.png").stat().st_size > 0
