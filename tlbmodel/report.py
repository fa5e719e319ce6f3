#!/usr/bin/python3
"""Summarises a TLB-model report (the JSON that `out=FILE` writes) and checks it.

    /usr/bin/python3 tlbmodel/report.py FILE [FILE...]

Prints one table per file (per mode and per region: instructions, I/D accesses and misses,
L2, walks, flushes, misses after a flush). Exits 1 when a report is missing, unreadable, of
another format, or has translation mismatches; 0 otherwise. `load(path)` gives the dict to
Python callers (the harness) and raises ReportError on the same conditions.

Sweeps from one run (docs/tlbmodel.md "The report"):
  lru_misses(rep, region, side, entries, mode=None) -> int
      L1 misses of a fully associative LRU L1 of `entries` entries (an int up to the profile's
      cap, or "inf"/None for unbounded) on `side` ("l1i" or "l1d"), from a run with
      `lru_profile=on`; region None for the whole run; mode None for every mode.
  alt_configs(rep) -> dict
      name -> {"args", "config", "status", "mismatches", "totals", "modes", "regions"} of the
      configurations given with `alt=FILE` (empty without).
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


MODES = ("U", "S", "bare", "M")


def _profile_block(rep: dict, region, mode):
    prof = rep.get("lru_profile")
    if prof is None:
        raise ReportError("the report has no lru_profile (run with lru_profile=on)")
    if region is None:
        block = prof["modes"][mode] if mode else prof["totals"]
    else:
        regions = prof["regions"]
        if str(region) not in regions:
            raise ReportError(f"region {region} was never entered")
        block = regions[str(region)][mode or "total"]
    return block, prof["cap"]


def lru_misses(rep: dict, region, side: str, entries, mode: str | None = None) -> int:
    """Misses of a fully associative LRU L1 with `entries` entries on `side` ("l1i"/"l1d") in
    `region` (an id, or None for the whole run) and `mode` ("U", "S", "bare", "M"; None: all),
    from the stack-distance histogram of a run with lru_profile=on: the accesses whose
    translation was not in the stack (first use, or flushed) plus those at depth >= entries.
    `entries` is an int in 1..cap (cap = 4096) or "inf"/None (unbounded: not-present only).
    Equals `l1X=entries,l1X_ways=0,repl=lru,l2=0,walk_cache=0,l1X_super=0` run alone (with the
    profile run's ASID width and satp_flush), when the profile's `inexact` count is 0."""
    if side not in ("l1i", "l1d"):
        raise ValueError(f"side must be 'l1i' or 'l1d', not {side!r}")
    if mode is not None and mode not in MODES:
        raise ValueError(f"mode must be one of {MODES} or None, not {mode!r}")
    block, cap = _profile_block(rep, region, mode)
    h = block[side]
    if entries is None or entries == "inf" or entries == "infinite":
        return h["not_present"]
    n = int(entries)
    if n < 1 or n > cap:
        raise ValueError(f"entries must be 1..{cap} or 'inf' (the histogram is exact below {cap})")
    return h["not_present"] + h["overflow"] + sum(c for d, c in h["distances"].items() if int(d) >= n)


def lru_curve(rep: dict, region, side: str, sizes, mode: str | None = None) -> dict:
    """{entries: misses} for each of `sizes` (see lru_misses)."""
    return {n: lru_misses(rep, region, side, n, mode) for n in sizes}


def alt_configs(rep: dict) -> dict:
    """The alternative configurations of a run with alt=FILE, by name (the `name=` of their
    line, else the line itself), each {"args", "config", "status", "mismatches", "totals",
    "modes", "regions"}: "totals"/"modes"/"regions" have the primary report's shape and
    COUNTERS fields, the TLB events being the alternative's own (its own model_cycles too), the
    instruction and access counts the primary's (the same stream). Empty without alt=."""
    return {a["name"]: a for a in rep.get("alt_configs", [])}


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
        for name, alt in alt_configs(rep).items():
            print(f"-- alt {name}: status {alt['status']}, mismatches {alt['mismatches']}")
            print(table({**rep, **alt}))
        if "lru_profile" in rep:
            prof = rep["lru_profile"]
            sizes = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, "inf"]
            print(f"-- fully associative LRU L1 misses by size (lru_profile, inexact {prof['inexact']})")
            print(f"{'':8s}" + "".join(f"{str(n):>10s}" for n in sizes))
            for side in ("l1i", "l1d"):
                print(f"{side:8s}" + "".join(f"{lru_misses(rep, None, side, n):10d}" for n in sizes))
        for name, alt in alt_configs(rep).items():
            if alt["mismatches"]:
                print(f"report: {path}: alt {name}: {alt['mismatches']} translation mismatches "
                      "(its counts must not be used)", file=sys.stderr)
        if rep["mismatches"] or rep["status"] != "ok":
            print(f"report: {path}: FAILED: {rep['mismatches']} translation mismatches", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
