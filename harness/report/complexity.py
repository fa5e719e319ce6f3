"""Implementation complexity: each scheme's scheme-specific code (issue 15 item 9).

Counted from the source tree (non-blank, non-comment lines, harness.facts.code_lines):
- the scheme's own files: kernel/scheme/<separate|shared|randomized>/ when that folder exists,
  else kernel/scheme/<name>.cpp and .hpp;
- its class in the trap generator (kernel/scheme/trapgen.py; scheme 3's class extends scheme
  2's, so scheme 3 is charged both): the generator source, so that the trampoline the
  generator emits twice for scheme 1 (with and without a flush) is counted once;
- scheme 3's KPtr and relocation support (the KPtr class in kernel/mm/kview.hpp);
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


def _scheme_files(repo: Path, scheme: int) -> List[Path]:
    folder = repo / "kernel" / "scheme" / NAMES[scheme]
    if folder.is_dir():
        return sorted(p for p in folder.rglob("*") if p.suffix in (".cpp", ".hpp", ".h", ".S"))
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
    out: Dict[str, Any] = {"method": "non-blank, non-comment lines; trap generator classes "
                                     "counted from trapgen.py (one trampoline copy)",
                           "schemes": {}}
    gen = (repo / TRAPGEN).read_text() if (repo / TRAPGEN).is_file() else ""
    kview = (repo / KVIEW).read_text() if (repo / KVIEW).is_file() else ""
    fields = _shared_fields(repo)
    for k in NAMES:
        files: Dict[str, int] = {}
        for p in _scheme_files(repo, k):
            files[str(p.relative_to(repo))] = len(code_lines(p.read_text()))
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
