"""Capacity, replacement and associativity: known miss counts from the guest's access patterns.
Custom geometries (l1d=E, l2=0) isolate the structure under test; `repl=lru,walk_cache=0`
keeps the hand-computed LRU answers (the presets use tree-PLRU and walk caches, tested in
test_tlbmodel_rocket.py)."""
import pytest

E = 8
LRU = "repl=lru,walk_cache=0,l1i_super=0,l1d_super=0"


@pytest.mark.parametrize("k", [2, 7, 8, 9, 16, 33])
def test_lru_cyclic_pages(run, k):
    """K pages in a loop through a fully associative LRU DTLB of E entries: after the warm-up
    pass, K misses per pass when K > E, none when K <= E."""
    passes = 5
    r = run("pages", f"preset=u74,l1d={E},l2=0,{LRU}", k=k, passes=passes)
    assert r.report["mismatches"] == 0
    warm, meas = r.region(1, "U"), r.region(2, "U")
    assert warm["l1d_accesses"] == k and warm["l1d_misses"] == k
    assert meas["l1d_accesses"] == passes * k
    assert meas["l1d_misses"] == (0 if k <= E else passes * k)
    # 4 KiB pages: each miss is a three-level walk
    assert meas["walks"] == meas["l1d_misses"]
    assert meas["walk_refs"] == 3 * meas["l1d_misses"]
    # the measured loop runs from one code page: no instruction-side misses
    assert meas["l1i_misses"] == 0
    # exact instruction counts: marker + per pass (2 + 4 per page + 2)
    assert r.report["regions"]["1"]["insns"] == 1 + (2 + 4 * k + 2)
    assert r.report["regions"]["2"]["insns"] == 1 + passes * (2 + 4 * k + 2)
    assert r.region(2, "U")["insns"] == r.report["regions"]["2"]["insns"]


@pytest.mark.parametrize("repl,misses", [("lru", 1), ("fifo", 2)])
def test_replacement_known_sequence(run, repl, misses):
    """A B C D | A E A with 4 entries: LRU keeps A (only E misses), FIFO evicts A for E."""
    r = run("seq", f"preset=u74,l1d=4,l2=0,repl={repl}", seq=[0, 1, 2, 3, 0, 4, 0], split=4)
    assert r.region(1, "U")["l1d_misses"] == 4
    assert r.region(2, "U")["l1d_accesses"] == 3
    assert r.region(2, "U")["l1d_misses"] == misses
    assert r.report["mismatches"] == 0


def test_lru_vs_fifo_longer_sequence(run):
    """A B C D | A B E A B C: LRU 2 misses (E, C); FIFO 4 (E evicts A; A evicts B; B evicts C;
    C evicts D)."""
    seq = [0, 1, 2, 3, 0, 1, 4, 0, 1, 2]
    lru = run("seq", "preset=u74,l1d=4,l2=0,repl=lru", seq=seq, split=4)
    fifo = run("seq", "preset=u74,l1d=4,l2=0,repl=fifo", seq=seq, split=4)
    assert lru.region(2, "U")["l1d_misses"] == 2
    assert fifo.region(2, "U")["l1d_misses"] == 4


def test_random_replacement_is_seeded(run):
    args = "preset=u74,l1d=8,l2=0,repl=random,seed=7"
    a = run("pages", args, k=12, passes=20).region(2, "U")["l1d_misses"]
    b = run("pages", args, k=12, passes=20).region(2, "U")["l1d_misses"]
    assert a == b
    assert 0 < a < 20 * 12  # random keeps part of a cyclic set that LRU would thrash


@pytest.mark.parametrize("k,l2_misses", [(4, 0), (5, None)])
def test_set_associative_l2(run, k, l2_misses):
    """L1 D of 2 entries, L2 of 16 entries in 4 ways (4 sets); pages 4 apart share an L2 set:
    4 of them fit, 5 thrash that set."""
    passes = 3
    r = run("pages", f"preset=c906,l1d=2,l1i=16,l2=16,l2_ways=4,{LRU}", k=k, passes=passes, stride=4)
    m = r.region(2, "U")
    assert m["l1d_misses"] == passes * k
    assert m["l2d_hits"] == (passes * k if k == 4 else 0)
    assert m["l2d_misses"] == (0 if k == 4 else passes * k)
    assert m["walk_refs"] == 3 * m["l2d_misses"]
    assert r.report["config"]["l2"]["ways"] == 4


def test_l2_backs_l1(run):
    """16 pages: an 8-entry L1 thrashes, a 32-entry L2 holds them all."""
    r = run("pages", f"preset=u54,l1d=8,l2=32,l2_ways=0,{LRU}", k=16, passes=4)
    m = r.region(2, "U")
    assert m["l1d_misses"] == 4 * 16
    assert m["l2d_hits"] == 4 * 16 and m["l2d_misses"] == 0 and m["walks"] == 0
