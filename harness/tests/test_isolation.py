"""Isolation tests (issue 8): user/regcheck in every variant, and the seeded syscall fuzzer
user/fuzz per scheme, booted in QEMU.

regcheck: every register a process can observe (integer registers including gp and tp,
f0-f31, fcsr) is its own after a system call, yield, sleep, timer preemption beside another
process, fork (both sides) and exec (the new image starts clean), in a ring of more live
processes than a 2-bit ASID space holds, and in FP clean/dirty switch loops. Each check prints
`check NAME: ok|FAIL ...`; the test wants every expected line ok and the summary to match.
Runs with `asid_bits=N` before init= on the kernel command line emulate narrow ASID spaces
(asid_bits=2: rollovers must happen and change nothing; asid_bits=0 with ASID=y: the kernel
must behave as without ASIDs).

fuzz: `fuzz SEED CALLS` exits 0 only with no frame leak (checked per batch), no fuzz process
killed and no result against docs/syscalls.md; the counts are deterministic for a seed.

Builds go to build/variants/<name> through harness.build (shared with test_kernel.py, an flock
per variant), console logs to build/test-logs/isolation/<variant>/. Every failure message names
the variant, the exact command and the log file. No wall-clock thresholds, only per-run timeouts.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Dict, List, Sequence

import pytest

from harness.build import BuildResult, build_variant
from harness.errors import RunError
from harness.measure import kernel_arg
from harness.qemu import RunResult, qemu_command, run_qemu
from harness.variants import VARIANT_NAMES, Variant, variant_by_name

REPO = Path(__file__).resolve().parents[2]
TEST_LOGS = REPO / "build" / "test-logs"
LOGS = TEST_LOGS / "isolation"
REGCHECK_TIMEOUT = 120.0
FUZZ_TIMEOUT = 240.0

pytestmark = pytest.mark.kernel

# The lines `regcheck all` prints, in this order, each `check NAME: ok` when it passes.
REGCHECK_CHECKS = [
    "start", "roundtrip", "getpid", "enosys",
    "yield/parent", "yield/child", "sleep/parent", "sleep/child",
    "preempt/parent", "preempt/child", "ring",
    "fork/parent", "fork/child", "fork-after/parent", "fork-after/child",
    "exec-gp-tp", "exec-fp-zero", "exec-gpr-fresh", "exec-parent-kept",
    "fp-clean", "fp-dirty", "threads", "threads-unpinned", "getpid-final",
]

# Fuzzed calls per run: about 10 s of QEMU each on this machine (well under 30 s).
FUZZ_CALLS = 40000
FUZZ_BATCH = 1000
FUZZ_SEEDS = {"s1-asid": 101, "s2-asid": 202, "s3-asid": 303}


@pytest.fixture(scope="session")
def kernel() -> Callable[[str], Variant]:
    """kernel(name) builds the variant once per session, or fails the test with the build's
    command and log."""
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


Booter = Callable[..., RunResult]


@pytest.fixture
def boot(request: pytest.FixtureRequest) -> Booter:
    """boot(variant, argv, bootargs=[...], timeout=...) runs QEMU once (never raises for a
    non-zero exit: the tests assert on it); bootargs go before init= on the command line."""
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def go(v: Variant, argv: Sequence[str], *, bootargs: Sequence[str] = (),
           timeout: float = REGCHECK_TIMEOUT, tag: str = "0") -> RunResult:
        cmd = qemu_command(kernel_arg(v), list(argv), icount=False)
        if bootargs:
            assert cmd[-2] == "-append"
            cmd[-1] = " ".join(bootargs) + " " + cmd[-1]
        log = LOGS / v.name / f"{test}-{tag}.log"
        try:
            return run_qemu(cmd, variant=v.name, log=log, timeout=timeout, cwd=REPO,
                            check=False)
        except RunError as exc:
            pytest.fail(str(exc), pytrace=False)

    return go


def where(res: RunResult) -> str:
    return (f"\n  variant: {res.variant}\n  command: {' '.join(res.command)}\n"
            f"  log:     {res.log}\n  last lines:\n{res.tail(12)}")


def lines(res: RunResult) -> List[str]:
    return [ln.strip() for ln in res.console.replace("\r", "").splitlines()]


def check_regcheck(res: RunResult) -> Dict[str, str]:
    """Asserts a clean `regcheck all` run; returns the figures of its last info line."""
    assert not res.timed_out, "regcheck timed out" + where(res)
    out = lines(res)
    fails = [ln for ln in out if re.match(r"check \S+: FAIL", ln)]
    assert not fails, "regcheck checks failed:\n    " + "\n    ".join(fails) + where(res)
    for name in REGCHECK_CHECKS:
        got = [ln for ln in out if ln.startswith(f"check {name}: ")]
        assert got == [f"check {name}: ok"], \
            f"expected exactly one line 'check {name}: ok', got {got}" + where(res)
    summary = [ln for ln in out if ln.startswith("regcheck: ") and "passed" in ln]
    want = f"regcheck: {len(REGCHECK_CHECKS)} passed, 0 failed"
    assert summary == [want], f"summary {summary}, expected [{want!r}]" + where(res)
    assert res.exit_status == 0, f"regcheck exited {res.exit_status}" + where(res)
    info = [ln for ln in out if ln.startswith("fp_saves ")]
    assert info, "no 'fp_saves ... asid_rollovers N' line" + where(res)
    return dict(re.findall(r"(\w+) (\d+)", info[-1]))


@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_regcheck(kernel: Callable[[str], Variant], boot: Booter, name: str) -> None:
    res = boot(kernel(name), ["regcheck", "all"])
    figures = check_regcheck(res)
    # The FP loops ran beside each other: the dirty one saved FP state at its switches.
    assert int(figures["fp_saves"]) > 0, f"no FP save at all: {figures}" + where(res)


@pytest.mark.parametrize("name", ["s1-asid", "s2-asid", "s3-asid"])
def test_regcheck_asid_rollover(kernel: Callable[[str], Variant], boot: Booter,
                                name: str) -> None:
    """asid_bits=2: the ring of 6 live processes needs more ASIDs than 2 bits give, so the
    generation rolls over, and every register check still passes."""
    res = boot(kernel(name), ["regcheck", "all"], bootargs=["asid_bits=2"])
    figures = check_regcheck(res)
    assert figures.get("asid_bits") == "2", \
        f"the kernel reports asid_bits {figures.get('asid_bits')}, expected 2" + where(res)
    assert int(figures["asid_rollovers"]) > 0, \
        f"no ASID rollover with asid_bits=2: {figures}" + where(res)
    assert int(figures["asid_generation"]) == int(figures["asid_rollovers"]) + 1, \
        f"generation != rollovers + 1: {figures}" + where(res)


@pytest.mark.parametrize("name", ["s2-asid", "s3-asid"])
def test_regcheck_zero_asid_bits(kernel: Callable[[str], Variant], boot: Booter,
                                 name: str) -> None:
    """asid_bits=0 on an ASID=y kernel: no ASIDs in use, no rollover, all checks pass."""
    res = boot(kernel(name), ["regcheck", "all"], bootargs=["asid_bits=0"])
    figures = check_regcheck(res)
    assert figures.get("asid_bits") == "0" and figures.get("asid_rollovers") == "0", \
        f"expected 0 ASID bits and no rollover: {figures}" + where(res)
    head = [ln for ln in lines(res) if ln.startswith("regcheck: scheme")]
    assert head and "ASIDs off" in head[0], \
        f"regcheck's first line {head} does not say ASIDs off" + where(res)


# ------------------------------------------------------------------ the fuzzer

def check_fuzz(res: RunResult, calls: int, batch: int) -> int:
    """Asserts a clean fuzz run; returns N of its last line `fuzz: N calls, M batches, leaks 0`."""
    assert not res.timed_out, "fuzz timed out (a hang?)" + where(res)
    out = lines(res)
    odd = [ln for ln in out if ln.startswith("fuzz: odd") or "KILLED" in ln]
    assert not odd, "fuzz found:\n    " + "\n    ".join(odd[:20]) + where(res)
    batches = -(-calls // batch)
    per_batch = [ln for ln in out if re.match(r"fuzz: batch \d+:", ln)]
    assert len(per_batch) == batches, \
        f"{len(per_batch)} batch lines, expected {batches}" + where(res)
    leaky = [ln for ln in per_batch if not ln.endswith(" lost 0")]
    assert not leaky, "frames lost:\n    " + "\n    ".join(leaky) + where(res)
    final = [m for ln in out
             for m in [re.fullmatch(r"fuzz: (\d+) calls, (\d+) batches, leaks (\d+)", ln)] if m]
    assert len(final) == 1, "no (or more than one) final 'fuzz: N calls' line" + where(res)
    n, m, leaks = (int(x) for x in final[0].groups())
    assert (m, leaks) == (batches, 0), \
        f"final line says {m} batches, leaks {leaks}; expected {batches}, 0" + where(res)
    assert n >= calls, f"{n} calls issued, fewer than the {calls} asked for" + where(res)
    assert res.exit_status == 0, f"fuzz exited {res.exit_status}" + where(res)
    return n


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FUZZ_SEEDS))
def test_fuzz(kernel: Callable[[str], Variant], boot: Booter, name: str) -> None:
    seed = FUZZ_SEEDS[name]
    res = boot(kernel(name), ["fuzz", str(seed), str(FUZZ_CALLS), str(FUZZ_BATCH)],
               timeout=FUZZ_TIMEOUT)
    check_fuzz(res, FUZZ_CALLS, FUZZ_BATCH)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["s1-asid", "s3-asid"])
def test_fuzz_asid_rollover(kernel: Callable[[str], Variant], boot: Booter, name: str) -> None:
    """The fuzzer's fork trees and execs with a 2-bit ASID space: many rollovers, no leak (a
    dying address space's frames come back only after its ASID is flushed), no kill."""
    res = boot(kernel(name), ["fuzz", "77", "10000", "1000"], bootargs=["asid_bits=2"],
               timeout=FUZZ_TIMEOUT)
    check_fuzz(res, 10000, 1000)
    m = [re.fullmatch(r"fuzz: asid generation (\d+), (\d+) rollovers", ln) for ln in lines(res)]
    got = [x for x in m if x]
    assert got and int(got[0].group(2)) > 0, "no ASID rollover with asid_bits=2" + where(res)


def test_fuzz_is_deterministic(kernel: Callable[[str], Variant], boot: Booter) -> None:
    """The same seed issues the same number of calls in two boots."""
    v = kernel("s2-asid")
    a = boot(v, ["fuzz", "9", "4000", "1000"], timeout=FUZZ_TIMEOUT, tag="a")
    b = boot(v, ["fuzz", "9", "4000", "1000"], timeout=FUZZ_TIMEOUT, tag="b")
    na, nb = check_fuzz(a, 4000, 1000), check_fuzz(b, 4000, 1000)
    assert na == nb, f"seed 9: {na} calls in one boot, {nb} in the other" + where(a) + \
        f"\n  second log: {b.log}"
