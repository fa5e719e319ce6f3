"""One TLB model per vCPU (QEMU's vCPU index = the hart): the guest's PAT_HARTS pattern on two
harts. The boot hart touches K pages (region 3) and starts the other hart, which touches the
same pages (region 1), is fenced by the boot hart through SBI RFENCE (OpenSBI executes the
sfence.vma on the target hart, in M mode) and touches them again (region 2).

Each test runs with one host thread per vCPU (QEMU's default) and with -icount, where QEMU runs
the vCPUs in turn on one thread and passes callbacks the index of the vCPU that translated a
block, not of the one running it (the plugin identifies the hart itself, see plugin.hpp)."""
import pytest

K = 8


def misses(section: dict, region: int, side: str = "l1d_misses") -> int:
    return section["regions"][str(region)]["S"][side]


@pytest.fixture(params=[False, True], ids=["parallel", "icount"])
def harts(run, request):
    def _run(args):
        r = run("harts", args, k=K, smp=2, icount=request.param)
        rep = r.report
        assert rep["mismatches"] == 0 and rep["config"]["vcpus"] == 2
        boot, other = sorted(rep["harts"], key=lambda h: "3" not in h["regions"])
        assert [h["vcpu"] for h in rep["harts"]] == [0, 1]
        return rep, boot, other
    return _run


def test_each_hart_has_its_own_tlb_and_remote_fences_reach_it(harts):
    rep, boot, other = harts("preset=u74")
    assert boot["started"] == other["started"] == "yes"
    # the other hart's TLB is its own: the boot hart's fills do not help it
    assert misses(boot, 3) == K and "1" not in boot["regions"] and "3" not in other["regions"]
    assert misses(other, 1) == K and misses(other, 1, "l1d_misses_after_flush") == 0
    # the remote fence emptied the other hart's TLB: every page misses again, after a flush
    assert misses(other, 2) == K and misses(other, 2, "l1d_misses_after_flush") == K
    assert other["modes"]["M"]["sfence_all"] >= 1
    # the fence and the IPI are asked for by the boot hart
    assert (boot["sbi_rfence_calls"], other["sbi_rfence_calls"]) == (1, 0)
    assert boot["sbi_ipi_calls"] == other["sbi_ipi_calls"] == 0
    assert boot["mismatches"] == other["mismatches"] == 0
    # the report's sections are the sums of the harts' (model_cycles is rounded per section)
    for mode in ("totals",) + tuple(f"modes.{m}" for m in ("U", "S", "bare", "M")):
        get = (lambda s: s["totals"]) if mode == "totals" else (lambda s, m=mode[6:]: s["modes"][m])
        for key, value in get(rep).items():
            if key != "model_cycles":
                assert value == get(boot)[key] + get(other)[key], (mode, key)
    for key in ("user_hits_on_kernel_entries", "user_kernel_probes", "mismatches"):
        assert rep[key] == boot[key] + other[key]


def test_profile_and_alternatives_are_per_hart(harts, tmp_path):
    alt = tmp_path / "alt.txt"
    alt.write_text("name=small,preset=u74,l1d=4\n")
    rep, boot, other = harts(f"preset=u74,lru_profile=on,alt={alt}")
    # one LRU stack per hart: the other hart's first touches find nothing, nor do its touches
    # after the remote fence; histograms are summed over the harts
    prof = rep["lru_profile"]["regions"]
    assert prof["1"]["S"]["l1d"]["not_present"] == K
    assert prof["2"]["S"]["l1d"]["not_present"] == K
    assert prof["3"]["S"]["l1d"]["not_present"] == K
    # one model per hart for each alternative: the other hart's first touches miss too
    (a,) = rep["alt_configs"]
    assert a["mismatches"] == 0
    for region in (1, 2, 3):
        assert misses(a, region) == K
    # 4 entries: only what was still held at the fence is refilled "after a flush"
    assert 1 <= misses(a, 2, "l1d_misses_after_flush") <= 4


def test_one_vcpu_report_has_no_harts_section(run):
    rep = run("pages", "preset=u74", k=2).report
    assert rep["config"]["vcpus"] == 1 and "harts" not in rep
