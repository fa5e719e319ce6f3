"""Builds the TLB-model plugin and its test guest, and runs the guest under QEMU with the plugin.

The guest (tests/guest/) reads a parameter block that QEMU's generic loader device writes at
PARAM_PA, one 64-bit word per `-device loader`. Word layout (see guest.c):
  0 magic, 1 pattern, 2 K, 3 passes, 4 stride (pages), 5 flags, 6 N, 7 split, 8.. sequence bytes
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

TLBMODEL = Path(__file__).resolve().parents[1]
REPO = TLBMODEL.parent
BUILD = Path(os.environ.get("TLBMODEL_BUILD", REPO / "build" / "tlbmodel-test"))
PLUGIN = BUILD / "libtlbmodel.so"
GUEST = BUILD / "guest" / "guest.elf"
UNIT = BUILD / "test_model"
QEMU = os.environ.get("QEMU", "qemu-system-riscv64")

PARAM_PA = 0x80F00000
MAGIC = 0x4D424C54
PAT = {"pages": 1, "super": 2, "asid": 3, "sfence": 4, "probe": 5, "loop": 6, "seq": 7, "ifetch": 8,
       "alias": 9, "cross": 10, "gnl": 11, "fault": 12, "harts": 13}
F_FLUSH_SATP, F_KGLOBAL, F_PROBE_FLUSH = 1, 2, 4


def build() -> None:
    """make -C tlbmodel: the plugin, the unit test and the guest, into BUILD. Serialised by an
    flock, so that pytest-xdist workers do not build the same files at once."""
    import fcntl

    BUILD.parent.mkdir(parents=True, exist_ok=True)
    with open(BUILD.parent / (BUILD.name + ".lock"), "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        for target in ("all", "unit", "guest"):
            subprocess.run(["make", "-s", "-C", str(TLBMODEL), f"O={BUILD}", target], check=True)


def params(pattern: str, k: int = 1, passes: int = 1, stride: int = 1, flags: int = 0,
           seq: list[int] | None = None, split: int = 0) -> list[int]:
    words = [MAGIC, PAT[pattern], k, passes, stride, flags, 0, split]
    if seq is not None:
        assert 2 <= len(seq) <= 256 and all(0 <= s < 256 for s in seq)
        words[6] = len(seq)
        packed = seq + [0] * (-len(seq) % 8)
        for i in range(0, len(packed), 8):
            words.append(sum(b << (8 * j) for j, b in enumerate(packed[i:i + 8])))
    return words


@dataclass
class Run:
    returncode: int
    report: dict
    console: str
    log: str
    seconds: float
    cpu_seconds: float = 0.0

    def region(self, rid: int, mode: str = "total") -> dict:
        return self.report["regions"][str(rid)][mode]


def qemu_cmd(words: list[int], plugin_args: str | None, log: Path | None, smp: int = 1,
             icount: bool = False) -> list[str]:
    cmd = [QEMU, "-machine", "virt", "-nographic", "-bios", "default", "-m", "128M",
           "-kernel", str(GUEST)] + (["-smp", str(smp)] if smp > 1 else [])
    if icount:  # the vCPUs in turn on one host thread (QEMU's round-robin TCG)
        cmd += ["-icount", "shift=0,sleep=off"]
    for i, w in enumerate(words):
        cmd += ["-device", f"loader,addr={PARAM_PA + 8 * i:#x},data={w:#x},data-len=8"]
    if plugin_args is not None:
        cmd += ["-plugin", f"{PLUGIN},{plugin_args}" if plugin_args else str(PLUGIN)]
        if log is not None:
            cmd += ["-d", "plugin", "-D", str(log)]
    return cmd


def run_guest(tmp: Path, words: list[int], plugin_args: str = "preset=u54",
              check_rc: bool = True, timeout: float = 60, smp: int = 1, icount: bool = False) -> Run:
    out = tmp / "tlb.json"
    log = tmp / "plugin.log"
    for f in (out, log):
        if f.exists():
            f.unlink()
    args = f"{plugin_args},out={out}" if plugin_args else f"out={out}"
    t0, c0 = time.monotonic(), _child_cpu()
    p = subprocess.run(qemu_cmd(words, args, log, smp, icount), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout)
    dt, cpu = time.monotonic() - t0, _child_cpu() - c0
    logtext = log.read_text() if log.exists() else ""
    if check_rc:
        assert p.returncode == 0, f"QEMU exit {p.returncode}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}\n{logtext}"
    report = json.loads(out.read_text()) if out.exists() else {}
    return Run(p.returncode, report, p.stdout + p.stderr, logtext, dt, cpu)


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_plain(words: list[int], timeout: float = 300, cpu: bool = False) -> float:
    """Wall time (or, with cpu=True, CPU time) of the same guest without the plugin."""
    t0, c0 = time.monotonic(), _child_cpu()
    p = subprocess.run(qemu_cmd(words, None, None), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stdout + p.stderr
    return _child_cpu() - c0 if cpu else time.monotonic() - t0
