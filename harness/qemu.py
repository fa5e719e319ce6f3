"""Booting a kernel image in QEMU with a command line, under a timeout, keeping the console log."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence

from .errors import QemuError

DEFAULT_QEMU = os.environ.get("SV39LAB_QEMU", "qemu-system-riscv64")
DEFAULT_TIMEOUT = 120.0
ICOUNT_ARGS = ["-icount", "shift=0,sleep=off"]
MAX_HARTS = 8  # Kconfig NR_HARTS' range


def qemu_command(kernel: Path, init: Sequence[str], *, icount: bool,
                 qemu: str = DEFAULT_QEMU, mem: str = "128M",
                 extra: Sequence[str] = (), bootargs: Sequence[str] = (),
                 harts: int = 1) -> List[str]:
    """The exact command line: init[0] is the program, the rest its arguments; `extra`
    (e.g. the TLB model's -plugin ... -d plugin -D LOG) goes before -append; `bootargs`
    (e.g. kaslr_seed=3) go before init= on the kernel command line; `harts` > 1 adds -smp N
    (one hart: the command line every earlier measurement used)."""
    if not init:
        raise ValueError("init needs a program name")
    if not 1 <= harts <= MAX_HARTS:
        raise ValueError(f"harts must be 1..{MAX_HARTS}, not {harts}")
    cmd = [qemu, "-machine", "virt", "-nographic", "-bios", "default", "-m", mem]
    if harts > 1:
        cmd += ["-smp", str(harts)]
    cmd += ["-kernel", str(kernel)]
    if icount:
        cmd += ICOUNT_ARGS
    cmd += [str(x) for x in extra]
    cmd += ["-append", " ".join([*bootargs, "init=" + " ".join(init)])]
    return cmd


@dataclass
class RunResult:
    variant: str
    command: List[str]
    log: Path
    exit_status: int          # QEMU's exit status = init's exit status; -1 after a timeout
    timed_out: bool
    console: str
    seconds: float

    def tail(self, n: int = 8) -> str:
        """The last n console lines, preceded by any earlier `test NAME: FAIL` line (a suite
        that fails early would otherwise show only its summary)."""
        lines = [ln for ln in self.console.replace("\r", "").splitlines() if ln.strip()]
        earlier = [ln for ln in lines[:-n] if ": FAIL" in ln or "panic" in ln]
        shown = earlier[-8:] + (["..."] if earlier else []) + lines[-n:]
        return "\n".join("    | " + ln for ln in shown) or "    | (no console output)"

    def check(self) -> "RunResult":
        if self.timed_out:
            raise QemuError(f"QEMU timed out (process group killed); last console lines:\n"
                            f"{self.tail()}", variant=self.variant, command=self.command,
                            log=self.log)
        if self.exit_status != 0:
            raise QemuError(f"QEMU exited with status {self.exit_status} (init's exit status); "
                            f"last console lines:\n{self.tail()}", variant=self.variant,
                            command=self.command, log=self.log)
        return self


_ACTIVE: "set[subprocess.Popen]" = set()
_ACTIVE_LOCK = threading.Lock()
_STOPPING = threading.Event()


def kill_running() -> int:
    """Kill the process group of every QEMU this process started that is still running, and
    refuse to start new ones (on Ctrl-C: each QEMU leads its own session, so the terminal's
    SIGINT does not reach it). allow_runs() lifts the refusal. Returns how many process
    groups were killed (not those that had already ended)."""
    with _ACTIVE_LOCK:
        _STOPPING.set()
        procs = list(_ACTIVE)
    return sum(_kill_group(p) for p in procs)


def stopping() -> bool:
    return _STOPPING.is_set()


def allow_runs() -> None:
    _STOPPING.clear()


# The QEMUs already killed, so that a second kill_running() (an interrupt kills twice) does not
# count a killed process that has not been reaped yet.
_KILLED: "weakref.WeakSet[subprocess.Popen]" = weakref.WeakSet()


def _kill_group(proc: subprocess.Popen) -> bool:
    if proc.poll() is not None or proc in _KILLED:
        return False  # it ended by itself, or was killed already
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the child leads its own session and group
    except ProcessLookupError:
        return False
    _KILLED.add(proc)
    return True


def run_qemu(command: Sequence[str], *, variant: str, log: Path,
             timeout: float = DEFAULT_TIMEOUT, cwd: Path | None = None,
             check: bool = True) -> RunResult:
    """Run one QEMU boot, console (stdout and stderr) to `log`. With check=True a non-zero exit
    or a timeout raises QemuError naming the variant, the command and the log."""
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(c) for c in command]
    if _STOPPING.is_set():
        raise QemuError("not started: the harness is stopping (interrupted)", variant=variant,
                        command=cmd, log=log)
    start = time.monotonic()
    timed_out = False
    with open(log, "wb") as out:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True)
        except OSError as exc:
            raise QemuError(f"cannot start QEMU: {exc}", variant=variant, command=cmd,
                            log=log) from exc
        with _ACTIVE_LOCK:
            if _STOPPING.is_set():
                _kill_group(proc)
            _ACTIVE.add(proc)
        try:
            status = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            proc.wait()
            status = -1
        except BaseException:
            _kill_group(proc)
            proc.wait()
            raise
        finally:
            with _ACTIVE_LOCK:
                _ACTIVE.discard(proc)
    console = log.read_bytes().decode("utf-8", errors="replace")
    result = RunResult(variant=variant, command=cmd, log=log, exit_status=status,
                       timed_out=timed_out, console=console, seconds=time.monotonic() - start)
    if timed_out:
        with open(log, "a") as out:
            out.write(f"\n[harness: timed out after {timeout:g} s; process group killed]\n")
    return result.check() if check else result

