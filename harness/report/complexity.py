"""Implementation complexity: each scheme's scheme-specific code (issue 15 item 9).

Counted from the source tree (non-blank, non-comment lines, harness.facts.code_lines):
- the scheme's own folder, kernel/scheme/<separate|shared|randomized>/: its C++ (scheme.cpp,
  slide.hpp, state.hpp; scheme 3's kptr.hpp), its trap-path generator trapgen.py (the generator
  source, so that the trampoline it emits twice for scheme 1, with and without a flush, is
  counted once; scheme 3's generator extends scheme 2's, so scheme 3 is charged both), its
  scheme.mk and scheme 3's relocation check check_relocs.py. The shared generator
  (trapgen_common.py) serves all three and is not charged to any;
- in a tree from before the scheme folders: kernel/scheme/<name>.cpp and .hpp, the scheme's
  class in kernel/scheme/trapgen.py and scheme 3's KPtr class in kernel/mm/kview.hpp;
- its fields in shared structures: code lines outside kernel/scheme/ whose comment marks them
  as one scheme's (`// scheme 1 only`, `// scheme 1: ...`), listed as `<file>:fields`.

`count(repo)` runs at report time from the repository and is stored beside the results
(results/complexity.json), so that the report re-derives from results/ alone.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from ..facts import code_lines

NAMES = {1: "separate", 2: "shared", 3: "randomized"}
GEN_CLASSES = {1: ["SeparateTable"], 2: ["SharedTable"], 3: ["SharedTable", "RandomizedTable"]}
TRAPGEN = Path("kernel/scheme/trapgen.py")
KVIEW = Path("kernel/mm/kview.hpp")


SOURCE_SUFFIXES = (".cpp", ".hpp", ".h", ".S", ".py", ".mk")
# scheme 3's generator subclasses scheme 2's (kernel/scheme/randomized/trapgen.py)
EXTENDS = {3: [Path("kernel/scheme/shared/trapgen.py")]}


def _folder(repo: Path, scheme: int) -> Path:
    return repo / "kernel" / "scheme" / NAMES[scheme]


def _lines(p: Path) -> int:
    """Code lines of one source file: `#` comments in Python and make, C/C++ comments else."""
    text = p.read_text()
    if p.suffix in (".py", ".mk"):
        doc: set = set()  # Python docstrings: comments, not code
        if p.suffix == ".py":
            for node in ast.walk(ast.parse(text)):
                if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                        and isinstance(node.value.value, str)):
                    doc.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        return sum(1 for i, ln in enumerate(text.splitlines(), 1)
                   if ln.strip() and not ln.strip().startswith("#") and i not in doc)
    return len(code_lines(text, asm=p.suffix == ".S"))


def _scheme_files(repo: Path, scheme: int) -> List[Path]:
    folder = _folder(repo, scheme)
    if folder.is_dir():
        return sorted(p for p in folder.rglob("*")
                      if p.suffix in SOURCE_SUFFIXES and "__pycache__" not in p.parts)
    return [p for p in (repo / "kernel" / "scheme" / f"{NAMES[scheme]}{ext}"
                        for ext in (".cpp", ".hpp")) if p.is_file()]


def _class_lines(source: str, name: str) -> int:
    tree = ast.parse(source)
    lines = source.splitlines()
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            doc = set()  # docstring lines: comments, not code
            for sub in ast.walk(node):
                if (isinstance(sub, ast.Expr) and isinstance(sub.value, ast.Constant)
                        and isinstance(sub.value.value, str)):
                    doc.update(range(sub.lineno, (sub.end_lineno or sub.lineno) + 1))
            return sum(1 for i in range(node.lineno, (node.end_lineno or node.lineno) + 1)
                       if i not in doc and lines[i - 1].strip()
                       and not lines[i - 1].strip().startswith("#"))
    return 0


def _kptr_lines(text: str) -> int:
    """The KPtr class (scheme 3's relocatable pointer) in kview.hpp."""
    m = re.search(r"(template\s*<[^>]*>\s*)?class KPtr\b.*?\n};", text, flags=re.S)
    return len(code_lines(m.group(0))) if m else 0


FIELD_MARK = re.compile(r"\S.*//\s*scheme ([123])(?: only\b|:)", re.I)


def _shared_fields(repo: Path) -> Dict[int, Dict[str, int]]:
    """{scheme: {file: lines}} of code lines in shared kernel files marked as one scheme's."""
    out: Dict[int, Dict[str, int]] = {k: {} for k in NAMES}
    kernel = repo / "kernel"
    if not kernel.is_dir():
        return out
    for p in sorted(kernel.rglob("*")):
        if p.suffix not in (".hpp", ".cpp", ".h") or "scheme" in p.relative_to(kernel).parts[:1]:
            continue
        for line in p.read_text().splitlines():
            m = FIELD_MARK.match(line.strip())
            if m and not line.strip().startswith("//"):
                rel = f"{p.relative_to(repo)}:fields"
                out[int(m.group(1))][rel] = out[int(m.group(1))].get(rel, 0) + 1
    return out


def count(repo: Path) -> Dict[str, Any]:
    out: Dict[str, Any] = {"method": "non-blank, non-comment lines of each scheme's folder "
                                     "(C++, its trap-path generator: one trampoline copy, "
                                     "scheme.mk, relocation check) and of its fields in shared "
                                     "structures",
                           "schemes": {}}
    gen = (repo / TRAPGEN).read_text() if (repo / TRAPGEN).is_file() else ""
    kview = (repo / KVIEW).read_text() if (repo / KVIEW).is_file() else ""
    fields = _shared_fields(repo)
    for k in NAMES:
        files: Dict[str, int] = {}
        for p in _scheme_files(repo, k):
            files[str(p.relative_to(repo))] = _lines(p)
        if _folder(repo, k).is_dir():
            for extra in EXTENDS.get(k, []):
                if (repo / extra).is_file():
                    files[str(extra)] = _lines(repo / extra)
        else:  # the layout before the scheme folders
            for cls in GEN_CLASSES[k]:
                if gen:
                    files[f"{TRAPGEN}:{cls}"] = _class_lines(gen, cls)
            if k == 3 and kview:
                files[f"{KVIEW}:KPtr"] = _kptr_lines(kview)
        files.update(fields[k])
        out["schemes"][str(k)] = {"files": files, "total": sum(files.values())}
    return out


def scheme_loc(facts: Mapping[str, Any], variant: str) -> Optional[float]:
    """The scheme's count (from facts["complexity"], written by count()), else the older
    per-variant facts (scheme file + generated trap.S lines)."""
    c = (facts.get("complexity") or {}).get("schemes", {})
    k = variant[1:].split("-")[0]
    if k in c:
        return float(c[k]["total"])
    loc = (facts.get("variants", {}).get(variant) or {}).get("loc") or {}
    if loc.get("scheme_src") is None:
        return None
    return float(loc["scheme_src"] + (loc.get("trap_s_specific") or 0))


def file_list(facts: Mapping[str, Any], scheme: int) -> str:
    c = (facts.get("complexity") or {}).get("schemes", {}).get(str(scheme))
    if not c:
        return ""
    return ", ".join(f"`{f}` {n}" for f, n in c["files"].items())
