"""Scheme 2 with CONFIG_KASLR_BOOT (issue 15): one random kernel slot per boot, for every process.

Builds scheme2_defconfig + KASLR_BOOT=y and boots the real kernel: within a boot every process
sees the kernel at the same slot, two kaslr seeds give two different slots, neither is the
link-time window, the link-time window is not mapped in a process's table, the reported entropy
is about 17 bits, and the null system call costs what it costs without KASLR_BOOT (103)."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import List

import pytest

from harness.tests.kboot import boot, build_config, where

REPO = Path(__file__).resolve().parents[2]
LOGS = REPO / "build" / "test-logs" / "s2-kaslr-boot"
LINK_WINDOW = 0xFFFFFFC000000000

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def kernel() -> Path:
    return build_config("s2-kaslr-boot", 2, ["KASLR_BOOT=y"], LOGS)


def tagged(out: str, tag: str) -> List[str]:
    return [ln.split(" ", 1)[1] for ln in out.replace("\r", "").splitlines() if ln.startswith(tag + " ")]


def test_one_slot_per_boot(kernel: Path) -> None:
    slots = []
    for seed in (1, 2):
        log = LOGS / f"kaslr_probe-seed{seed}.log"
        rc, out, cmd = boot(kernel, f"kaslr_seed={seed} init=kaslr_probe 8", log)
        assert rc == 0, f"kaslr_probe exited {rc}" + where(cmd, log)
        seen = {int(s, 16) for s in tagged(out, "@slot")}
        assert len(tagged(out, "@slot")) == 8, "want 8 @slot lines" + where(cmd, log)
        assert len(seen) == 1, f"processes of one boot see different slots: {sorted(map(hex, seen))}" + where(cmd, log)
        entropy = json.loads(tagged(out, "@kaslr")[0])["entropy_bits"]
        assert 16 < entropy < 18, f"entropy {entropy} bits" + where(cmd, log)
        slots.append(seen.pop())
    assert slots[0] != slots[1], f"two seeds drew the same slot {slots[0]:#x}"
    assert LINK_WINDOW not in slots


def test_link_time_window_is_not_mapped(kernel: Path) -> None:
    log = LOGS / "linkwindow.log"
    rc, out, cmd = boot(kernel, "init=linkwindow", log)
    assert rc == 0, f"linkwindow exited {rc}" + where(cmd, log)
    got = json.loads(tagged(out, "@linkwindow")[0])
    assert got["mapped"] == 0, f"the kernel is mapped at its link-time VA: {got}" + where(cmd, log)
    assert int(got["slot"], 16) != LINK_WINDOW, f"the slot is the link-time window: {got}" + where(cmd, log)


def test_null_call_costs_the_same(kernel: Path) -> None:
    log = LOGS / "bench_null-icount.log"
    rc, out, cmd = boot(kernel, "init=bench_null 2000", log, icount=True)
    assert rc == 0, f"bench_null exited {rc}" + where(cmd, log)
    m = re.search(r'"insns_per_op":([0-9.]+)', out)
    assert m, "no insns_per_op" + where(cmd, log)
    assert float(m.group(1)) < 104, f"{m.group(1)} instructions per null call, more than 103" + where(cmd, log)
