"""Exceptions. Every error that concerns one QEMU run or one build names the variant, the exact
command line and the log file, so that a failure can be reproduced by hand."""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import Optional, Sequence, Union


def format_command(command: Union[str, Sequence[str]]) -> str:
    if isinstance(command, str):
        return command
    return shlex.join(str(c) for c in command)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during the runs: `stopped` is the number of QEMU process groups actually killed
    (here and on the engine's workers)."""

    def __init__(self, stopped: int) -> None:
        super().__init__(f"interrupted; stopped {stopped} QEMU run(s)")
        self.stopped = stopped


class HarnessError(Exception):
    """Base class of all harness errors."""


class UserError(HarnessError):
    """A wrong option, an unwritable directory, a missing input file: the command line must
    change. The CLI prints one line and exits 2."""


class RunError(HarnessError):
    """A build or a QEMU run failed, or its output could not be used."""

    def __init__(self, reason: str, *, variant: str, command: Union[str, Sequence[str]],
                 log: Optional[Path]) -> None:
        self.reason = reason
        self.variant = variant
        self.command = format_command(command)
        self.log = log
        super().__init__(
            f"{reason}\n  variant: {variant}\n  command: {self.command}\n  log:     {log}")


class BuildError(RunError):
    """`make` failed for a variant."""


def log_tail(path: Optional[Path], n: int = 15) -> str:
    """The last n non-blank lines of a log file, indented, for error messages."""
    try:
        lines = [ln for ln in Path(path).read_text(errors="replace").splitlines()
                 if ln.strip()] if path is not None else []
    except OSError:
        return "    | (log not readable)"
    return "\n".join("    | " + ln for ln in lines[-n:]) or "    | (empty log)"


class QemuError(RunError):
    """QEMU exited with a non-zero status or timed out."""


class BenchParseError(RunError):
    """The console output had no, malformed or failing benchmark lines."""


class TlbRunError(RunError):
    """A TLB-model run whose report is missing, malformed, has translation mismatches, or lacks
    the benchmark's region: a failed run, never numbers. Names the report too."""

    def __init__(self, reason: str, *, variant: str, command: Union[str, Sequence[str]],
                 log: Optional[Path], report: Optional[Path]) -> None:
        self.report = report
        super().__init__(reason, variant=variant, command=command, log=log)
        self.args = (f"{self.args[0]}\n  report:  {report}",)

    def __str__(self) -> str:
        return str(self.args[0])
