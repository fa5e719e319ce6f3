"""The null system call must not get dearer: under -icount, bench_null's instructions per
getpid (the whole round trip, amortised over the loop) stay within the issue-16 bounds, 103 in
schemes 2 and 3 and 127 in scheme 1 with ASIDs. Real kernel variants through the harness."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.build import build_variant
from harness.errors import RunError, format_command
from harness.measure import RunOptions, boot
from harness.parse import Context, parse_bench_output
from harness.variants import variant_by_name

REPO = Path(__file__).resolve().parents[2]
TEST_LOGS = REPO / "build" / "test-logs"

pytestmark = pytest.mark.kernel

# Instructions per call, at most. The loop's setup adds a fraction of an instruction per call
# (insns_per_op is e.g. 103.001 over 2000 calls), so a value below bound + 1 is within it.
BOUND = {"s1-asid": 127, "s2-asid": 103, "s3-asid": 103, "s2-noasid": 103, "s3-noasid": 103}


@pytest.mark.parametrize("name", list(BOUND))
def test_null_call_instruction_bound(name: str, request: pytest.FixtureRequest) -> None:
    built = build_variant(variant_by_name(name), REPO, TEST_LOGS)
    assert built.ok, f"build of {name} failed: {built.error}\n  log: {built.log}"
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    opts = RunOptions(repo=REPO, results=REPO / "build", timeout=300.0, progress=False)
    log = TEST_LOGS / name / f"{test}-bench_null-icount.log"
    try:
        res = boot(built.variant, ["bench_null", "2000"], icount=True, log=log, opts=opts, check=True)
        rows = [r.values for r in parse_bench_output(res.console, Context(res.variant, res.command, res.log)).benches
                if r.bench == "bench_null"]
    except RunError as exc:
        pytest.fail(str(exc), pytrace=False)
    where = f"\n  command: {format_command(res.command)}\n  log:     {res.log}"
    assert rows, "no bench_null line" + where
    insns = rows[0]["insns_per_op"]
    assert rows[0]["traps_per_op"] == 1.0, "an interrupt landed in the loop" + where
    assert insns < BOUND[name] + 1, \
        f"{name}: {insns} instructions per null call, more than {BOUND[name]}" + where

