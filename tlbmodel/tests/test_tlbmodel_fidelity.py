"""Fidelity to the privileged spec and to Rocket-class hardware, with known answers computed by
hand from the guest's access patterns (tests/guest/guest.c): page-crossing accesses, G on a
non-leaf entry, faulting accesses, tree-PLRU, the page-walk cache, the presets' ASID widths."""
import pytest

LRU = "repl=lru,walk_cache=0,l1i_super=0,l1d_super=0"


@pytest.mark.parametrize("k", [1, 8])
def test_page_crossing_access_translates_both_pages(run, k):
    """Load i reads 8 bytes at the last 4 of page 2i, store i at the last 4 of page 2K+2i: each
    access needs the translations of two pages (2 DTLB accesses, 2 cold misses, 2 walks)."""
    r = run("cross", f"preset=u74,{LRU}", k=k)
    assert r.report["mismatches"] == 0
    for region, kind in ((1, "loads"), (2, "stores")):
        u = r.region(region, "U")
        assert u[kind] == k and u["page_crossings"] == k
        assert u["l1d_accesses"] == 2 * k
        assert u["l1d_misses"] == 2 * k and u["walks"] == 2 * k
        assert u["walk_refs"] == 3 * 2 * k
        # QEMU did the misaligned access itself: no trap, no M-mode emulation
        assert r.region(region, "M")["insns"] == 0 and u["traps_from_u"] == 0
    assert r.report["diagnostics"]["page_crossing_stores"] == k


@pytest.mark.parametrize("asid", ["on", "off"])
def test_global_bit_on_a_non_leaf_entry(run, asid):
    """K pages whose leaves have no G, under a level-2 pointer with G: every mapping below it
    is global (privileged spec), so a fence by ASID keeps them (region 2) and address space B,
    another ASID mapping the same pointer, hits them (region 3)."""
    k = 6
    r = run("gnl", f"preset=c906,l2=0,asid={asid},{LRU}", k=k)
    assert r.report["mismatches"] == 0
    assert r.region(1, "S")["l1d_misses"] == k
    assert r.region(2, "S")["l1d_misses"] == 0
    assert r.region(3, "S")["l1d_misses"] == 0
    assert r.report["modes"]["S"]["sfence_asid"] == 1


def test_faulting_accesses_walk_and_fill_nothing(run):
    """K user loads of an unmapped VA, each a page fault: every one is looked up, misses, and
    walks two levels (root pointer, then an invalid level-1 entry); nothing is filled, so the
    next one misses again."""
    k = 5
    r = run("fault", f"preset=u74,{LRU}", k=k)
    u = r.region(1, "U")
    assert r.report["mismatches"] == 0
    assert u["loads"] == 0 and u["fault_lookups_d"] == k and u["l1d_accesses"] == k
    assert u["l1d_misses"] == k and u["walks"] == k and u["walk_faults"] == k
    assert u["walk_refs"] == 2 * k
    assert u["traps_from_u"] == k and r.region(1, "S")["srets"] == k


def test_faulting_accesses_with_a_walk_cache(run):
    """The same with u74's 8-entry walk cache: the user code's own fetch walk already cached
    the root's pointer to the user level-1 table, so each fault walk reads only the invalid
    level-1 entry (an invalid entry is never cached)."""
    k = 5
    u = run("fault", "preset=u74", k=k).region(1, "U")
    assert u["walks"] == k and u["walk_refs"] == k and u["walk_cache_hits"] == k


@pytest.mark.parametrize("flags,misses", [(0, 0), (4, 5)])
def test_probe_faults_are_looked_up(run, flags, misses):
    """kernel_probe's pattern: U loads a kernel-half VA 5 times (permission faults). With the
    kernel's entry in the DTLB each lookup hits; after a full fence each misses and walks the
    one level of the 1 GiB leaf, and (no fill) the next misses again."""
    r = run("probe", f"preset=u54,{LRU},l2=0", k=5, flags=flags)
    u = r.region(1, "U")
    assert u["fault_lookups_d"] == 5 and u["l1d_misses"] == misses
    assert u["walks"] == misses and u["walk_refs"] == misses and u["walk_faults"] == 0
    assert r.report["user_hits_on_kernel_entries"] == 5 - misses


@pytest.mark.parametrize("repl,misses", [("lru", 2), ("plru", 3)])
def test_tree_plru_known_sequence(run, repl, misses):
    """A B C D | A E B through a 4-entry DTLB that already holds two entries when region 1
    starts: way 0 the RAM identity gigapage (S mode, before sret), way 1 the user image's 2 MiB
    page. LRU: C and D replace those two, A hits, E replaces B, B replaces C: 2 misses.
    Tree-PLRU (A, B fill the free ways 2, 3): C replaces way 0, D replaces A (way 2: the
    right half's older), then A replaces way 1, E replaces B, B replaces C: 3 misses."""
    r = run("seq", f"preset=u74,l1d=4,l2=0,walk_cache=0,repl={repl}",
            seq=[0, 1, 2, 3, 0, 4, 1], split=4)
    assert r.region(1, "U")["l1d_misses"] == 4
    assert r.region(2, "U")["l1d_accesses"] == 3
    assert r.region(2, "U")["l1d_misses"] == misses
    assert r.report["config"]["replacement"] == repl


def test_walk_cache_in_the_guest(run):
    """u74 (8-entry walk cache): the user code's fetch walk already cached the root's pointer
    to the user level-1 table. K pages under one level-0 table: the first walk reads the
    level-1 entry and the leaf, the other K-1 only their leaves."""
    k = 8
    u = run("pages", "preset=u74", k=k).region(1, "U")
    assert u["l1d_misses"] == k
    assert u["walk_refs"] == 2 + (k - 1)
    assert u["walk_cache_hits"] == 1 + 2 * (k - 1)


def test_model_cycles_known_answer(run):
    """u74's cost model on the pages pattern's region 1 (4 pages, U mode): 21 instructions at
    CPI 1, 5 memory walk references at 20 cycles (the first walk reads the level-1 entry and
    the leaf, the other three only their leaves) and 7 walk-cache hits at 1 cycle: 128. With
    cost_walk_ref_mem=0 only 28 are left (and the run is labelled hypothetical)."""
    u = run("pages", "preset=u74", k=4).region(1, "U")
    assert (u["insns"], u["walk_refs"], u["walk_cache_hits"]) == (21, 5, 7)
    assert u["model_cycles"] == 21 + 5 * 20 + 7
    r = run("pages", "preset=u74,cost_walk_ref_mem=0", k=4)
    assert r.region(1, "U")["model_cycles"] == 28
    assert r.report["config"]["cost_model"]["walk_ref_mem"] == 0
    assert r.report["config"]["hypothetical"] == "yes"


def test_trap_costs_are_counted(run):
    """K page faults from U: K trap entries (counted in U) and K srets (in S), each charged
    u74's 8 cycles in model_cycles."""
    k = 5
    r = run("fault", "preset=u74", k=k)
    u, s = r.region(1, "U"), r.region(1, "S")
    assert u["traps_from_u"] == k and s["srets"] == k and s["traps_from_u"] == 0
    assert u["model_cycles"] == u["insns"] + k * 8 + u["walk_refs"] * 20 + u["walk_cache_hits"]
    assert s["model_cycles"] == s["insns"] + k * 8 + s["satp_writes"] * 8 + s["walk_refs"] * 20 \
        + s["walk_cache_hits"] + s["l2_hits"] * 4


def test_rocket_superpage_array(run):
    """rocket: 4 KiB pages and superpages sit in separate arrays; a 2 MiB page is one entry."""
    r = run("super", "preset=rocket")
    cfg = r.report["config"]
    assert cfg["l1d_super"]["entries"] == 4 and cfg["l1d"]["entries"] == 32
    assert r.region(1, "U")["l1d_misses"] == 1 and r.region(2, "U")["l1d_misses"] == 0
    assert r.region(3, "U")["l1d_misses"] == 1 and r.region(3, "U")["walk_refs"] == 1
    assert r.report["mismatches"] == 0


@pytest.mark.parametrize("preset,bits", [("u54", 0), ("u74", 0), ("rocket", 0), ("c906", 16),
                                         ("c910", 16), ("xiangshan", 16), ("ideal", 16)])
def test_preset_asid_widths(run, preset, bits):
    """Each preset's ASID width is in the report; asid=on on a core without ASIDs is labelled
    hypothetical (16 bits, as QEMU), asid_bits=N below the core's is a real kernel's cap."""
    r = run("pages", f"preset={preset}", k=2)
    cfg = r.report["config"]
    assert cfg["asid_bits"] == cfg["core_asid_bits"] == bits and cfg["hypothetical"] == "no"
    on = run("pages", f"preset={preset},asid=on", k=2).report["config"]
    assert on["asid_bits"] == (bits or 16) and on["hypothetical"] == ("yes" if bits == 0 else "no")
    capped = run("pages", f"preset={preset},asid_bits=0", k=2).report["config"]
    assert capped["asid"] == "off" and capped["hypothetical"] == "no"


def test_presets_table_matches_harness(built):
    """harness/tlb.py's copy of the presets' ASID widths and names is the model's."""
    import json
    import subprocess
    import sys

    from tlbmodel_guest import REPO
    sys.path.insert(0, str(REPO))
    from harness.tlb import PRESETS
    out = subprocess.run([str(built.UNIT), "--presets"], capture_output=True, text=True,
                         check=True).stdout
    model = {d["name"]: d for d in map(json.loads, out.splitlines())}
    assert set(model) == set(PRESETS)
    for name, d in model.items():
        assert PRESETS[name].asid_bits == d["asid_bits"], name
