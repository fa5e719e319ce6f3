"""Scheme 3 must not leak a window's slot through instruction counts (issue 16, bug 8).

Boots the scheme-3 kernel under -icount with several fixed kaslr seeds, running user/slotleak:
the parent times each fork with rdinstret while other processes hold windows. The slot draw
and the attach of the new window must do the same work whatever the outcome, so fork's cost
at the n-th fork must be the same in every boot, although the child's window lands above the
parent's in some boots and below in others (the test checks that both outcomes occur)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Set

import pytest

from harness.build import build_variant
from harness.tests.kboot import boot, where
from harness.variants import variant_by_name

REPO = Path(__file__).resolve().parents[2]
TEST_LOGS = REPO / "build" / "test-logs"
SEEDS = [1, 2, 3, 4, 5]
FORKS = 12

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


def test_fork_cost_does_not_depend_on_the_slot() -> None:
    built = build_variant(variant_by_name("s3-asid"), REPO, TEST_LOGS)
    assert built.ok, f"build of s3-asid failed: {built.error}\n  log: {built.log}"
    costs: Dict[int, Set[int]] = {}
    above: Dict[int, Set[int]] = {}
    for seed in SEEDS:
        log = TEST_LOGS / "s3-asid" / f"slotleak-seed{seed}.log"
        rc, out, cmd = boot(built.kernel, f"kaslr_seed={seed} init=slotleak {FORKS}", log, icount=True)
        assert rc == 0, f"slotleak exited {rc}" + where(cmd, log)
        rows: List[dict] = [json.loads(line.split(" ", 1)[1]) for line in out.replace("\r", "").splitlines()
                            if line.startswith("@slotleak ")]
        assert len(rows) == FORKS, f"{len(rows)} @slotleak lines, want {FORKS}" + where(cmd, log)
        for i, row in enumerate(rows):
            if row["interrupted"]:
                continue  # a timer interrupt landed in the interval: its cost says nothing
            costs.setdefault(i, set()).add(row["cost"])
            above.setdefault(i, set()).add(row["above"])
    varying = {i: sorted(c) for i, c in costs.items() if len(c) > 1}
    assert not varying, f"fork's cost differs between boots (slot-dependent work): {varying}"
    assert any(len(a) == 2 for a in above.values()), \
        "no fork landed above in one boot and below in another: the test compared nothing"
