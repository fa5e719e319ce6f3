"""ASIDs that hold: generations, rollover, the no-ASID fallback, and scheme 3's slot exhaustion.

usertests' `asid_chain` test forks a chain of 40 live processes (each also forking short-lived
ones) and execs a chain of 20 address spaces, checking its own memory and the kernel's ASID
invariant (diag DIAG_ASID_CHECK) at every link. Booted with `asid_bits=N` (the kernel's cap
on the probed ASID width) that is far more address spaces than a 2-, 3- or 4-bit ASID space
holds, so the generation rolls over many times. Under the TLB model, which tags entries with
the ASID in satp exactly as hardware would, a recycled ASID whose entries were not flushed
would translate another process's address to a stale frame: the model reports it as a
translation mismatch, and every run here must have none. `asid_bits=0` on an ASID=y kernel
simulates a core without ASIDs (FU540, JH7110): the kernel must then flush after every satp
write by itself, which the model checks with its own satp flush turned off.

Real QEMU, real kernel builds (build/variants/), console logs under build/test-logs/asid/.
No wall-clock thresholds: only the per-run timeout.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Tuple

import pytest

from harness.build import build_variant
from harness.tests.kboot import REPO, assert_no_mismatch, boot, boot_under_model, build_config, tlb_plugin, where
from harness.variants import Variant, variant_by_name

LOGS = REPO / "build" / "test-logs" / "asid"

pytestmark = pytest.mark.kernel


def kernel_of(variant: Variant) -> Path:
    res = build_variant(variant, REPO, LOGS)
    if not res.ok:
        pytest.fail(f"build of {variant.name} failed: {res.error}\n  log: {res.log}", pytrace=False)
    return res.kernel


def chain_facts(out: str) -> Tuple[int, int]:
    """(usable ASID bits, rollovers) from usertests' asid_chain line."""
    m = re.search(r"asid_chain: (\d+) usable ASID bits, generation \d+ -> \d+, (\d+) rollovers", out)
    assert m, "usertests printed no asid_chain line"
    return int(m.group(1)), int(m.group(2))


@pytest.mark.parametrize("bits", [2, 3, 4, 0])
@pytest.mark.parametrize("name", ["s1-asid", "s2-asid", "s3-asid"])
def test_usertests_with_narrow_asid_space(name: str, bits: int) -> None:
    """All of usertests passes with 2-, 3- and 4-bit ASID spaces and with none at all; the
    chains roll the generation over (bits > 0) or need no generations (bits = 0)."""
    kernel = kernel_of(variant_by_name(name))
    log = LOGS / name / f"usertests-asid_bits={bits}.log"
    rc, out, cmd = boot(kernel, f"asid_bits={bits} init=usertests", log)
    assert rc == 0 and "failed" in out and ", 0 failed" in out, f"usertests failed{where(cmd, log)}"
    usable, rollovers = chain_facts(out)
    assert usable == bits, f"kernel reports {usable} usable ASID bits under asid_bits={bits}{where(cmd, log)}"
    if bits:
        assert rollovers > 0, f"no ASID rollover with {bits} bits{where(cmd, log)}"
    else:
        assert rollovers == 0 and "a full TLB flush after every satp write" in out, where(cmd, log)


def test_asid_bits_only_lowers() -> None:
    """asid_bits= above what QEMU implements (16) changes nothing; ASID=n ignores it."""
    kernel = kernel_of(variant_by_name("s2-asid"))
    log = LOGS / "s2-asid" / "usertests-asid_bits=40.log"
    rc, out, cmd = boot(kernel, "asid_bits=40 init=usertests asid_chain", log)
    assert rc == 0 and chain_facts(out)[0] == 16, where(cmd, log)
    kernel = kernel_of(variant_by_name("s2-noasid"))
    log = LOGS / "s2-noasid" / "usertests-asid_bits=8.log"
    rc, out, cmd = boot(kernel, "asid_bits=8 init=usertests asid_chain", log)
    assert rc == 0 and chain_facts(out)[0] == 0, where(cmd, log)


@pytest.fixture(scope="module")
def plugin() -> Path:
    return tlb_plugin(LOGS)


@pytest.mark.tlb
@pytest.mark.parametrize("bits", [2, 0])
@pytest.mark.parametrize("name", ["s1-asid", "s2-asid", "s3-asid"])
def test_rollover_under_the_tlb_model(name: str, bits: int, plugin: Path) -> None:
    """The ASID chains under the TLB model: zero translation mismatches, i.e. no process ever
    translated through an entry another address space left under a recycled ASID. With
    asid_bits=0 the model runs without ASIDs and without flushing on satp writes itself, so
    only the kernel's own sfence.vma keeps it correct."""
    kernel = kernel_of(variant_by_name(name))
    log = LOGS / "tlb" / name / f"usertests-asid_bits={bits}.log"
    rc, out, cmd, rep = boot_under_model(kernel, f"asid_bits={bits} init=usertests asid_chain fork_tree exec_args",
                                         log, plugin, asid="on" if bits else "off")
    assert rc == 0 and ", 0 failed" in out, f"usertests failed under the model{where(cmd, log)}"
    usable, rollovers = chain_facts(out)
    assert usable == bits and (rollovers > 0) == (bits > 0), where(cmd, log)
    assert_no_mismatch(rep, cmd, log)


def test_scheme3_slot_exhaustion_fails_fork_cleanly() -> None:
    """Scheme 3 with 256 process slots and a 1000 MiB window runs out of disjoint kernel
    windows before it runs out of process slots: fork must then fail with EAGAIN (it used to
    retry the draw forever with interrupts off), and all of usertests must pass."""
    log_dir = LOGS / "s3-exhaustion"
    kernel = build_config("s3-nproc256-window1000", 3, ["NPROC=256", "KERNEL_WINDOW_RAM_MB=1000"], log_dir)
    log = log_dir / "usertests.log"
    rc, out, cmd = boot(kernel, "init=usertests", log, mem="256M")
    assert rc == 0 and ", 0 failed" in out, f"usertests failed{where(cmd, log)}"
    m = re.search(r"fork chain: (\d+) processes below the test, then fork = -(\d+)", out)
    assert m and int(m.group(2)) == 11, f"the fork chain did not end in EAGAIN{where(cmd, log)}"
    # Fewer than the 255 free process slots: the windows ran out first.
    assert int(m.group(1)) < 255, f"the chain reached {m.group(1)} processes{where(cmd, log)}"
