"""Sweeps in one run: the LRU stack-distance profile (`lru_profile=on`) and the alternative
configurations (`alt=FILE`) against known answers and against separate single-configuration
runs of the same guest pattern."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import report  # noqa: E402

SIZES = [1, 2, 8, 32, "inf"]
# A fully associative LRU L1 of N entries on both sides, nothing behind it: what the profile
# stands for (u74 has no superpage arrays).
SINGLE = "preset=u74,l1i={n},l1i_ways=0,l1d={n},l1d_ways=0,repl=lru,l2=0,walk_cache=0"


def test_profile_known_answer(run):
    """K = 12 pages cycled: the first pass finds none of them (12 not present), each later
    access finds its page under the other 11 (depth 11), so an N-entry FA-LRU DTLB misses all
    3 x 12 accesses of region 2 when N <= 11 and none when N >= 12. The loop's code page is
    the only instruction translation: depth 0 throughout region 2."""
    k, passes = 12, 3
    r = run("pages", "preset=u54,lru_profile=on", k=k, passes=passes)
    prof = r.report["lru_profile"]
    assert prof["cap"] == 4096 and prof["inexact"] == 0
    warm = prof["regions"]["1"]["U"]["l1d"]
    assert warm["accesses"] == k and warm["not_present"] == k and warm["distances"] == {}
    meas = prof["regions"]["2"]["U"]["l1d"]
    assert meas == {"accesses": passes * k, "not_present": 0, "overflow": 0,
                    "distances": {str(k - 1): passes * k}}
    for n in (1, 2, 11, 12, 32, 4096, "inf", None):
        expect = passes * k if n not in ("inf", None) and n <= k - 1 else 0
        assert report.lru_misses(r.report, 2, "l1d", n) == expect, n
        assert report.lru_misses(r.report, 2, "l1d", n, "U") == expect, n
        assert report.lru_misses(r.report, 2, "l1d", n, "S") == 0, n
    ins = prof["regions"]["2"]["U"]["l1i"]
    assert ins["not_present"] == 0 and set(ins["distances"]) == {"0"}
    assert report.lru_misses(r.report, 2, "l1i", 1) == 0
    # the whole run: the sum over regions and modes
    total = sum(report.lru_misses(r.report, rid, "l1d", 8) for rid in prof["regions"])
    assert report.lru_misses(r.report, None, "l1d", 8) == total
    with pytest.raises(ValueError):
        report.lru_misses(r.report, 2, "l1d", 4097)
    with pytest.raises(ValueError):
        report.lru_misses(r.report, 2, "l1x", 8)
    # the primary model is the u54's as without the profile
    plain = run("pages", "preset=u54", k=k, passes=passes)
    assert r.report["regions"]["2"] == plain.report["regions"]["2"]
    assert r.report["regions"]["1"] == plain.report["regions"]["1"]


# (pattern, guest parameters, ASIDs): flushes by every sfence.vma form, satp switches with and
# without ASIDs, capacity, instruction fetches through many code pages, user page faults.
SCENARIOS = [
    ("pages", dict(k=40, passes=2), "off"),
    ("sfence", dict(k=6), "on"),
    ("sfence", dict(k=6), "off"),
    ("asid", dict(k=4), "on"),             # switch away and back, no fence: entries survive
    ("asid", dict(k=4, flags=1), "on"),    # sfence.vma zero, zero after each satp write
    ("asid", dict(k=4, flags=1), "off"),
    ("ifetch", dict(k=12, passes=3), "off"),
    ("alias", dict(k=6), "on"),
    ("gnl", dict(k=6), "on"),              # G on a pointer, fence by ASID, another ASID
    ("fault", dict(k=5), "off"),           # faulting lookups that find nothing
    ("seq", dict(seq=[0, 1, 2, 3, 0, 4, 1, 2, 5, 0, 3, 6, 1], split=4), "off"),
]


def _compare_regions(prof_rep, single_rep, n):
    """Every region and mode of the single run against the profile's answer for n entries."""
    checked = 0
    for rid, region in single_rep["regions"].items():
        for mode in ("total", "U", "S", "bare", "M"):
            for side in ("l1i", "l1d"):
                got = report.lru_misses(prof_rep, rid, side, n, None if mode == "total" else mode)
                assert got == region[mode][f"{side}_misses"], (rid, mode, side, n)
                checked += region[mode][f"{side}_misses"]
    return checked


@pytest.mark.parametrize("pattern,kw,asid", SCENARIOS,
                         ids=[f"{p}-{a}-{i}" for i, (p, _, a) in enumerate(SCENARIOS)])
def test_profile_equals_single_runs(run, pattern, kw, asid):
    """misses(N) of the profile = the L1 misses of a run with an N-entry fully associative LRU
    L1 alone, for every region, mode and side, N = 1, 2, 8, 32 and unbounded; the profile's
    primary model (u54, PLRU, superpage arrays, an L2) is another configuration altogether."""
    prof = run(pattern, f"preset=u54,asid={asid},lru_profile=on", **kw).report
    assert prof["mismatches"] == 0 and prof["lru_profile"]["inexact"] == 0
    misses = {}
    for n in SIZES:
        single = run(pattern, SINGLE.format(n=n) + f",asid={asid}", **kw).report
        assert single["mismatches"] == 0
        misses[n] = _compare_regions(prof, single, n)
    # the sizes differ somewhere, or the pattern tested nothing but compulsory misses
    if pattern not in ("fault", "gnl"):
        assert misses[1] > misses["inf"], misses


def test_profile_counts_faults_that_find_an_entry_below_the_top(run):
    """kernel_probe's pattern: each user load of the kernel-half VA faults and finds the
    kernel's entry under the trap handler's own translations. An N-entry L1 that no longer holds
    it fills nothing, one that holds it touches it: one stack cannot follow both, and the
    profile says so (`inexact`)."""
    r = run("probe", "preset=u54,lru_profile=on", k=5)
    assert r.report["lru_profile"]["inexact"] > 0


def _alt_file(tmp_path, lines):
    path = tmp_path / "alts.txt"
    path.write_text("# alternative configurations, one a line\n\n" + "\n".join(lines) + "\n")
    return path


ALTS = ["preset=u54", "preset=c906", "name=fifo8,preset=u74,l1d=8,l1i=8,repl=fifo",
        "preset=xiangshan", "preset=rocket,asid=on", "preset=c910,l2=64,l2_ways=4,repl=random,seed=3",
        "preset=u54,satp_flush=on", "preset=ideal,cost_walk_ref_mem=7"]


@pytest.mark.parametrize("pattern,kw", [("pages", dict(k=40, passes=2)), ("sfence", dict(k=6)),
                                        ("asid", dict(k=4, flags=1)), ("asid", dict(k=4)),
                                        ("ifetch", dict(k=12, passes=2)), ("fault", dict(k=5))])
def test_alt_configs_equal_single_runs(run, tmp_path, pattern, kw):
    """Each alternative configuration's counters (every field, every region and mode) equal a
    separate run of that configuration alone; the primary's are those of a run without alt."""
    alt = _alt_file(tmp_path, ALTS)
    multi = run(pattern, f"preset=c906,asid=on,alt={alt}", **kw).report
    alts = report.alt_configs(multi)
    assert list(alts) == ["preset=u54", "preset=c906", "fifo8", "preset=xiangshan",
                          "preset=rocket,asid=on",
                          "preset=c910,l2=64,l2_ways=4,repl=random,seed=3",
                          "preset=u54,satp_flush=on", "preset=ideal,cost_walk_ref_mem=7"]
    assert alts["fifo8"]["args"] == "preset=u74,l1d=8,l1i=8,repl=fifo"
    for line in ALTS:
        args = line.split(",", 1)[1] if line.startswith("name=") else line
        name = line.split(",", 1)[0][5:] if line.startswith("name=") else line
        single = run(pattern, args, check_rc=False, **kw).report
        a = alts[name]
        assert a["config"] == {k: v for k, v in single["config"].items()
                               if k not in ("check", "plugin_api_version", "vcpus")}, name
        assert a["mismatches"] == single["mismatches"] and a["status"] == single["status"], name
        for rid, region in single["regions"].items():
            if rid == "0":
                continue  # boot: OpenSBI's own instruction counts vary from run to run
            for mode in ("total", "U", "S"):
                assert a["regions"][rid][mode] == region[mode], (name, rid, mode)
        for key in ("l1i_misses", "l1d_misses", "l2_hits", "l2_misses", "walk_refs",
                    "walk_cache_hits", "flushes", "entries_flushed", "satp_flushes"):
            assert a["totals"][key] == single["totals"][key], (name, key)
    plain = run(pattern, "preset=c906,asid=on", **kw).report
    for rid, region in plain["regions"].items():
        if rid != "0":
            assert multi["regions"][rid] == region, rid


def test_alt_and_profile_together(run, tmp_path):
    """Both options at once: the profile follows the primary's ASID width, each alternative
    its own; the report tool prints them all."""
    import json
    import subprocess

    alt = _alt_file(tmp_path, ["preset=u74,l1d=8,l1d_ways=0,l1i=8,l1i_ways=0,repl=lru,l2=0,walk_cache=0"])
    r = run("pages", f"preset=u54,lru_profile=on,alt={alt}", k=12, passes=3).report
    a = next(iter(report.alt_configs(r).values()))
    assert a["regions"]["2"]["U"]["l1d_misses"] == report.lru_misses(r, 2, "l1d", 8) == 36
    path = tmp_path / "r.json"
    path.write_text(json.dumps(r))
    tool = str(Path(report.__file__))
    p = subprocess.run(["/usr/bin/python3", tool, str(path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "-- alt preset=u74" in p.stdout and "fully associative LRU L1 misses" in p.stdout


@pytest.mark.parametrize("lines,args", [
    (["preset=u74,out=/tmp/x"], ""),      # not a TLB setting
    (["preset=z80"], ""),
    (["l1d=12,l1d_ways=5"], ""),
    (["name=a,preset=u74", "name=a,preset=c906"], ""),  # two of one name
    (["preset=u74"], ",lru_profile=maybe"),
])
def test_bad_sweep_arguments_refused(run, tmp_path, lines, args):
    alt = _alt_file(tmp_path, lines)
    r = run("pages", f"preset=u54,alt={alt}{args}", check_rc=False, k=2)
    assert r.returncode != 0 and "tlbmodel" in r.console
    r = run("pages", f"preset=u54,alt={tmp_path / 'absent.txt'}", check_rc=False, k=2)
    assert r.returncode != 0 and "alt" in r.console
