#!/usr/bin/python3
"""Summarises a TLB-model report (the JSON that `out=FILE` writes) and checks it.

    /usr/bin/python3 tlbmodel/report.py FILE [FILE...]

Prints one table per file (per mode and per region: instructions, I/D accesses and misses,
L2, walks, flushes, misses after a flush). Exits 1 when a report is missing, unreadable, of
another format, or has translation mismatches; 0 otherwise. `load(path)` gives the dict to
Python callers (the harness) and raises ReportError on the same conditions.
"""
from __future__ import annotations

import json
import sys

FORMAT = "sv39lab-tlbmodel/1"


class ReportError(Exception):
    pass


def load(path: str, allow_mismatch: bool = False) -> dict:
    try:
        with open(path) as f:
            rep = json.load(f)
    except (OSError, ValueError) as e:
        raise ReportError(f"{path}: {e}") from e
    if rep.get("format") != FORMAT:
        raise ReportError(f"{path}: format {rep.get('format')!r}, expected {FORMAT!r}")
    if not allow_mismatch and (rep.get("mismatches") or rep.get("status") != "ok"):
        raise ReportError(f"{path}: {rep.get('mismatches')} translation mismatches "
                          f"(first: {rep.get('mismatch_samples', [None])[:1]})")
    return rep


COLUMNS = [("insns", "insns"), ("l1i_misses", "I miss"), ("l1d_accesses", "D acc"),
           ("l1d_misses", "D miss"), ("l2_hits", "L2 hit"), ("l2_misses", "L2 miss"),
           ("walk_refs", "walk refs"), ("flushes", "flushes"),
           ("l1d_misses_after_flush", "D miss/flush"), ("l1i_misses_after_flush", "I miss/flush")]


def table(rep: dict) -> str:
    cfg = rep["config"]
    lines = [f"preset {cfg['preset']}, asid {cfg['asid']}, {cfg['replacement']}; "
             f"L1I {cfg['l1i']['description']}, L1D {cfg['l1d']['description']}, "
             f"L2 {cfg['l2']['description'] if cfg['l2'] else 'none'}; "
             f"status {rep['status']}, mismatches {rep['mismatches']}, "
             f"user hits on kernel entries {rep['user_hits_on_kernel_entries']}"]
    head = f"{'':14s}" + "".join(f"{name:>13s}" for _, name in COLUMNS)
    lines.append(head)

    def row(label: str, c: dict) -> None:
        lines.append(f"{label:14s}" + "".join(f"{c[k]:13d}" for k, _ in COLUMNS))

    for mode in ("U", "S"):
        row(f"mode {mode}", rep["modes"][mode])
    row("total", rep["totals"])
    for rid, r in sorted(rep["regions"].items(), key=lambda kv: int(kv[0])):
        for mode in ("U", "S"):
            if r[mode]["insns"]:
                row(f"r{rid} {r['name'][:6]} {mode}", r[mode])
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    status = 0
    for path in argv:
        try:
            rep = load(path, allow_mismatch=True)
        except ReportError as e:
            print(f"report: {e}", file=sys.stderr)
            status = 1
            continue
        print(f"== {path}")
        print(table(rep))
        if rep["mismatches"] or rep["status"] != "ok":
            print(f"report: {path}: FAILED: {rep['mismatches']} translation mismatches", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
