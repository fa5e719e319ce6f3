"""Multi-hart (issue 17): the harness's `harts` dimension (unit tests), and the kernel on several
harts (marker kernel): usertests at -smp 1, 2 and 4 in every scheme with ASIDs on and off, and
with asid_bits=2 and 3 at -smp 4; two -icount runs at -smp 4 give identical counts; the shootdown
test under the TLB model with no translation mismatch; regcheck's threads on different harts.
(The threaded fuzzer's run is not here yet: its workers' own state races, issue 17.)"""
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
# The threaded fuzzer's calls per variant at 4 harts in `make test`: issue 17 asks for 10^5 per
# scheme, here split evenly between ASIDs on and off. FUZZ_THREAD_CALLS=N overrides it; the
# benchmark-size run (10^6) is `make O=DIR fuzz FUZZ_THREADS=4 SMP=4`.
FUZZ_THREAD_CALLS = int(os.environ.get("FUZZ_THREAD_CALLS", "50000"))


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
    # `benches`: the variant runs only those; unknown names and non-lists are usage errors
    (root / "configs" / "variants.toml").write_text(
        '[two]\ndefconfig = "scheme2_defconfig"\nharts = 2\nbenches = ["bench_shootdown"]\n')
    two = load_variants(root)[0]
    assert two.benches == ("bench_shootdown",)
    from harness.benchspec import BENCH_BY_NAME, runs_in
    assert runs_in(BENCH_BY_NAME["bench_shootdown"], two)
    assert not runs_in(BENCH_BY_NAME["bench_getpid_harts"], two)
    assert runs_in(BENCH_BY_NAME["bench_getpid_harts"], with_harts(variant_by_name("s2-asid", REPO), 2))
    # a sweep's hart count and settings keep the restriction
    assert with_harts(two, 4).benches == two.benches == with_settings(two, ["ASID=n"]).benches
    for bad, msg in (('benches = ["bench_nope"]', "unknown benchmark.*bench_nope"),
                     ('benches = "bench_shootdown"', "benches must be a list")):
        (root / "configs" / "variants.toml").write_text(
            f'[bad]\ndefconfig = "scheme2_defconfig"\n{bad}\n')
        with pytest.raises(UserError, match=msg):
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
@pytest.mark.parametrize("name", SIX)
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


# The null call's bound on one hart (issue 16; test_null_call.py), where the issue states one.
NULL_BOUND = {"s1-asid": 127, "s2-asid": 103, "s3-asid": 103, "s2-noasid": 103, "s3-noasid": 103}


@pytest.mark.kernel
@pytest.mark.parametrize("name", SIX)
def test_null_call_on_4_busy_harts(kernel: Callable[[str], Variant], name: str) -> None:
    """The null call takes no lock: on each of 1..4 busy harts its instructions per call stay
    within 5 of the one-hart figure. bench_getpid_harts reports each hart's smallest round of
    200 calls, an upper bound on the calls' own count (rdinstret under -icount is the machine's
    count, see the benchmark's header), so the bound is shown, not assumed."""
    v = with_harts(kernel(name), 4)
    res = run(v, ["bench_getpid_harts", "2000"], "busy", icount=True)
    rows = {r.params["harts"]: r.values
            for r in parse_bench_output(res.console, Context(res.variant, res.command, res.log)).benches
            if r.bench == "bench_getpid_harts"}
    assert sorted(rows) == [1, 2, 3, 4], f"rows for harts {sorted(rows)}, want 1..4" + where(res)
    one = rows[1]["insns_per_op"]
    if name in NULL_BOUND:
        # The loop adds its `sum +=` and the round's rdinstret reads: under 2 per call.
        assert one < NULL_BOUND[name] + 2, \
            f"{name}: {one} instructions per getpid on one hart, bound {NULL_BOUND[name]} (+ loop)" + where(res)
    for h, vals in rows.items():
        assert vals["insns_per_op_max"] <= one + 5, \
            f"{name}: {vals['insns_per_op_max']} instructions per getpid on the worst of {h} busy " \
            f"harts, more than 5 above the one-hart {one}" + where(res)


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
@pytest.mark.parametrize("name", SIX)
def test_regcheck_threads_on_harts(kernel: Callable[[str], Variant], name: str) -> None:
    v = with_harts(kernel(name), 4)
    res = run(v, ["regcheck", "threads"], "threads")
    assert res.exit_status == 0, "regcheck threads failed at -smp 4" + where(res)
    assert "threads: ok" in res.console, "regcheck did not report 'threads: ok'" + where(res)


@pytest.mark.kernel
@pytest.mark.slow
@pytest.mark.parametrize("name", SIX)
def test_fuzz_threads_on_4_harts(kernel: Callable[[str], Variant], name: str) -> None:
    """The system-call fuzzer with 4 threads per batch process on 4 harts: no panic, hang,
    killed batch, contract breach (`fuzz: odd`) or lost frame/heap page."""
    v = with_harts(kernel(name), 4)
    seed = 100 * int(name[1]) + (17 if name.endswith("-asid") else 18)
    argv = ["fuzz", "--threads", "4", str(seed), str(FUZZ_THREAD_CALLS), "2000"]
    # The hang bound grows with the calls: 20,000 planned calls took 60 s at -smp 4 on the
    # 2-core machine alone, and make test runs two such boots side by side.
    opts = RunOptions(repo=REPO, results=REPO / "build", progress=False,
                      timeout=max(TIMEOUT, FUZZ_THREAD_CALLS * 0.018))
    try:
        res = boot(v, argv, icount=False, log=TEST_LOGS / v.name / "fuzz-wall-threads.log", opts=opts,
                   check=False)
    except RunError as exc:
        pytest.fail(str(exc), pytrace=False)
    assert not res.timed_out, "the threaded fuzzer timed out (a hang?)" + where(res)
    out = res.console.replace("\r", "").splitlines()
    odd = [ln for ln in out if ln.startswith("fuzz: odd") or "KILLED" in ln or "panic" in ln.lower()]
    assert not odd, "fuzz found:\n    " + "\n    ".join(odd[:20]) + where(res)
    summary = [ln for ln in out if re.fullmatch(r"fuzz: \d+ batch processes killed, .*", ln)]
    assert summary == ["fuzz: 0 batch processes killed, 0 problems below them, 0 errors"], \
        f"fuzz summary {summary}" + where(res)
    final = [m for ln in out
             for m in [re.fullmatch(r"fuzz: (\d+) calls, (\d+) batches, leaks (\d+)", ln)] if m]
    assert len(final) == 1 and final[0].group(3) == "0", "no clean final line" + where(res)
    # every planned call was issued (fork/exec children do not count theirs here)
    assert int(final[0].group(1)) >= FUZZ_THREAD_CALLS, "fewer calls than planned" + where(res)
    assert res.exit_status == 0, f"fuzz exited {res.exit_status}" + where(res)


# ------------------------------------------------------------------ report and plot (unit)

def _multihart_frame(ipi: bool = True) -> pd.DataFrame:
    """Synthetic rows of every multi-hart benchmark: the six base variants at 1 and 4 harts
    (RFENCE) and, with `ipi`, the three ASID variants with SHOOTDOWN_IPI=y at 4 harts. IPI
    shootdowns cost 50 more instructions, send no fence requests and one IPI per remote hart."""
    rows = []
    for scheme in (1, 2, 3):
        for asid in (True, False):
            base = variant_by_name(f"s{scheme}-{'asid' if asid else 'noasid'}", REPO)
            v4 = with_harts(base, 4)
            ipi4 = variant_by_name(f"s{scheme}-asid-h4-ipi", REPO) if asid and ipi else None
            for v, mech in ((v4, "rfence"), (ipi4, "ipi")):
                if v is None:
                    continue
                extra = 50 if mech == "ipi" else 0
                for pages in (1, 16, 256):
                    for remote in range(4):
                        insns = 1000 * scheme + 100 * remote + pages + (0 if asid else 7) + extra
                        p = {"pages": pages, "remote": remote}
                        rows.append(make_row(v, "bench_shootdown", p, mode="icount",
                                             metric="insns_per_op", value=insns))
                        rows.append(make_row(v, "bench_shootdown", p, mode="icount",
                                             metric="remote_fences",
                                             value=0 if mech == "ipi" else remote))
                        rows.append(make_row(v, "bench_shootdown", p, mode="icount",
                                             metric="ipis", value=remote if mech == "ipi" else 0))
                        rows.append(make_row(v, "bench_shootdown", p, mode="tlb", preset="u54",
                                             metric="tlb_model_cycles_per_op", value=2 * insns))
                for placement, cost in (("cross", 900), ("same", 700)):
                    p = {"placement": placement}
                    rows.append(make_row(v, "bench_pingpong_harts", p, mode="icount",
                                         metric="insns_per_op", value=cost + 10 * scheme + extra))
                    rows.append(make_row(v, "bench_pingpong_harts", p, mode="icount",
                                         metric="ipis", value=2 if placement == "cross" else 0))
                rows.append(make_row(v, "bench_storm", {"harts": 4}, mode="icount",
                                     metric="insns_per_op", value=50000 + 1000 * scheme + extra))
                rows.append(make_row(v, "bench_storm", {"harts": 4}, mode="icount",
                                     metric="remote_fences", value=3 if mech == "rfence" else 0))
                rows.append(make_row(v, "bench_storm", {"harts": 4}, mode="icount",
                                     metric="ipis", value=3 if mech == "ipi" else 0))
                rows.append(make_row(v, "bench_kv_harts", {"clients": 4}, mode="icount",
                                     metric="insns_per_op", value=4000 + 100 * scheme + extra))
            for h in (1, 4):
                v = base if h == 1 else v4
                rows.append(make_row(v, "bench_getpid_harts", {"harts": h}, mode="icount",
                                     metric="insns_per_op", value=100 + scheme + h))
                rows.append(make_row(v, "bench_getpid_harts", {"harts": h}, mode="icount",
                                     metric="insns_per_op_max", value=101 + scheme + h))
    return make_frame(rows)


@pytest.mark.unit
def test_ipi_variants_declared() -> None:
    """Three 4-hart variants with ASIDs on and the IPI mechanism; like every variant with harts
    > 1 they run only the multi-hart benchmarks."""
    from harness.benchspec import load_benches, runs_in
    from harness.report.multihart import mechanism_of
    ipi = [v for v in load_variants(REPO) if mechanism_of(v.config_string) == "ipi"]
    assert [(v.name, v.scheme, v.asid, v.harts, v.config_string) for v in ipi] == [
        (f"s{s}-asid-h4-ipi", s, True, 4, "SHOOTDOWN_IPI=y") for s in (1, 2, 3)]
    assert ipi[1].resolved.values["SHOOTDOWN_RFENCE"] == "n"
    # a different kernel image from the RFENCE variant
    assert ipi[1].config_hash != variant_by_name("s2-asid-h4", REPO).config_hash
    # the two benchmarks that shoot down (`benches` in variants.toml)
    specs, tlb = load_benches(REPO)
    for v in ipi:
        assert sorted(b.name for b in specs if runs_in(b, v)) == ["bench_shootdown", "bench_storm"]
        assert [b.name for b in tlb if runs_in(b, v)] == ["bench_shootdown"]
    # the 2- and 4-hart RFENCE variants: every multi-hart benchmark (measured at 1, 2, 4 harts)
    multi = sorted(b.name for b in specs if b.multihart)
    assert len(multi) == 5
    for v in load_variants(REPO):
        ran = sorted(b.name for b in specs if runs_in(b, v))
        if v.harts in (2, 4) and v not in ipi:
            assert ran == multi, v.name


@pytest.mark.unit
def test_mechanism_of_config() -> None:
    from harness.report.multihart import mechanism_of
    assert mechanism_of("") == "rfence" and mechanism_of(float("nan")) == "rfence"
    assert mechanism_of("ASID=n") == "rfence"
    assert mechanism_of("SHOOTDOWN_IPI=y") == "ipi"
    assert mechanism_of("ASID=n,SHOOTDOWN_IPI=y") == "ipi"


@pytest.mark.unit
def test_multihart_section() -> None:
    from harness.report.multihart import figure, render_multihart
    df = _multihart_frame()
    assert figure(df, "bench_shootdown", "insns_per_op", 2, True, pages=16, remote=3) == 2316
    assert figure(df, "bench_shootdown", "insns_per_op", 2, True, mechanism="ipi", pages=16,
                  remote=3) == 2366
    assert figure(df, "bench_shootdown", "tlb_model_cycles_per_op", 3, False, mode="tlb",
                  preset="u54", pages=1, remote=1) == 2 * 3108
    assert figure(df, "bench_shootdown", "insns_per_op", 1, False, mechanism="ipi", pages=1,
                  remote=1) is None
    text = "\n".join(render_multihart(df, "u54"))
    assert text.startswith("## Multi-hart") and "*not stated*" in text
    # scheme 1, 1 page, 1 remote, ASIDs on: RFENCE 1101 insns, 1 fence, 0 IPIs, 2202 model
    # cycles; IPI 1151 insns, 0 fences, 1 IPI, 2302 model cycles
    assert "| 1 | 1 | RFENCE | 1,101 / 1 / 0 / 2,202 |" in text
    assert "| 1 | 1 | IPI | 1,151 / 0 / 1 / 2,302 |" in text
    # 256 pages, 3 remote: both mechanisms, every scheme
    assert "| 256 | 3 | RFENCE | 1,556 / 3 / 0 / 3,112 | 2,556 / 3 / 0 / 5,112 |" in text
    assert "| 256 | 3 | IPI | 1,606 / 0 / 3 / 3,212 | 2,606 / 0 / 3 / 5,212 |" in text
    # ASIDs off: RFENCE rows only (no IPI variant without ASIDs was measured)
    off = text[text.index("ASIDs off:"):text.index("**getpid per hart**")]
    assert "| 1 | 1 | RFENCE | 1,108 / 1 / 0 / 2,216 |" in off and "| IPI |" not in off
    assert "| 4 | 105 / 106 | 106 / 107 | 107 / 108 |" in text
    # the ordering statement, per mechanism
    on = text[:text.index("ASIDs off:")]
    assert "RFENCE: 1 < 2 < 3 at 1 page, 1 remote" in on
    assert "IPI: 1 < 2 < 3 at 1 page, 1 remote" in on
    assert "RFENCE: 1 < 2 < 3 at 1 page, 1 remote" in off and "IPI:" not in off.split(
        "Where each ordering")[1]
    assert render_multihart(df[df["bench"] == "bench_null"], "u54") == []


@pytest.mark.unit
def test_multihart_section_other_benchmarks() -> None:
    """Ping-pong across harts, the storm and the key-value server: per ASID setting and
    mechanism, instructions labelled -icount, no wall time unless wall rows exist."""
    from harness.report.multihart import render_multihart
    df = _multihart_frame()
    text = "\n".join(render_multihart(df, "u54"))
    assert "`bench_pingpong_harts`" in text and "`-icount`" in text
    # scheme 1 ASIDs on RFENCE: cross 910, same 710, 2 IPIs; IPI mechanism 50 more
    assert "| on | RFENCE | 4 | 910 / 710 / 2 | 920 / 720 / 2 | 930 / 730 / 2 |" in text
    assert "| on | IPI | 4 | 960 / 760 / 2 | 970 / 770 / 2 | 980 / 780 / 2 |" in text
    assert "| off | RFENCE | 4 | 910 / 710 / 2 |" in text
    assert "| on | RFENCE | 4 | 51,000 / 3 / 0 | 52,000 / 3 / 0 | 53,000 / 3 / 0 |" in text
    assert "| on | IPI | 4 | 51,050 / 0 / 3 | 52,050 / 0 / 3 | 53,050 / 0 / 3 |" in text
    assert "| on | IPI | 4 | 4,150 | 4,250 | 4,350 |" in text
    assert "QEMU wall time" not in text
    # wall rows, when present, are labelled as QEMU's, not hardware's
    v = with_harts(variant_by_name("s2-asid", REPO), 4)
    wall = make_frame([make_row(v, "bench_kv_harts", {"clients": 4}, mode="wall",
                                metric="ns_per_op", value=12345)])
    text = "\n".join(render_multihart(pd.concat([df, wall], ignore_index=True), "u54"))
    assert "QEMU wall time, not hardware (ns per request): ASIDs on, RFENCE: scheme 1 not " \
        "measured, scheme 2 12,345, scheme 3 not measured." in text
    # absent benchmarks: no section of theirs
    only = df[df["bench"].isin(["bench_shootdown", "bench_getpid_harts"])]
    text = "\n".join(render_multihart(only, "u54"))
    assert "bench_pingpong_harts" not in text and "bench_storm" not in text
    assert "bench_kv_harts" not in text


@pytest.mark.unit
def test_multihart_section_without_ipi_says_not_measured() -> None:
    from harness.report.multihart import render_multihart
    text = "\n".join(render_multihart(_multihart_frame(ipi=False), "u54"))
    assert "| 1 | 1 | IPI | not measured / not measured / not measured / not measured |" in text
    assert "| 1 | 1 | RFENCE | 1,101 / 1 / 0 / 2,202 |" in text


@pytest.mark.unit
def test_multihart_section_without_data_says_not_measured() -> None:
    from harness.report.multihart import render_multihart
    df = _multihart_frame()
    only_getpid = df[df["bench"] == "bench_getpid_harts"]
    text = "\n".join(render_multihart(only_getpid, None))
    assert "not measured / not measured / not measured / not measured" in text


@pytest.mark.unit
def test_shootdown_plot(tmp_path: Path) -> None:
    from harness.plots import by_file
    from harness.plots.multihart import shootdown_series
    p = by_file("shootdown.png")
    data = p.data(_multihart_frame())
    assert set(data["metric"]) == {"insns_per_op"} and set(data["mode"]) == {"icount"}
    # a line per scheme, ASID setting and mechanism: nine, the IPI ones 50 above RFENCE
    series = shootdown_series(data, 256)
    assert sorted(series) == sorted(
        [f"s{s}-{a} RFENCE" for s in (1, 2, 3) for a in ("asid", "noasid")]
        + [f"s{s}-asid IPI" for s in (1, 2, 3)])
    assert series["s2-asid IPI"][3.0] == series["s2-asid RFENCE"][3.0] + 50 == 2606
    assert p.draw(data, tmp_path) == tmp_path / "shootdown.png"
    assert (tmp_path / "shootdown.png").stat().st_size > 0
