"""Every Kconfig value inside its declared range builds and boots usertests (issue 8).

Configurations, each built into build/config-space/<name> and booted with `init=usertests`
(QEMU exit status 0 wanted):
  - scheme 3: every int symbol with a range at its minimum and at its maximum, one at a time,
    the rest at scheme3_defconfig (`scripts/randconfig.py --extremes`): the scheme whose
    layout depends most on the ranges (window size, slots, stacks, process table);
  - schemes 1 and 2: all int symbols at their minimum together, and all at their maximum
    (`--extremes --combined`), so every range end is built and booted in every scheme;
  - every scheme: 2 seeded random configurations (`scripts/randconfig.py --seed N --base
    configs/schemeN_defconfig`: everything random except the scheme).
That is 10 + 2 x 2 + 3 x 2 = 20 builds (about 4 s each with -j2, plus about 4 s of usertests).
The configuration is written to a staging file and copied to DIR/.config only when it differs,
so a second run is make's incremental no-op. An flock per directory keeps xdist workers apart.
Failure messages name the configuration, the command and the log file.
"""
from __future__ import annotations

import fcntl
import re
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from harness.errors import format_command
from harness.qemu import qemu_command, run_qemu

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "build" / "config-space"
LOGS = REPO / "build" / "test-logs" / "config-space"
PYTHON = "/usr/bin/python3"  # Debian's, which has kconfiglib
RANDCONFIG = REPO / "scripts" / "randconfig.py"
BOOT_TIMEOUT = 300.0
PER_SYMBOL_SCHEMES = (3,)
RANDOM_SEEDS = {1: (1101, 1102), 2: (2201, 2202), 3: (3301, 3302)}

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


@dataclass(frozen=True)
class Config:
    name: str          # directory name under build/config-space/
    scheme: int
    args: Tuple[str, ...]  # randconfig.py arguments after --kconfig Kconfig
    what: str          # human description

    @property
    def defconfig(self) -> str:
        return f"configs/scheme{self.scheme}_defconfig"


def _extremes(scheme: int, combined: bool) -> List[Tuple[int, str]]:
    cmd = [PYTHON, str(RANDCONFIG), "--kconfig", "Kconfig", "--extremes", "--list",
           "--base", f"configs/scheme{scheme}_defconfig"] + (["--combined"] if combined else [])
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True).stdout
    rows = []
    for ln in out.splitlines():
        idx, _, settings = ln.partition(" ")
        rows.append((int(idx), settings))
    return rows


def configurations() -> List[Config]:
    configs: List[Config] = []
    for scheme in (1, 2, 3):
        combined = scheme not in PER_SYMBOL_SCHEMES
        for idx, settings in _extremes(scheme, combined):
            if combined:
                label = "allmin" if idx == 0 else "allmax"
            else:
                label = settings.replace("=", "-")
            base = f"configs/scheme{scheme}_defconfig"
            configs.append(Config(
                name=f"s{scheme}-{label}", scheme=scheme,
                args=("--extremes", "--base", base, "--index", str(idx)) +
                (("--combined",) if combined else ()),
                what=f"scheme{scheme}_defconfig + {settings}"))
        for seed in RANDOM_SEEDS[scheme]:
            configs.append(Config(
                name=f"s{scheme}-rand{seed}", scheme=scheme,
                args=("--seed", str(seed), "--base", f"configs/scheme{scheme}_defconfig"),
                what=f"randconfig seed {seed} on scheme{scheme}_defconfig"))
    return configs


try:
    CONFIGS = configurations()
    CONFIG_ERROR = ""
except (OSError, subprocess.CalledProcessError) as exc:  # reported by the test below
    CONFIGS = []
    CONFIG_ERROR = f"{exc}: {getattr(exc, 'stderr', '')}"


def test_configuration_list() -> None:
    """The list itself: randconfig.py runs, every scheme has its extremes and 2 random ones."""
    assert not CONFIG_ERROR, f"scripts/randconfig.py --extremes failed: {CONFIG_ERROR}"
    per_scheme: Dict[int, int] = {}
    for c in CONFIGS:
        per_scheme[c.scheme] = per_scheme.get(c.scheme, 0) + 1
    assert set(per_scheme) == {1, 2, 3}, per_scheme
    assert per_scheme[3] >= 2 * 5 + 2, per_scheme  # 5 int symbols with a range, 2 ends each
    assert len({c.name for c in CONFIGS}) == len(CONFIGS)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def run_logged(cmd: List[str], log, cwd: Path = REPO) -> int:
    log.write(f"$ {format_command(cmd)}\n")
    log.flush()
    proc = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log,
                          stderr=subprocess.STDOUT, check=False)
    log.write(f"[exit status {proc.returncode}]\n")
    log.flush()
    return proc.returncode


def config_values(path: Path) -> Dict[str, str]:
    vals = {}
    for ln in path.read_text().splitlines():
        m = re.match(r"(CONFIG_\w+)=(.*)", ln)
        if m:
            vals[m.group(1)] = m.group(2)
    return vals


def build(c: Config) -> Tuple[Path, str]:
    """Configure and build c; returns (kernel.elf, the log path) or fails the test."""
    out = OUT / c.name
    staging = OUT / ".staging" / c.name / ".config"
    log_path = LOGS / f"build-{c.name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)

    def fail(why: str, cmd: List[str]) -> None:
        pytest.fail(f"{c.name}: {why}\n  configuration: {c.what}\n"
                    f"  command: {format_command(cmd)}\n  log:     {log_path}", pytrace=False)

    with locked(OUT / f"{c.name}.lock"), open(log_path, "w") as log:
        log.write(f"# config-space build of {c.name}: {c.what}\n")
        gen = [PYTHON, str(RANDCONFIG), "--kconfig", "Kconfig", *c.args, "--out", str(staging)]
        if run_logged(gen, log) != 0:
            fail("scripts/randconfig.py failed", gen)
        wanted = staging.read_text()
        dotconfig = out / ".config"
        if not dotconfig.is_file() or dotconfig.read_text() != wanted:
            out.mkdir(parents=True, exist_ok=True)
            dotconfig.write_text(wanted)
            log.write(f"# {dotconfig} written\n")
        else:
            log.write(f"# {dotconfig} unchanged\n")
        make = ["make", f"O={out}", "-j2"]
        if run_logged(make, log) != 0:
            fail("make failed", make)
        kernel = out / "kernel.elf"
        if not kernel.is_file():
            fail("make succeeded but kernel.elf is missing", make)
        # The build used the configuration asked for (nothing reset it).
        got, want = config_values(dotconfig), config_values(staging)
        changed = {k: (want.get(k), got.get(k)) for k in set(want) | set(got)
                   if want.get(k) != got.get(k)}
        if changed:
            fail(f"the build changed the configuration: {changed}", make)
    return kernel, str(log_path)


@pytest.mark.parametrize("config", CONFIGS, ids=[c.name for c in CONFIGS])
def test_config_boots_usertests(config: Config) -> None:
    kernel, build_log = build(config)
    cmd = qemu_command(kernel, ["usertests"], icount=False)
    log = LOGS / config.name / "usertests.log"
    res = run_qemu(cmd, variant=config.name, log=log, timeout=BOOT_TIMEOUT, cwd=REPO,
                   check=False)
    where = (f"\n  configuration: {config.name}: {config.what}\n"
             f"  command: {format_command(res.command)}\n  log:     {res.log}\n"
             f"  build log: {build_log}\n  last lines:\n{res.tail(12)}")
    assert not res.timed_out, "usertests timed out" + where
    assert res.exit_status == 0, f"usertests exited {res.exit_status}" + where
    summary = [ln for ln in res.console.replace("\r", "").splitlines()
               if re.match(r"usertests: \d+ passed, 0 failed", ln)]
    assert summary, "no 'usertests: N passed, 0 failed' line" + where


if __name__ == "__main__":  # list the configurations
    for c in CONFIGS:
        print(c.name, "|", c.what)
    sys.exit(0)
