"""`harness verify`: comparison.md and robustness.csv re-derive from results/ alone; the
evidence is compressed with its hashes in metadata.json."""
from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from harness.cli import main
from harness.report.verify import verify, write_evidence

pytestmark = pytest.mark.unit

RESULTS = Path(__file__).resolve().parents[2] / "results"


def test_committed_results_verify() -> None:
    assert verify(RESULTS) == []


def test_a_changed_figure_fails(tmp_path: Path) -> None:
    d = tmp_path / "results"
    d.mkdir()
    for name in ("measurements.csv", "facts.json", "complexity.json", "comparison.md",
                 "robustness.csv", "metadata.json"):
        if (RESULTS / name).is_file():
            shutil.copy(RESULTS / name, d / name)
    if (RESULTS / "evidence").is_dir():
        shutil.copytree(RESULTS / "evidence", d / "evidence")
    md = (d / "comparison.md").read_text()
    (d / "comparison.md").write_text(md.replace("holds in", "holds in 1 +", 1))
    problems = verify(d)
    assert len(problems) == 1 and problems[0].startswith("comparison.md differs")
    assert main(["verify", str(d)]) == 1


def test_evidence_compressed_and_hashed(tmp_path: Path) -> None:
    d = tmp_path / "r"
    (d / "logs" / "s1-asid").mkdir(parents=True)
    (d / "logs" / "s1-asid" / "tlb-kernel_probe-c906.json").write_text('{"x": 1}')
    (d / "logs" / "s1-asid" / "kaslr_probe-wall-0.log").write_text("@slot 0x1\n")
    (d / "logs" / "s1-asid" / "other.log").write_text("not evidence")
    (d / "metadata.json").write_text("{}")
    out = write_evidence(d)
    assert sorted(p.name for p in out) == ["kaslr_probe-wall-0.log.gz",
                                           "tlb-kernel_probe-c906.json.gz"]
    ev = json.loads((d / "metadata.json").read_text())["evidence"]["sha256"]
    assert set(ev) == {"evidence/s1-asid/tlb-kernel_probe-c906.json.gz",
                       "evidence/s1-asid/kaslr_probe-wall-0.log.gz"}
    assert gzip.decompress((d / "evidence/s1-asid/tlb-kernel_probe-c906.json.gz")
                           .read_bytes()) == b'{"x": 1}'
    first = (d / "evidence/s1-asid/kaslr_probe-wall-0.log.gz").read_bytes()
    write_evidence(d)  # the same bytes again (no timestamp in the gzip header)
    assert (d / "evidence/s1-asid/kaslr_probe-wall-0.log.gz").read_bytes() == first


def test_tampered_evidence_fails(tmp_path: Path) -> None:
    d = tmp_path / "results"
    shutil.copytree(RESULTS, d, ignore=shutil.ignore_patterns("plots", "evidence", "logs"))
    (d / "logs" / "s3-asid").mkdir(parents=True)
    (d / "logs" / "s3-asid" / "tlb-kernel_probe-c906-seed1.json").write_text('{"y": 2}')
    write_evidence(d)
    assert verify(d) == []
    (d / "evidence/s3-asid/tlb-kernel_probe-c906-seed1.json.gz").write_bytes(b"tampered")
    assert verify(d) == ["evidence/s3-asid/tlb-kernel_probe-c906-seed1.json.gz: SHA-256 "
                         "differs from metadata.json"]
