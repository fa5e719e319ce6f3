"""Integration tests: build the real kernel variants through the harness and boot them in QEMU.

They fail until the kernel, the user programs (usertests, bench_null, kaslr_probe) and scheme 3
exist; that is expected. Builds go to build/variants/<name> through harness.build (once per
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

from harness.build import BuildResult, build_variant
from harness.errors import RunError
from harness.facts import varying_bits
from harness.measure import RunOptions, boot
from harness.parse import Context, ConsoleOutput, parse_bench_output, parse_kaslr_output
from harness.qemu import RunResult
from harness.variants import Variant, variant_by_name

REPO = Path(__file__).resolve().parents[2]
TEST_LOGS = REPO / "build" / "test-logs"
TIMEOUT = 300.0  # seconds per QEMU run (usertests may take a while under TCG)

Booter = Callable[..., RunResult]


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
    return (f"\n  variant: {res.variant}\n  command: {' '.join(res.command)}\n"
            f"  log:     {res.log}")


def bench_lines(res: RunResult) -> ConsoleOutput:
    try:
        return parse_bench_output(res.console, Context(res.variant, res.command, res.log))
    except RunError as exc:
        pytest.fail(str(exc), pytrace=False)


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
