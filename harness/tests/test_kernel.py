"""Integration tests: build the real kernel variants through the harness and boot them in QEMU.

They fail until the kernel, the user programs (usertests, bench_null, kaslr_probe) and scheme 3
exist; that is expected. The TLB-model tests build the plugin (make -C tlbmodel, once per session,
flock-serialised) and boot under it through the harness's own TLB-run code; every one of those
runs must have zero translation mismatches (the harness raises otherwise). Builds go to build/variants/<name> through harness.build (once per
pytest session and worker; an flock per variant serialises concurrent xdist workers and make is
incremental), console logs to build/test-logs/<variant>/. Every failure message names the
variant, the exact command and the log file. No wall-clock thresholds: only the per-run timeout.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Callable, Dict, List

import pytest

from harness.benchspec import BENCHES, TLB_BENCH_BY_NAME
from harness.build import BuildResult, build_variant
from harness.errors import RunError, format_command
from harness.facts import varying_bits
from harness.report import costmodel
from harness.measure import RunOptions, boot, measure_tlb, probe_tlb, tlb_boot, tlb_paths
from harness.parse import Context, ConsoleOutput, parse_bench_output, parse_kaslr_output
from harness.qemu import RunResult
from harness.variants import Variant, variant_by_name

REPO = Path(__file__).resolve().parents[2]
TEST_LOGS = REPO / "build" / "test-logs"
TIMEOUT = 300.0  # seconds per QEMU run (usertests may take a while under TCG)

Booter = Callable[..., RunResult]

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="session")
def kernel() -> Callable[[str], Variant]:
    """kernel(name) builds the variant (once per session) and returns it, or fails the test
    with the build's command and log."""
    cache: Dict[str, BuildResult] = {}

    def get(name: str) -> Variant:
        if name not in cache:
            cache[name] = build_variant(variant_by_name(name), REPO, TEST_LOGS)
        res = cache[name]
        if not res.ok:
            pytest.fail(f"build of {name} failed: {res.error}\n  variant: {name}\n"
                        f"  command: {res.commands[-1] if res.commands else 'make'}\n"
                        f"  log:     {res.log}", pytrace=False)
        return res.variant

    return get


@pytest.fixture
def run(request: pytest.FixtureRequest) -> Booter:
    """run(variant, argv, icount=..., tag=...) boots once; the log is unique to the test."""
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    opts = RunOptions(repo=REPO, results=REPO / "build", timeout=TIMEOUT, progress=False)

    def go(v: Variant, argv: List[str], *, icount: bool = False, tag: str = "0",
           check: bool = True) -> RunResult:
        log = TEST_LOGS / v.name / f"{test}-{argv[0]}-{'icount' if icount else 'wall'}-{tag}.log"
        try:
            return boot(v, argv, icount=icount, log=log, opts=opts, check=check)
        except RunError as exc:
            pytest.fail(str(exc), pytrace=False)

    return go


def where(res: RunResult) -> str:
    return (f"\n  variant: {res.variant}\n  command: {format_command(res.command)}\n"
            f"  log:     {res.log}")


def bench_lines(res: RunResult) -> ConsoleOutput:
    try:
        return parse_bench_output(res.console, Context(res.variant, res.command, res.log))
    except RunError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["s1-asid", "s2-asid", "s3-asid", "s1-noasid", "s2-noasid",
                                  "s3-noasid"])
def test_usertests_pass(kernel: Callable[[str], Variant], run: Booter, name: str) -> None:
    res = run(kernel(name), ["usertests"])  # raises (fails) unless QEMU exits 0
    assert res.exit_status == 0, "usertests did not exit 0" + where(res)


@pytest.mark.parametrize("name", ["s1-asid", "s2-asid"])
def test_missing_init_program(kernel: Callable[[str], Variant], run: Booter, name: str) -> None:
    res = run(kernel(name), ["nosuchprogram"], check=False)
    assert not res.timed_out, "timed out" + where(res)
    assert res.exit_status != 0, "init=nosuchprogram exited 0" + where(res)
    said = [ln for ln in res.console.replace("\r", "").splitlines()
            if "nosuchprogram" in ln and re.search(
                r"(?i)not found|no such|enoent|cannot|can't|failed|error|unknown", ln)]
    assert said, "the console does not say that nosuchprogram was not found" + where(res)


SATP_PER_NULL = {"s1-asid": 2.0, "s1-noasid": 2.0, "s2-asid": 0.0, "s2-noasid": 0.0,
                 "s3-asid": 0.0, "s3-noasid": 0.0}


@pytest.mark.parametrize("name", list(SATP_PER_NULL))
def test_null_syscall_satp_writes(kernel: Callable[[str], Variant], run: Booter,
                                  name: str) -> None:
    res = run(kernel(name), ["bench_null", "2000"], icount=True)
    out = bench_lines(res)
    rows = [r.values for r in out.benches if r.bench == "bench_null"]
    assert rows, "no bench_null line" + where(res)
    satp, traps = rows[0]["satp_per_op"], rows[0]["traps_per_op"]
    # One trap per call (the benchmark starts its loop right after a timer tick) ...
    assert traps == 1.0, f"traps_per_op = {traps}, expected 1 (no interrupt in the loop)" + where(res)
    # ... and the scheme's satp writes per trap: 2 (in and out) or none.
    assert satp == SATP_PER_NULL[name], \
        f"satp_per_op = {satp}, expected exactly {SATP_PER_NULL[name]}" + where(res)


@pytest.mark.parametrize("name", ["s1-asid", "s2-asid", "s3-asid"])
def test_icount_is_deterministic(kernel: Callable[[str], Variant], run: Booter,
                                 name: str) -> None:
    v = kernel(name)
    a = run(v, ["bench_null", "2000"], icount=True, tag="a")
    b = run(v, ["bench_null", "2000"], icount=True, tag="b")
    ia = [r.values["insns_per_op"] for r in bench_lines(a).benches]
    ib = [r.values["insns_per_op"] for r in bench_lines(b).benches]
    assert ia == ib, (f"insns_per_op differs between two icount runs: {ia} vs {ib}"
                      + where(a) + f"\n  second log: {b.log}")


@pytest.mark.parametrize("name", ["s3-asid", "s2-asid"])
def test_kaslr_probe_independent_draws_estimate(kernel: Callable[[str], Variant], run: Booter,
                                                name: str) -> None:
    """`kaslr_probe 4096 seq` (what the harness runs): 4,096 independent draws; in scheme 3
    the collision entropy estimate's 95 % interval holds the kernel's documented 16.99 bits,
    in scheme 2 every draw is the same VA (0 bits)."""
    from harness.report.security import collision_bits
    res = run(kernel(name), ["kaslr_probe", "4096", "seq"], tag="seq")
    try:
        out = parse_kaslr_output(res.console, Context(res.variant, res.command, res.log),
                                 processes=4096)
    except RunError as exc:
        pytest.fail(str(exc), pytrace=False)
    assert len(out.slots) == 4096, f"{len(out.slots)} @slot lines" + where(res)
    est = collision_bits(out.slots)
    assert est is not None
    if name == "s2-asid":
        assert len(set(out.slots)) == 1 and est[0] == 0.0, f"{est}" + where(res)
    else:
        kernel_bits = out.kaslr.get("entropy_bits") if out.kaslr else None
        assert kernel_bits is not None
        assert est[1] <= kernel_bits <= est[2], \
            f"collision entropy {est} does not cover the kernel's {kernel_bits} bits" + where(res)


@pytest.mark.parametrize("name", ["s1-asid", "s3-asid"])
def test_kernel_probe_trials(kernel: Callable[[str], Variant], run: Booter, name: str) -> None:
    """`kernel_probe 100`: every one of the 200 probing children is killed by its load."""
    res = run(kernel(name), ["kernel_probe", "100"], tag="trials")
    assert res.exit_status == 0 and "@probe" in res.console, \
        "kernel_probe 100 did not end with every child killed" + where(res)


@pytest.mark.parametrize("name, distinct", [("s3-asid", 64), ("s2-asid", 1)])
def test_kaslr_probe(kernel: Callable[[str], Variant], run: Booter, name: str,
                     distinct: int) -> None:
    res = run(kernel(name), ["kaslr_probe", "64"])
    try:
        out = parse_kaslr_output(res.console, Context(res.variant, res.command, res.log),
                                 processes=64)
    except RunError as exc:
        pytest.fail(str(exc), pytrace=False)
    assert len(set(out.slots)) == distinct, \
        (f"{len(set(out.slots))} distinct kernel slots among 64 processes, expected "
         f"{distinct}" + where(res))
    if distinct > 1:
        # The entropy the kernel documents (docs/scheme3.md: log2(130302) = 16.99 bits) ...
        kernel_bits = out.kaslr.get("entropy_bits") if out.kaslr else None
        assert kernel_bits is not None and kernel_bits >= 16.0, \
            f"kernel-reported slot entropy {kernel_bits}, expected >= 16 bits" + where(res)
        # ... against what the 64 live processes show: every slot-index bit varies.
        bits, text = varying_bits([hex(s) for s in out.slots])
        assert bits is not None and bits >= math.floor(kernel_bits), \
            f"{text}; expected at least {math.floor(kernel_bits)}" + where(res)
        assert bits <= math.ceil(kernel_bits), f"{text}: more than the documented slots" + where(res)


# ------------------------------------------------------------------ the TLB model

@pytest.fixture(scope="session")
def tlb_plugin() -> Path:
    """Builds build/tlbmodel/libtlbmodel.so (make -C tlbmodel O=build/tlbmodel) once per
    session, or fails the test with the command and the log."""
    from harness.tlb import build_plugin
    res = build_plugin(REPO, TEST_LOGS)
    if not res.ok:
        pytest.fail(f"TLB-model plugin build failed: {res.error}\n  command: {res.command}\n"
                    f"  log:     {res.log}", pytrace=False)
    return res.plugin


@pytest.fixture
def tlb_opts(request: pytest.FixtureRequest, tlb_plugin: Path) -> RunOptions:
    """Full (not --quick) TLB-run counts; logs and reports under build/test-logs/tlb/<test>/."""
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    return RunOptions(repo=REPO, results=TEST_LOGS / "tlb" / test, quick=False,
                      timeout=TIMEOUT, progress=False)


def tlb_metrics(v: Variant, bench: str, opts: RunOptions, preset: str = "u54",
                cap_kernel: bool = True) -> Dict[str, Dict[str, float]]:
    """{params: {metric: value}} of one TLB-model run; fails the test on a failed run (which
    includes a report with mismatches > 0). cap_kernel=False: an ASID variant keeps 16 ASID
    bits on a core that has none (hypothetical; for the known answers of ASID behaviour)."""
    try:
        rows = measure_tlb(v, TLB_BENCH_BY_NAME[bench], preset, opts, cap_kernel=cap_kernel)
    except RunError as exc:
        pytest.fail(str(exc), pytrace=False)
    out: Dict[str, Dict[str, float]] = {}
    for r in rows:
        out.setdefault(r["params"], {})[r["metric"]] = r["value"]
    return out


def tlb_where(v: Variant, bench: str, opts: RunOptions, preset: str = "u54") -> str:
    log, report, _ = tlb_paths(opts.log_root, v.name, bench, preset)
    return f"\n  variant: {v.name}\n  log:     {log}\n  report:  {report}"


def _miss_cycles(m: Dict[str, float]) -> float:
    """The cost model's cycles of the L2 hits and walks of one line's metrics (u54)."""
    ev = {k: m.get(metric, 0.0) for k, metric in costmodel.EVENTS.items()}
    return costmodel.miss_cost(ev, "u54")


@pytest.mark.tlb
@pytest.mark.parametrize("name", ["s1-noasid", "s1-asid", "s2-asid", "s2-noasid", "s3-asid"])
def test_tlb_null_syscall(kernel: Callable[[str], Variant], tlb_opts: RunOptions,
                          name: str) -> None:
    """bench_null 2000 under u54. Without ASIDs scheme 1 flushes on both satp writes of every
    trap, so the user's entries are refilled after each call (misses after a flush); with ASIDs
    (any scheme), and in scheme 2 without them (no satp write on a trap), the warmed-up loop
    misses nothing."""
    v = kernel(name)
    m = tlb_metrics(v, "bench_null", tlb_opts, cap_kernel=False)[""]  # u54's geometry, with ASIDs
    where = tlb_where(v, "bench_null", tlb_opts)
    if name == "s1-noasid":
        assert m["tlb_misses_after_flush_per_op"] > 0, f"{m}" + where
        assert m["tlb_user_misses_per_op"] >= 1, f"{m}" + where
        assert m["tlb_flushes_per_op"] >= 2, f"{m}" + where
        assert _miss_cycles(m) > 0, f"{m}" + where
    else:
        for k in ("tlb_user_misses_per_op", "tlb_l1i_misses_per_op", "tlb_l1d_misses_per_op",
                  "tlb_misses_after_flush_per_op", "tlb_flushes_per_op", "tlb_walk_refs_per_op"):
            assert m[k] == 0, f"{k} = {m[k]}, expected 0 after warm-up" + where
        assert _miss_cycles(m) == 0, f"{m}" + where


@pytest.mark.tlb
@pytest.mark.parametrize("name, own, other", [("s1-asid", False, False),
                                              ("s2-asid", True, True),
                                              ("s3-asid", True, False)])
def test_tlb_kernel_probe(kernel: Callable[[str], Variant], tlb_opts: RunOptions, name: str,
                          own: bool, other: bool) -> None:
    """kernel_probe: scheme 1 leaves no kernel translation a user load could find; scheme 2's
    is found at its own and at another process's address (the same VA); scheme 3's only in
    the process's own slot."""
    v = kernel(name)
    try:
        f = probe_tlb(v, "u54", tlb_opts)
    except RunError as exc:
        pytest.fail(str(exc), pytrace=False)
    got = (f["probe_own_slot_hit"], f["probe_other_process_hit"])
    assert got == (own, other), (f"own-slot / other-process hit {got}, expected "
                                 f"{(own, other)}: {f}" + tlb_where(v, "kernel_probe", tlb_opts))
    assert f["own_slot_probes"] >= 1 and f["other_process_probes"] >= 1


@pytest.mark.tlb
@pytest.mark.parametrize("name", ["s2-asid", "s1-asid", "s1-noasid"])
def test_tlb_pollution_known_answer(kernel: Callable[[str], Variant], tlb_opts: RunOptions,
                                    name: str) -> None:
    """bench_tlb 20 under u54 (32-entry fully associative LRU L1 DTLB): each iteration loads K
    pages, then calls getpid. With ASIDs the system call leaves the user's entries alone, so
    K <= 16 pages stay resident (0 misses), while from K = 32 on the K user pages plus the
    kernel's own entries exceed 32 and LRU misses on every one of the K loads (exactly K).
    Scheme 1 without ASIDs flushes them on every trap: exactly K misses for every K."""
    v = kernel(name)
    m = tlb_metrics(v, "bench_tlb", tlb_opts, cap_kernel=False)  # u54's geometry, with ASIDs
    where = tlb_where(v, "bench_tlb", tlb_opts)
    got = {int(p.split("=")[1]): vals["tlb_user_l1d_misses_per_op"] for p, vals in m.items()}
    assert sorted(got) == [2 ** k for k in range(11)], f"{sorted(got)}" + where
    for K, misses in sorted(got.items()):
        if name == "s1-noasid":
            want = float(K)
        else:
            want = 0.0 if K <= 16 else float(K)
        assert misses == want, (f"K={K}: {misses} user L1D misses per iteration, expected "
                                f"{want}; all: {got}" + where)


@pytest.mark.tlb
@pytest.mark.slow
@pytest.mark.parametrize("name", ["s1-asid", "s1-noasid", "s2-asid", "s2-noasid", "s3-asid",
                                  "s3-noasid"])
def test_tlb_model_has_no_mismatch_on_the_whole_suite(kernel: Callable[[str], Variant],
                                                      request: pytest.FixtureRequest,
                                                      tlb_plugin: Path, name: str) -> None:
    """Every benchmark (quick arguments), usertests and kernel_probe under the TLB model: the
    model's translation must equal QEMU's for every access (tlb_boot fails the run when the
    report counts a mismatch)."""
    v = kernel(name)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    opts = RunOptions(repo=REPO, results=TEST_LOGS / "tlb" / test, quick=True, timeout=TIMEOUT,
                      progress=False)
    programs = [[b.prog, *b.argv(True)] for b in BENCHES] + [["usertests"], ["kernel_probe"]]
    for argv in programs:
        try:
            _, report, path = tlb_boot(v, argv, "u54", opts)
        except RunError as exc:
            pytest.fail(str(exc), pytrace=False)
        assert report["mismatches"] == 0 and report["status"] == "ok", f"{argv[0]}: {path}"
        assert report["totals"]["checked_data"] > 0, f"{argv[0]}: nothing was checked: {path}"
