"""Shared helpers for the harness tests. Unit tests use hand-made fixtures and fakes only; the
real kernel is booted by test_kernel.py alone."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Dict

import pandas as pd
import pytest

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
FAKES = HERE / "fakes"
FAKE_QEMU = FAKES / "fake_qemu.py"
REPO = HERE.parents[1]


@pytest.fixture
def fixture_df() -> pd.DataFrame:
    from harness.tidy import read_csv
    return read_csv(FIXTURES / "measurements.csv")


@pytest.fixture
def fixture_facts() -> Dict[str, Any]:
    return json.loads((FIXTURES / "facts.json").read_text())


@pytest.fixture
def fake_repo(tmp_path: Path) -> Path:
    """A directory laid out like the repository, with the fake Makefile (scheme 3 fails) and a
    fake tlbmodel/Makefile (a placeholder plugin that only the fake QEMU understands)."""
    repo = tmp_path / "repo"
    (repo / "configs").mkdir(parents=True)
    # the real configuration space: the harness resolves variants with Kconfiglib
    shutil.copy(REPO / "Kconfig", repo / "Kconfig")
    for f in list((REPO / "configs").glob("*_defconfig")) + [REPO / "configs" / "variants.toml"]:
        shutil.copy(f, repo / "configs" / f.name)
    shutil.copy(FAKES / "Makefile", repo / "Makefile")
    shutil.copy(FAKES / "gen_trap.sh", repo / "gen_trap.sh")
    (repo / "tlbmodel").mkdir()
    shutil.copy(FAKES / "tlbmodel.mk", repo / "tlbmodel" / "Makefile")
    scheme = repo / "kernel" / "scheme"
    for name in ("separate", "shared"):
        (scheme / name).mkdir(parents=True)
    (scheme / "separate" / "scheme.cpp").write_text(
        "// scheme 1\n#include <x>\n\nint a;\n/* two\nlines */\nint b; // trailing\n")
    (scheme / "shared" / "scheme.cpp").write_text("int a;\n")
    return repo


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    """test_tlb.py (hand-made TLB reports, no QEMU) is unit + tlb; its file carries no marks."""
    for item in items:
        if item.path.name == "test_tlb.py" and item.path.parent == HERE:
            item.add_marker(pytest.mark.unit)
            item.add_marker(pytest.mark.tlb)
