"""The Makefile's kbuild habits: help, unknown goals without side effects, O= guards, clean vs
mrproper, randconfig/fuzz command lines, a no-op make that runs nothing, and per-option
dependencies (scripts/fixdep.py): changing TIMER_HZ recompiles exactly the kernel objects whose
source or headers use config::timer_hz."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import List, Set

import pytest

REPO = Path(__file__).resolve().parents[2]


def make(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run(["make", "--no-print-directory", *args], cwd=REPO, capture_output=True,
                       text=True, stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        pytest.fail(f"make {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}",
                    pytrace=False)
    return p


@pytest.mark.unit
def test_help_lists_the_targets() -> None:
    out = make("help").stdout
    for target in ("menuconfig", "scheme2_defconfig", "setconfig", "randconfig", "fuzz",
                   "clean", "mrproper", "test", "reproduce", "git checkout results/"):
        assert target in out, target


@pytest.mark.unit
def test_unknown_goal_fails_without_side_effects(tmp_path: Path) -> None:
    o = tmp_path / "o"
    p = make(f"O={o}", "nosuchtarget", check=False)
    assert p.returncode != 0 and "No rule to make target 'nosuchtarget'" in p.stderr
    assert not o.exists()


@pytest.mark.unit
@pytest.mark.parametrize("o", [".", "/", "..", str(REPO), str(REPO) + "/"])
def test_o_refuses_the_source_tree_and_root(o: str) -> None:
    before = sorted(p.name for p in REPO.iterdir())
    for goal in ("mrproper", "clean", "all"):
        p = make(f"O={o}", goal, check=False)
        assert p.returncode != 0 and "choose a build directory" in p.stderr, (o, goal)
    assert sorted(p.name for p in REPO.iterdir()) == before


@pytest.mark.unit
def test_clean_keeps_config_mrproper_removes_everything(tmp_path: Path) -> None:
    o = tmp_path / "o"
    make(f"O={o}", "scheme1_defconfig")
    for junk in ("kernel/lib/x.cpp.o", "generated/config.hpp", "user/sh.elf"):
        (o / junk).parent.mkdir(parents=True, exist_ok=True)
        (o / junk).write_text("x")
    (o / "kernel.elf").write_text("x")
    make(f"O={o}", "clean")
    assert sorted(p.name for p in o.iterdir()) == [".config"]
    assert "CONFIG_SCHEME_SEPARATE=y" in (o / ".config").read_text()
    make(f"O={o}", "mrproper")
    assert not o.exists() or list(o.iterdir()) == []


@pytest.mark.unit
def test_randconfig_and_fuzz_command_lines(tmp_path: Path) -> None:
    o = tmp_path / "o"
    out = make("-n", f"O={o}", "randconfig", "SEED=42").stdout
    assert f"scripts/randconfig.py --kconfig Kconfig --seed 42 --out {o}/.config" in out
    out = make("-n", f"O={o}", "randconfig").stdout
    seed = re.search(r"--seed (\S+)", out)
    assert seed and f"randconfig: SEED={seed.group(1)}" in out  # derived from the date, printed
    make(f"O={o}", "scheme2_defconfig")
    out = make("-n", f"O={o}", "fuzz").stdout
    assert '-append "init=fuzz 1 1000000"' in out and f"-kernel {o}/kernel.elf" in out
    out = make("-n", f"O={o}", "fuzz", "SEED=7", "FUZZ_CALLS=99").stdout
    assert '-append "init=fuzz 7 99"' in out


QUIET = re.compile(r"^  (CXX|AS|GEN|LD|CPP|RELOCS)\s+(\S+)$", re.M)


def steps(out: str) -> List[tuple]:
    return QUIET.findall(out)


def deps_of(depfile: Path) -> List[str]:
    text = depfile.read_text().replace("\\\n", " ")
    return text.split("\n", 1)[0].split(":", 1)[1].split()


@pytest.mark.kernel
@pytest.mark.slow
def test_noop_make_and_per_option_rebuild(tmp_path: Path) -> None:
    o = tmp_path / "o"
    make(f"O={o}", "scheme2_defconfig")
    first = make(f"O={o}", "-j2").stdout
    assert ("CXX", "kernel/lib/printf.cpp") in steps(first)  # quiet lines name paths
    again = make(f"O={o}", "-j2")
    assert steps(again.stdout) == [] and "Nothing to be done" in again.stdout, again.stdout
    # which kernel objects use config::timer_hz (in their source or any header they include)
    uses: Set[str] = set()
    for d in (o / "kernel").rglob("*.d"):
        files = [f for f in deps_of(d) if "/generated/config/" not in f]
        if any("config::timer_hz" in Path(f if Path(f).is_absolute() else REPO / f).read_text()
               for f in files):
            uses.add(files[0])
    assert uses, "no kernel source uses config::timer_hz?"
    hz = re.search(r"CONFIG_TIMER_HZ=(\d+)", (o / ".config").read_text())
    assert hz
    make(f"O={o}", "setconfig", f"SET=TIMER_HZ={250 if hz.group(1) != '250' else 200}")
    out = make(f"O={o}", "-j2").stdout
    rebuilt = {path for kind, path in steps(out) if kind == "CXX" and path.startswith("kernel/")}
    assert rebuilt == uses, out
    assert ("LD", f"{o}/kernel.elf") in steps(out)
    again = make(f"O={o}", "-j2")
    assert steps(again.stdout) == [], again.stdout  # and trapgen does not run again
