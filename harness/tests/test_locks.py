"""The lock checker (CONFIG_DEBUG_LOCKS, issue 17) in a configuration CI builds: the usertests
pass with every lock acquisition and switch checked on several harts, and the checker fires,
naming both locks, when a lock is taken against the order or held across a switch (the boot
arguments lock_order_selftest=1 and =2 do that on purpose)."""
from __future__ import annotations

import pytest

from .kboot import REPO, boot, build_config

pytestmark = [pytest.mark.kernel]
TEST_LOGS = REPO / "build" / "test-logs" / "locks"


def where(cmd: list, log) -> str:
    return f"\n  command: {' '.join(cmd)}\n  log:     {log}"


@pytest.mark.slow
@pytest.mark.parametrize("scheme", [1, 2, 3])
def test_usertests_with_the_lock_checker_on_2_harts(scheme: int) -> None:
    kernel = build_config(f"s{scheme}-debug-locks", scheme, ["DEBUG_LOCKS=y"], TEST_LOGS)
    log = TEST_LOGS / f"s{scheme}-usertests-smp2.log"
    rc, out, cmd = boot(kernel, "init=usertests", log, extra=["-smp", "2"])
    assert "locks:" not in out, "the lock checker fired" + where(cmd, log)
    assert rc == 0 and "usertests:" in out and " 0 failed" in out, \
        f"usertests with DEBUG_LOCKS at -smp 2 exited {rc}" + where(cmd, log)


@pytest.mark.parametrize("case, says", [
    (1, "locks: kernel (rank 1) taken while holding selftest (rank 2): against the lock order"),
    (2, "locks: selftest held across a context switch (only kernel may be)"),
])
def test_the_lock_checker_fires_naming_both_locks(case: int, says: str) -> None:
    kernel = build_config("s2-debug-locks", 2, ["DEBUG_LOCKS=y"], TEST_LOGS)
    log = TEST_LOGS / f"selftest-{case}.log"
    rc, out, cmd = boot(kernel, f"lock_order_selftest={case} init=usertests", log, extra=["-smp", "2"])
    assert says in out, f"the checker did not say {says!r}" + where(cmd, log)
    assert rc != 0, "a kernel panic must not exit 0" + where(cmd, log)


def test_without_the_checker_the_selftest_argument_does_nothing() -> None:
    """The default build does not check (no cost on the null call): the argument is ignored."""
    kernel = build_config("s2-no-debug-locks", 2, [], TEST_LOGS)
    log = TEST_LOGS / "selftest-off.log"
    rc, out, cmd = boot(kernel, "lock_order_selftest=1 init=echo booted", log)
    assert "locks:" not in out and "booted" in out and rc == 0, f"exited {rc}" + where(cmd, log)
