"""Superpages, ASIDs, the G bit, every sfence.vma form, instruction fetches and the checks
against QEMU's own physical addresses."""
import pytest

LRU = "repl=lru,walk_cache=0,l1i_super=0,l1d_super=0"


def test_superpages(run):
    r = run("super", f"preset=u74,{LRU}")
    two_m, again, one_g = r.region(1, "U"), r.region(2, "U"), r.region(3, "U")
    # 512 addresses 4 KiB apart in one 2 MiB page: one entry, one two-level walk
    assert two_m["l1d_accesses"] == 512 and two_m["l1d_misses"] == 1
    assert two_m["walk_refs"] == 2
    assert again["l1d_misses"] == 0
    # 8 addresses 2 MiB apart in one 1 GiB page: one entry, one one-level walk
    assert one_g["l1d_accesses"] == 8 and one_g["l1d_misses"] == 1 and one_g["walk_refs"] == 1
    assert r.report["mismatches"] == 0


@pytest.mark.parametrize("asid,guest_flush,refetch_misses", [
    ("on", False, 0),   # ASIDs: switching away and back keeps the user's entries
    ("on", True, 4),    # sfence.vma zero, zero after each satp write loses them
    ("off", True, 4),   # no ASIDs: the guest fences after each satp write
    ("off,satp_flush=on", False, 4),  # a core that flushed on satp writes (no preset's)
])
def test_asid_switch(run, asid, guest_flush, refetch_misses):
    k = 4
    r = run("asid", f"preset=u74,asid={asid}", k=k, flags=1 if guest_flush else 0)
    assert r.report["mismatches"] == 0
    assert r.region(1, "U")["l1d_misses"] == k
    # the kernel, in the other address space, touches the same VAs (other PAs there)
    assert r.region(3, "S")["l1d_misses"] == k
    back = r.region(2, "U")
    assert back["l1d_misses"] == refetch_misses
    assert back["l1d_misses_after_flush"] == refetch_misses
    total = r.report["totals"]
    if guest_flush:
        assert total["sfence_all"] >= 2
    # the satp writes themselves flush nothing, unless the configuration says so
    assert total["satp_flushes"] == (2 if "satp_flush=on" in asid else 0)
    cfg = r.report["config"]
    # U74 implements no ASID bits: asid=on (16 bits) or satp_flush=on is no real core's
    assert cfg["hypothetical"] == ("no" if asid == "off" else "yes")
    assert cfg["asid_bits"] == (16 if asid == "on" else 0)


def test_stale_entries_are_reported_as_mismatches(run):
    """Without ASIDs a satp write flushes nothing (privileged spec): a guest that does not fence
    keeps the other address space's entries, the model then disagrees with QEMU (whose own TLB
    flushes on satp writes), and the report says so."""
    r = run("asid", "preset=u74,asid=off", k=4)
    rep = r.report
    assert rep["status"] == "mismatch"
    # The kernel's touches in the other address space hit the user's stale entries (4 wrong
    # PAs); back in the user's space those same entries are right again.
    assert rep["mismatches"] == 4
    assert r.region(3, "S")["mismatches"] == 4 and r.region(2, "U")["mismatches"] == 0
    s = rep["mismatch_samples"][0]
    assert s["kind"] == "load" and s["va"] == "0x40400000"
    assert s["model_pa"] == "0x81000000" and s["qemu_pa"] == "0x81800000"
    assert "MISMATCH" in r.log


@pytest.mark.parametrize("asid", ["on", "off"])
def test_sfence_forms(run, asid):
    """K global + K non-global kernel pages (ASID 1), then each sfence.vma form in turn."""
    k = 6
    r = run("sfence", f"preset=u74,asid={asid}", k=k)
    on = asid == "on"
    expect = {
        1: 2 * k,           # cold
        2: k,               # sfence zero, asid1: non-global entries of ASID 1 only
        3: 1,               # sfence va(global), zero: that page in every ASID, globals too
        4: 0,               # sfence va(global), asid1: spares the global entry
        5: 1,               # sfence va(non-global), asid1
        6: 0 if on else 1,  # sfence va(non-global), asid2: another ASID (ignored without ASIDs)
        7: 0 if on else k,  # sfence zero, asid2
        8: 2 * k,           # sfence zero, zero: everything
    }
    for region, misses in expect.items():
        m = r.region(region, "S")
        assert m["l1d_accesses"] == 2 * k, region
        assert m["l1d_misses"] == misses, region
        assert m["l1d_misses_after_flush"] == (misses if region > 1 else 0), region
    t = r.report["modes"]["S"]
    assert t["sfence_asid"] == 2 and t["sfence_va"] == 1 and t["sfence_va_asid"] == 3
    assert t["sfence_all"] >= 2  # one after enabling paging, one in the pattern
    assert r.report["mismatches"] == 0


@pytest.mark.parametrize("k,misses_per_pass", [(7, 0), (8, 8)])
def test_instruction_tlb(run, k, misses_per_pass):
    """Calls through K code pages, each its own 4 KiB entry; the calling loop's page stays in
    the ITLB, so K pages fit in an 8-entry LRU ITLB only when K <= 7."""
    passes = 3
    r = run("ifetch", f"preset=u74,l1i=8,{LRU}", k=k, passes=passes)
    assert r.region(1, "U")["l1i_misses"] == k
    m = r.region(2, "U")
    assert m["l1i_misses"] == passes * misses_per_pass
    assert m["walk_refs_i"] == 3 * m["l1i_misses"]
    assert m["l1d_accesses"] == 0
    t = r.report["totals"]
    assert t["checked_fetch"] > 0 and t["unchecked_fetch"] == 0
    assert r.report["mismatches"] == 0


@pytest.mark.parametrize("flags,hits", [(0, 5), (2, 5), (4, 0), (6, 0)])
def test_user_probe_of_kernel_entries(run, flags, hits):
    """The kernel touches a kernel-half VA, then U code loads it 5 times (each faults): with
    the entry still in the TLB each attempt hits it; after sfence.vma zero, zero none does."""
    r = run("probe", "preset=u54", k=5, flags=flags)
    assert r.report["user_kernel_probes"] == 5
    assert r.report["user_hits_on_kernel_entries"] == hits
    assert r.region(1, "U")["user_hits_on_kernel_entries"] == hits
    assert r.report["mismatches"] == 0


def test_zero_mismatches_and_full_checking_everywhere(run):
    for pattern, kw in [("pages", dict(k=40, passes=2)), ("super", {}), ("asid", dict(k=8)),
                        ("sfence", dict(k=8)), ("ifetch", dict(k=16, passes=2))]:
        for preset in ("u54", "c906"):
            r = run(pattern, f"preset={preset},asid=on", **kw)
            t = r.report["totals"]
            assert r.report["mismatches"] == 0, (pattern, preset)
            assert t["walk_faults"] == 0, (pattern, preset)
            assert t["unchecked_data"] == 0 and t["unchecked_fetch"] == 0, (pattern, preset)


def test_mismatch_can_fail_the_qemu_run(run):
    """mismatch_exit=N makes QEMU exit with status N after a run with mismatches (the report is
    written first); a clean run keeps the guest's own exit status."""
    bad = run("asid", "preset=u74,asid=off,mismatch_exit=7", check_rc=False, k=4)
    assert bad.returncode == 7
    assert bad.report["mismatches"] == 4
    good = run("asid", "preset=u74,asid=on,mismatch_exit=7", k=4)
    assert good.returncode == 0 and good.report["status"] == "ok"


@pytest.mark.parametrize("preset", ["u54", "c906"])
def test_code_at_another_va(run, preset):
    """QEMU's RISC-V blocks are position independent: code translated at one VA runs unchanged
    at another VA mapping the same physical page (as the kernel does in scheme 3). The model
    must follow the VA it runs at: new VAs miss once, then hit; nothing mismatches."""
    k = 6
    r = run("alias", f"preset={preset},asid=on,{LRU}", k=k)
    assert r.report["mismatches"] == 0
    assert r.region(1, "U")["l1i_misses"] == k
    second, third = r.region(2, "U"), r.region(3, "U")
    assert second["l1i_misses"] == k and second["walk_refs_i"] == 3 * k
    assert third["l1i_misses"] == 0
    assert r.report["totals"]["walk_faults"] == 0
    assert r.report["diagnostics"]["block_va_reads"] > 0
