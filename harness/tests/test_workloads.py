"""Workloads beyond the null call: pipes, demand paging, copy-on-write, and the benchmarks that
use them (bench_pipe, bench_fault, bench_fork with touched memory, bench_mix, bench_lebench,
bench_app), on real kernels in QEMU.

The paging configurations (`MEMORY_DEMAND=y FORK_COW=y`, per scheme and with ASIDs off) are
built into build/variants-extra/; every one runs all of usertests, and under the TLB model the
copy-on-write and demand-paging tests run with zero translation mismatches (a missing fence
after a page becomes valid, or after the parent's pages became read-only, would show as one).
Benchmarks run under -icount, where their counts are deterministic: the assertions are on
counts and on the checks the programs make of their own results, never on time.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from harness.tests.kboot import REPO, assert_no_mismatch, boot, boot_under_model, build_config, tlb_plugin, where

LOGS = REPO / "build" / "test-logs" / "workloads"
PAGING = ["MEMORY_DEMAND=y", "FORK_COW=y"]

pytestmark = pytest.mark.kernel

CONFIGS = {
    "s1-paging": (1, PAGING),
    "s2-paging": (2, PAGING),
    "s3-paging": (3, PAGING),
    "s1-noasid-paging": (1, PAGING + ["ASID=n"]),
    "s3-noasid-paging": (3, PAGING + ["ASID=n"]),
    "s2-eager": (2, []),
}


def kernel(name: str) -> Path:
    scheme, options = CONFIGS[name]
    return build_config(name, scheme, options, LOGS)


def bench_lines(out: str) -> List[Dict]:
    return [json.loads(line.split(" ", 1)[1]) for line in out.splitlines() if line.startswith("@bench ")]


def run_bench(name: str, argv: str, tag: str) -> Tuple[List[Dict], str]:
    log = LOGS / name / f"{tag}.log"
    rc, out, cmd = boot(kernel(name), f"init={argv}", log, icount=True)
    assert rc == 0 and "@bench-error" not in out, f"{argv} failed in {name}{where(cmd, log)}"
    lines = bench_lines(out)
    assert lines and all(b["check"] == "ok" for b in lines), f"{argv}: no or failed @bench lines{where(cmd, log)}"
    return lines, where(cmd, log)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_usertests_in_paging_configurations(name: str) -> None:
    log = LOGS / name / "usertests.log"
    rc, out, cmd = boot(kernel(name), "init=usertests", log)
    assert rc == 0 and ", 0 failed" in out, f"usertests failed in {name}{where(cmd, log)}"
    want = "memory eager, fork copies" if name == "s2-eager" else "memory on demand, fork copy-on-write"
    assert want in out, f"usertests did not report '{want}'{where(cmd, log)}"


@pytest.fixture(scope="module")
def plugin() -> Path:
    return tlb_plugin(LOGS)


@pytest.mark.tlb
@pytest.mark.parametrize("name", ["s1-paging", "s3-paging", "s1-noasid-paging", "s3-noasid-paging"])
def test_paging_under_the_tlb_model(name: str, plugin: Path) -> None:
    """Every page made valid by a fault, every copy-on-write break and every fork that made
    the parent's pages read-only is fenced: zero translation mismatches in the model (which,
    like hardware, keeps stale entries until an sfence.vma)."""
    log = LOGS / "tlb" / name / "usertests.log"
    rc, out, cmd, rep = boot_under_model(
        kernel(name), "init=usertests cow_isolation demand_paging demand_oom fork_tree mmap_fork pipe_fork sbrk",
        log, plugin, asid="off" if "noasid" in name else "on")
    assert rc == 0 and ", 0 failed" in out, f"usertests failed under the model{where(cmd, log)}"
    assert_no_mismatch(rep, cmd, log)


@pytest.mark.parametrize("name", ["s1-paging", "s2-paging", "s3-paging", "s2-eager"])
def test_shell_pipeline(name: str) -> None:
    log = LOGS / name / "pipeline.log"
    rc, out, cmd = boot(kernel(name), "init=sh -c gen 3000 5 | sort | wc -s", log)
    assert rc == 0 and "3000 3000 30000 sorted" in out, f"gen | sort | wc -s{where(cmd, log)}"


def by(lines: List[Dict], **params) -> Dict:
    found = [b for b in lines if all(b["params"].get(k) == v for k, v in params.items())]
    assert len(found) == 1, f"{len(found)} lines with {params}"
    return found[0]


def test_bench_fault_counts() -> None:
    """One resolved fault per first-touched page with demand paging, none when eager; a
    copy-on-write child faults once per written page (plus its stack page)."""
    demand, w = run_bench("s2-paging", "bench_fault 5 4 64 1024", "bench_fault")
    eager, w2 = run_bench("s2-eager", "bench_fault 5 4 64 1024", "bench_fault")
    for kb in (4, 64, 1024):
        assert by(demand, mode="first_touch", kb=kb)["faults"] == kb // 4, w
        assert by(eager, mode="first_touch", kb=kb)["faults"] == 0, w2
        assert kb // 4 <= by(demand, mode="cow", kb=kb)["faults"] <= kb // 4 + 2, w
        assert by(eager, mode="cow", kb=kb)["faults"] == 0, w2
    assert by(demand, mode="protfault")["check"] == "ok"


def test_bench_fork_cow_is_cheaper_for_large_processes() -> None:
    """Under -icount: forking a process that touched 4 MiB retires fewer instructions with
    copy-on-write than with the eager copy (which copies 1024 pages)."""
    cow, w = run_bench("s2-paging", "bench_fork 20 64 4096", "bench_fork")
    eager, w2 = run_bench("s2-eager", "bench_fork 20 64 4096", "bench_fork")
    c, e = by(cow, touched_kb=4096)["insns_per_op"], by(eager, touched_kb=4096)["insns_per_op"]
    assert c < e, f"COW fork {c} instructions, eager {e}{w}{w2}"


@pytest.mark.parametrize("name", ["s1-paging", "s2-paging", "s3-paging"])
def test_bench_pipe_counts(name: str) -> None:
    """lat_pipe: two system calls and one switch into the measuring process per round trip;
    satp writes per round trip: 1 switch in schemes 2 and 3, plus 2 per trap in scheme 1."""
    lines, w = run_bench(name, "bench_pipe 200 64 4096", "bench_pipe")
    lat = by(lines, mode="lat")
    assert lat["traps_per_op"] == pytest.approx(2.0, abs=0.01) and lat["switches_per_op"] == pytest.approx(1.0, abs=0.01), w
    want_satp = 4.0 if name.startswith("s1") else 1.0
    assert lat["satp_per_op"] == pytest.approx(want_satp, abs=0.02), w
    assert {b["params"]["mode"] for b in lines} == {"lat", "bw", "ctx"}, w


@pytest.mark.parametrize("prog", ["bench_mix 2000 4 64", "bench_lebench", "bench_app 1"])
def test_benchmarks_run_and_check_themselves(prog: str) -> None:
    for name in ("s1-paging", "s3-paging"):
        lines, w = run_bench(name, prog, prog.split()[0])
        if prog.startswith("bench_mix"):
            assert len(lines) == 2 * 6, w  # 2 working sets x N = 1 .. 100000
            calls = {b["params"]["every"]: b["traps_per_op"] for b in lines if b["params"]["ws_kb"] == 4}
            assert calls[1] == pytest.approx(1.0, abs=0.01) and calls[100000] < 0.05, w
        if prog == "bench_lebench":
            assert len(lines) >= 23, w
