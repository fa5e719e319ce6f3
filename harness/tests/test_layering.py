"""The kernel's layers (docs/design.md, "Layers"): no #include may point from a lower layer to a
higher one. Reads every #include under kernel/ and fails with each offending file and include.

Includes that resolve to nothing under kernel/ (generated headers, include/uapi, <stdarg.h>) are
below every layer. `#include SCHEME_SLIDE_HEADER` / `SCHEME_STATE_HEADER` stand for every
scheme's slide.hpp / state.hpp (the Makefile picks one).
"""
from __future__ import annotations

import re
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

REPO = Path(__file__).resolve().parents[2]
KERNEL = REPO / "kernel"

# Lowest first; a file belongs to the first layer with a matching pattern (paths under kernel/).
LAYERS: List[Tuple[str, List[str]]] = [
    ("lib", ["lib/*", "arch/*"]),
    ("layout", ["mm/layout.hpp", "mm/addr.hpp"]),
    ("dev", ["dev/*"]),
    ("scheme slide", ["scheme/slide.hpp", "scheme/*/slide.hpp", "scheme/randomized/kptr.hpp"]),
    ("scheme state", ["scheme/state.hpp", "scheme/*/state.hpp"]),
    ("scheme operations (declarations)", ["scheme/scheme.hpp"]),
    ("mm", ["mm/*"]),
    ("proc", ["proc/*", "ipc/*"]),
    ("scheme implementations", ["scheme/common.hpp", "scheme/*/scheme.cpp"]),
    ("trap", ["trap/*"]),
    ("boot", ["boot/*", "main.cpp", "kernel.ld.in"]),
]
MACRO_HEADERS = {"SCHEME_SLIDE_HEADER": "scheme/*/slide.hpp", "SCHEME_STATE_HEADER": "scheme/*/state.hpp"}
INCLUDE = re.compile(r'^\s*#\s*include\s+(?:"([^"]+)"|([A-Z_][A-Z0-9_]*))', re.M)
SOURCE_SUFFIXES = {".cpp", ".hpp", ".h", ".S", ".in"}


def layer_of(rel: str) -> int | None:
    for i, (_, patterns) in enumerate(LAYERS):
        if any(fnmatchcase(rel, p) for p in patterns):
            return i
    return None


def kernel_sources(root: Path) -> List[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and p.suffix in SOURCE_SUFFIXES)


def upward_includes(root: Path) -> List[str]:
    """Every include from a file to a file of a higher layer, as 'file: #include X (layer a -> b)'."""
    files = kernel_sources(root)
    problems: List[str] = []
    for rel in files:
        src_layer = layer_of(rel)
        if src_layer is None:
            problems.append(f"{rel}: belongs to no layer (add it to LAYERS in {Path(__file__).name})")
            continue
        for m in INCLUDE.finditer((root / rel).read_text(errors="replace")):
            quoted, macro = m.group(1), m.group(2)
            if macro:
                if macro not in MACRO_HEADERS:
                    problems.append(f"{rel}: #include {macro}: unknown include macro")
                    continue
                targets = [f for f in files if fnmatchcase(f, MACRO_HEADERS[macro])]
            else:
                targets = [quoted] if quoted in files else []
            for target in targets:
                t = layer_of(target)
                if t is not None and t > src_layer:
                    problems.append(f"{rel}: #include \"{target}\" points up "
                                    f"(layer {LAYERS[src_layer][0]} -> {LAYERS[t][0]})")
    return problems


@pytest.mark.unit
def test_no_include_points_up() -> None:
    problems = upward_includes(KERNEL)
    assert not problems, "include arrows from a lower layer to a higher one:\n  " + "\n  ".join(problems)


@pytest.mark.unit
def test_the_check_sees_an_upward_include(tmp_path: Path) -> None:
    """The check itself: an mm/ file that includes proc/, and a lib/ file that includes the
    per-scheme header through its macro, are both reported."""
    for rel, text in {"mm/tlb.cpp": '#include "proc/process.hpp"\n',
                      "proc/process.hpp": '#include "lib/types.hpp"\n',
                      "lib/types.hpp": "\n",
                      "lib/panic.cpp": "#include SCHEME_STATE_HEADER\n",
                      "scheme/shared/state.hpp": "\n"}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    problems = upward_includes(tmp_path)
    assert any(p.startswith("mm/tlb.cpp:") and "proc/process.hpp" in p for p in problems), problems
    assert any(p.startswith("lib/panic.cpp:") and "scheme/shared/state.hpp" in p for p in problems), problems
    assert len(problems) == 2, problems


@pytest.mark.unit
def test_every_scheme_folder_has_the_same_parts() -> None:
    """One folder per scheme with the same file names, so `diff -r` of two folders is the whole
    difference between two schemes."""
    folders = sorted(p for p in (KERNEL / "scheme").iterdir() if p.is_dir())
    assert [p.name for p in folders] == ["randomized", "separate", "shared"]
    parts: Dict[str, set[str]] = {p.name: {f.name for f in p.iterdir()} for p in folders}
    common = {"scheme.cpp", "slide.hpp", "state.hpp", "trapgen.py", "scheme.mk"}
    for name, files in parts.items():
        assert common <= files, f"kernel/scheme/{name} lacks {sorted(common - files)}"
    assert parts["separate"] == parts["shared"], "schemes 1 and 2 differ in their file names"
