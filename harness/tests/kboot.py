"""Helpers for the kernel tests that need a configuration of their own or boot arguments
before init= (test_asid.py, test_workloads.py): build a defconfig plus options into
build/variants-extra/NAME, and boot a kernel with an exact -append line, logging the console.
Failure messages name the configuration, the command and the log."""
from __future__ import annotations

import fcntl
import json
import shlex
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

from harness.qemu import ICOUNT_ARGS

REPO = Path(__file__).resolve().parents[2]
EXTRA = REPO / "build" / "variants-extra"
TIMEOUT = 600


def build_config(name: str, scheme: int, options: Sequence[str], log_dir: Path) -> Path:
    """make O=build/variants-extra/NAME schemeN_defconfig + setconfig OPTIONS + build; returns
    the kernel. Serialised per configuration by an flock (pytest-xdist). Raises AssertionError
    with the failing step and its log."""
    out = EXTRA / name
    out.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"build-{name}.log"
    steps: List[List[str]] = [["make", f"O={out}", f"scheme{scheme}_defconfig"]]
    if options:
        steps.append(["make", f"O={out}", "setconfig", "SET=" + " ".join(options)])
    steps.append(["make", f"O={out}", "-j2"])
    with open(out / ".lock", "a") as lock, open(log, "w") as f:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        for step in steps:
            f.write(f"$ {shlex.join(step)}\n")
            f.flush()
            rc = subprocess.run(step, cwd=REPO, stdout=f, stderr=subprocess.STDOUT).returncode
            assert rc == 0, f"build of {name} failed\n  command: {shlex.join(step)}\n  log:     {log}"
    return out / "kernel.elf"


def boot(kernel: Path, append: str, log: Path, *, extra: Sequence[str] = (), icount: bool = False,
         mem: str = "128M") -> Tuple[int, str, List[str]]:
    """One QEMU run; returns (exit status, console, command). -1 after the timeout."""
    cmd = ["qemu-system-riscv64", "-machine", "virt", "-nographic", "-bios", "default", "-m", mem,
           "-kernel", str(kernel), *(ICOUNT_ARGS if icount else []), *extra, "-append", append]
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=TIMEOUT, cwd=REPO)
        out, rc = proc.stdout.decode(errors="replace"), proc.returncode
    except subprocess.TimeoutExpired as exc:
        out, rc = (exc.stdout or b"").decode(errors="replace") + "\n[timed out]\n", -1
    log.write_text(out)
    return rc, out, cmd


def where(cmd: List[str], log: Path) -> str:
    return f"\n  command: {shlex.join(cmd)}\n  log:     {log}"


def tlb_plugin(log_dir: Path) -> Path:
    """The TLB-model plugin, built once (harness.tlb.build_plugin, flock-serialised)."""
    from harness.tlb import build_plugin
    res = build_plugin(REPO, log_dir)
    assert res.ok, f"TLB-model plugin build failed: {res.error}\n  command: {res.command}\n  log:     {res.log}"
    return res.plugin


def boot_under_model(kernel: Path, append: str, log: Path, plugin: Path, *, asid: str,
                     preset: str = "u54") -> Tuple[int, str, List[str], Dict[str, Any]]:
    """An -icount boot under the TLB model with the model's own satp flush off (as the
    privileged spec has it: only sfence.vma flushes); returns the run and the parsed report."""
    report = log.with_suffix(".json")
    report.parent.mkdir(parents=True, exist_ok=True)
    report.unlink(missing_ok=True)
    extra = ["-plugin", f"{plugin},preset={preset},asid={asid},satp_flush=off,out={report}",
             "-d", "plugin", "-D", str(log.with_suffix(".plugin.log"))]
    rc, out, cmd = boot(kernel, append, log, extra=extra, icount=True)
    rep = json.loads(report.read_text()) if report.exists() else {}
    return rc, out, cmd, rep


def assert_no_mismatch(rep: Dict[str, Any], cmd: List[str], log: Path) -> None:
    assert rep.get("mismatches") == 0 and rep.get("status") == "ok", \
        f"{rep.get('mismatches')} translation mismatches (first: {rep.get('mismatch_samples', [None])[:1]}){where(cmd, log)}"
