"""Loading, arguments, the API version and the report's shape."""
import json
import subprocess
from pathlib import Path

import pytest


def test_exports_api_version(built):
    syms = subprocess.run(["nm", "-D", "--defined-only", str(built.PLUGIN)],
                          capture_output=True, text=True, check=True).stdout
    assert "qemu_plugin_version" in syms and "qemu_plugin_install" in syms
    header = (built.BUILD / "include" / "qemu" / "qemu-plugin.h").read_text()
    assert "#define QEMU_PLUGIN_VERSION 4" in header


@pytest.mark.parametrize("args", ["bogus=1", "preset=z80", "repl=mru", "l1d=12,l1d_ways=5",
                                  "asid=maybe", "l1i=0"])
def test_bad_arguments_refused(run, args):
    r = run("pages", args, check_rc=False, k=2)
    assert r.returncode != 0
    assert "tlbmodel" in r.console


def test_report_shape(run):
    r = run("pages", "preset=u54,label=shape", k=4, passes=2)
    rep = r.report
    assert rep["format"] == "sv39lab-tlbmodel/1"
    assert rep["status"] == "ok" and rep["mismatches"] == 0
    assert rep["label"] == "shape"
    cfg = rep["config"]
    assert cfg["preset"] == "u54" and cfg["replacement"] == "plru"
    # the FU540's U54 implements no ASID bits: the preset has none, and is a real core's
    assert cfg["asid"] == "off" and cfg["asid_bits"] == 0 and cfg["core_asid_bits"] == 0
    assert cfg["hypothetical"] == "no" and cfg["hypothetical_reasons"] == []
    assert cfg["l1i"]["entries"] == 32 and cfg["l1d"]["entries"] == 32
    assert cfg["l1i_super"]["entries"] == 4 and cfg["l1d_super"]["entries"] == 4
    assert cfg["l2"]["entries"] == 128 and cfg["l2_4k_only"] == "yes"
    assert cfg["walk_cache"] == 8
    assert set(cfg["cost_model"]) == {"cpi", "trap_entry", "trap_exit", "satp_write",
                                      "sfence_all", "sfence_asid", "sfence_va",
                                      "sfence_va_asid", "l2_hit", "walk_ref_mem",
                                      "walk_ref_cache"}
    assert set(rep["modes"]) == {"U", "S", "bare", "M"}
    assert {"0", "1", "2"} <= set(rep["regions"])
    assert rep["regions"]["0"]["name"] == "none"
    t = rep["totals"]
    for key in ("l1i_hits", "l1i_misses", "l1d_hits", "l1d_misses", "l2_hits", "l2_misses",
                "walk_refs", "flushes", "sfence_all", "l1d_misses_after_flush", "insns",
                "user_hits_on_kernel_entries", "mismatches", "walk_cache_hits",
                "page_crossings", "fault_lookups_d", "traps_from_u", "srets", "model_cycles"):
        assert key in t
    # every translated access was checked against QEMU's physical address
    assert t["checked_data"] == t["loads"] + t["stores"] > 0
    assert t["checked_fetch"] > 0 and t["unchecked_fetch"] == 0
    # totals are the sum of the modes
    assert t["insns"] == sum(rep["modes"][m]["insns"] for m in rep["modes"])
    assert rep["modes"]["M"]["insns"] > 0 and rep["modes"]["M"]["l1d_accesses"] == 0


@pytest.mark.parametrize("preset,l1,l2", [("u54", 32, 128), ("u74", 40, None),
                                          ("c906", 10, 512), ("ideal", "infinite", None)])
def test_presets(run, preset, l1, l2):
    r = run("loop", f"preset={preset},repl=lru", k=48, passes=3)
    cfg = r.report["config"]
    assert cfg["preset"] == preset + "+custom" and cfg["hypothetical"] == "yes"
    assert cfg["l1d"]["entries"] == l1 and cfg["l1i"]["entries"] == l1
    assert (cfg["l2"] or {}).get("entries") == l2
    assert r.report["mismatches"] == 0
    u = r.region(1, "U")
    assert u["l1d_accesses"] == 3 * 48 * 128
    if preset == "ideal":
        assert u["l1d_misses"] == 48          # compulsory only
    elif l1 < 48:
        assert u["l1d_misses"] == 3 * 48      # 48 pages cycled through an LRU L1 < 48
    if preset == "c906":
        assert cfg["l2"]["ways"] == 4
        assert u["l2d_hits"] == 2 * 48 and u["l2d_misses"] == 48


def test_report_tool(run, tmp_path):
    """tlbmodel/report.py prints the tables and fails on mismatches or a missing report."""
    good = run("pages", "preset=u54", k=4, passes=2)
    path = tmp_path / "good.json"
    path.write_text(json.dumps(good.report))
    tool = str(Path(__file__).resolve().parents[1] / "report.py")
    p = subprocess.run(["/usr/bin/python3", tool, str(path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "mode U" in p.stdout and "r2" in p.stdout
    bad = run("asid", "preset=u74,asid=off", k=4)
    bpath = tmp_path / "bad.json"
    bpath.write_text(json.dumps(bad.report))
    p = subprocess.run(["/usr/bin/python3", tool, str(bpath)], capture_output=True, text=True)
    assert p.returncode == 1 and "mismatch" in p.stderr
    p = subprocess.run(["/usr/bin/python3", tool, str(tmp_path / "absent.json")],
                       capture_output=True, text=True)
    assert p.returncode == 1
