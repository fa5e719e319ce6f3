"""The complexity count (harness/report/complexity.py) on small source trees."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.report.complexity import count, scheme_loc

pytestmark = pytest.mark.unit

TRAPGEN = '''
class Scheme:
    """Shared."""
    def a(self):
        pass


class SeparateTable(Scheme):
    """Scheme 1."""
    def variants(self):
        # two copies of the trampoline come out of this one source
        return [("", False), ("_flush", True)]


class SharedTable(Scheme):
    def b(self):
        return 1


class RandomizedTable(SharedTable):
    def c(self):
        return 2
'''


def tree(root: Path, folders: bool) -> Path:
    s = root / "kernel" / "scheme"
    s.mkdir(parents=True)
    (s / "trapgen.py").write_text(TRAPGEN)
    for name, n in (("separate", 3), ("shared", 2), ("randomized", 4)):
        body = "\n".join(f"int {name}_{i} = {i};" for i in range(n)) + "\n// comment\n\n"
        if folders:
            (s / name).mkdir()
            (s / name / "a.cpp").write_text(body)
            (s / name / "b.hpp").write_text("int x;\n")
        else:
            (s / f"{name}.cpp").write_text(body)
    (root / "kernel" / "mm").mkdir()
    (root / "kernel" / "mm" / "kview.hpp").write_text(
        "template <typename T>\nclass KPtr {\n  T* p;\n};\n")
    (root / "kernel" / "proc").mkdir()
    (root / "kernel" / "proc" / "process.hpp").write_text(
        "struct T {\n  long satp;  // scheme 1 only\n  long a;  // all schemes\n};\n")
    return root


def test_files_then_generator_classes_fields_and_kptr(tmp_path: Path) -> None:
    c = count(tree(tmp_path, folders=False))["schemes"]
    assert c["1"]["files"] == {"kernel/scheme/separate.cpp": 3,
                               "kernel/scheme/trapgen.py:SeparateTable": 3,
                               "kernel/proc/process.hpp:fields": 1}
    assert c["2"]["total"] == 2 + 3
    assert c["3"]["files"]["kernel/mm/kview.hpp:KPtr"] == 4
    assert c["3"]["total"] == 4 + 3 + 3 + 4  # own file, SharedTable, RandomizedTable, KPtr


def test_scheme_folder_wins(tmp_path: Path) -> None:
    c = count(tree(tmp_path, folders=True))["schemes"]
    assert "kernel/scheme/shared/a.cpp" in c["2"]["files"]
    assert c["2"]["files"]["kernel/scheme/shared/b.hpp"] == 1
    facts = {"complexity": {"schemes": c}}
    assert scheme_loc(facts, "s2-asid") == c["2"]["total"] == scheme_loc(facts, "s2-noasid")
