"""results/metadata.json: what was run, where, with what."""
from __future__ import annotations

import datetime as _dt
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence


def _first_line(cmd: Sequence[str], cwd: Optional[Path] = None) -> Optional[str]:
    try:
        p = subprocess.run(list(cmd), cwd=cwd, capture_output=True, text=True, timeout=30,
                           check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if p.returncode != 0:
        return None
    lines = p.stdout.strip().splitlines()
    return lines[0] if lines else ""


def cpu_model() -> Optional[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def git_state(repo: Path) -> Dict[str, Any]:
    """Read-only git queries. `dirty`: the sources differ from the commit (results/, which the
    run itself writes, does not count)."""
    commit = _first_line(["git", "rev-parse", "HEAD"], repo)
    status = None
    try:
        p = subprocess.run(["git", "status", "--porcelain", "--", ".", ":(exclude)results"], cwd=repo, capture_output=True,
                           text=True, timeout=30, check=False)
        if p.returncode == 0:
            status = p.stdout
    except (OSError, subprocess.SubprocessError):
        pass
    return {"commit": commit, "dirty": None if status is None else bool(status.strip())}


def collect(repo: Path, *, qemu: str, compiler: str, argv: List[str], built: List[str],
            missing: Dict[str, str], elapsed: float, options: Dict[str, Any]) -> Dict[str, Any]:
    u = platform.uname()
    import matplotlib
    import pandas
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command_line": argv,
        "elapsed_seconds": round(elapsed, 1),
        "qemu": _first_line([qemu, "--version"]),
        "compiler": _first_line([compiler, "--version"]),
        "git": git_state(repo),
        "machine": {"uname": " ".join([u.system, u.node, u.release, u.version, u.machine]),
                    "cpu_model": cpu_model(), "cpus": _cpu_count()},
        "python": sys.version.split()[0], "pandas": pandas.__version__,
        "matplotlib": matplotlib.__version__,
        "variants_built": built,
        "variants_missing": missing,
        "options": options,
    }


def _cpu_count() -> Optional[int]:
    import os
    return os.cpu_count()
