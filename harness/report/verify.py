"""Evidence and verification (issue 15 item 10).

`write_evidence(directory)`: the TLB-model reports and probe logs behind the cited figures
(DIR/logs/**/tlb-*.json, DIR/logs/**/kaslr_probe*.log), gzip-compressed (fixed mtime, so the
bytes repeat) into DIR/evidence/, their SHA-256 recorded in DIR/metadata.json["evidence"].

`verify(directory)`: re-derives comparison.md and robustness.csv from DIR alone
(measurements.csv, facts.json, complexity.json) and checks the evidence hashes; returns the
list of differences (empty: verified).
"""
from __future__ import annotations

import difflib
import gzip
import hashlib
import json
from pathlib import Path
from typing import Dict, List

EVIDENCE_PATTERNS = ("tlb-*.json", "kaslr_probe*.log")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_evidence(directory: Path) -> List[Path]:
    logs = directory / "logs"
    if not logs.is_dir():
        return []
    out: List[Path] = []
    hashes: Dict[str, str] = {}
    for pattern in EVIDENCE_PATTERNS:
        for src in sorted(logs.rglob(pattern)):
            rel = src.relative_to(logs)
            dst = directory / "evidence" / (str(rel) + ".gz")
            dst.parent.mkdir(parents=True, exist_ok=True)
            with open(dst, "wb") as raw:
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                    gz.write(src.read_bytes())
            hashes[str(dst.relative_to(directory))] = _sha256(dst)
            out.append(dst)
    meta = directory / "metadata.json"
    if hashes and meta.is_file():
        m = json.loads(meta.read_text())
        m["evidence"] = {"sha256": hashes, "compressed": "gzip",
                         "what": "TLB-model reports and kaslr_probe logs of the run"}
        meta.write_text(json.dumps(m, indent=2) + "\n")  # as outputs.write_json
    return out


def verify(directory: Path) -> List[str]:
    from ..outputs import report_facts
    from ..tidy import read_csv
    from .markdown import render_report
    problems: List[str] = []
    for name in ("measurements.csv", "facts.json", "comparison.md"):
        if not (directory / name).is_file():
            return [f"{directory / name}: missing"]
    df = read_csv(directory / "measurements.csv")
    facts = report_facts(json.loads((directory / "facts.json").read_text()), directory)
    md, rob = render_report(df, facts)
    for name, text in (("comparison.md", md), ("robustness.csv", rob)):
        path = directory / name
        have = path.read_text() if path.is_file() else ""
        if have != text:
            diff = list(difflib.unified_diff(have.splitlines(), text.splitlines(),
                                             f"{name} (committed)", f"{name} (re-derived)",
                                             lineterm="", n=0))
            problems.append(f"{name} differs from its re-derivation:\n"
                            + "\n".join(diff[:40]))
    meta = directory / "metadata.json"
    ev = (json.loads(meta.read_text()).get("evidence") or {}) if meta.is_file() else {}
    for rel, digest in (ev.get("sha256") or {}).items():
        p = directory / rel
        if not p.is_file():
            problems.append(f"{rel}: listed in metadata.json, missing")
        elif _sha256(p) != digest:
            problems.append(f"{rel}: SHA-256 differs from metadata.json")
    return problems
