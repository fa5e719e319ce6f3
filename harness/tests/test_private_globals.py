"""No global (G) page-table entry in pages a process's table owns (issue 16, bug 2).

A process's table is freed after a fence scoped to its ASID, and the privileged spec says such
a fence does not order global entries; scheme 1 with ASIDs used to map the trampoline global
through the process's own level-1/level-0 tables (user/ptglobals saw 1 such entry). Boots the
real kernels and runs user/ptglobals, which asks diag(DIAG_PRIVATE_GLOBALS) in a process and
in a forked child."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.build import build_variant
from harness.tests.kboot import boot, where
from harness.variants import variant_by_name

REPO = Path(__file__).resolve().parents[2]
TEST_LOGS = REPO / "build" / "test-logs"

pytestmark = pytest.mark.kernel


@pytest.mark.parametrize("name", ["s1-asid", "s1-noasid", "s2-asid", "s3-asid"])
def test_no_global_entry_in_private_tables(name: str) -> None:
    built = build_variant(variant_by_name(name), REPO, TEST_LOGS)
    assert built.ok, f"build of {name} failed: {built.error}\n  log: {built.log}"
    log = TEST_LOGS / name / "ptglobals.log"
    rc, out, cmd = boot(built.kernel, "init=ptglobals", log)
    lines = [ln for ln in out.replace("\r", "").splitlines() if ln.startswith("@ptglobals ")]
    assert lines, "no @ptglobals line" + where(cmd, log)
    counts = json.loads(lines[0].split(" ", 1)[1])
    assert counts == {"self": 0, "child": 0}, \
        f"{name}: global entries in private page-table pages: {counts}" + where(cmd, log)
    assert rc == 0, f"ptglobals exited {rc}" + where(cmd, log)
