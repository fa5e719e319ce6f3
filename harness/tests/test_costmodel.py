"""The one cost model (harness/report/costmodel.py) against the committed measurements."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.report import costmodel
from harness.tidy import read_csv

pytestmark = pytest.mark.unit

RESULTS = Path(__file__).resolve().parents[2] / "results"


@pytest.fixture(scope="module")
def committed() -> pd.DataFrame:
    return read_csv(RESULTS / "measurements.csv")


def _lines(df: pd.DataFrame) -> pd.DataFrame:
    t = df[(df["mode"] == "tlb") & (df["metric"] == "tlb_model_cycles_per_op")]
    return t.drop_duplicates(["variant", "bench", "params", "preset"])


def test_breakdown_recomputes_the_plugins_cycles_on_every_line(committed: pd.DataFrame) -> None:
    """The documented formula over the counted events gives the plugin's modelled cycles on
    every TLB-model line of the committed CSV (scheme 3: means over the seeds)."""
    lines = _lines(committed)
    assert len(lines) > 100
    for r in lines.itertuples(index=False):
        params = "" if pd.isna(r.params) else str(r.params)
        got = costmodel.total(committed, r.variant, r.preset, r.bench, params)
        want = committed[(committed["mode"] == "tlb") & (committed["variant"] == r.variant)
                         & (committed["bench"] == r.bench) & (committed["preset"] == r.preset)
                         & (committed["params"].fillna("") == params)
                         & (committed["metric"] == "tlb_model_cycles_per_op")]["value"].mean()
        assert got == pytest.approx(want, rel=1e-6, abs=1e-3), (r.variant, r.bench, params)


def test_one_cell_by_hand(committed: pd.DataFrame) -> None:
    """s1-noasid, c906, the whole yield (bench_ctx procs=2 ws 0): the formula written out."""
    ev = costmodel.events(committed, "s1-noasid", "c906", "bench_ctx", "procs=2,ws_kb=0")
    assert ev is not None
    by_hand = (ev["insns"] * 1 + 5 * (ev["traps"] + ev["srets"] + ev["satp"] + ev["sfences"])
               + 4 * ev["l2_hits"] + 20 * ev["walk_refs"] + 1 * ev["walk_cache_hits"])
    b = costmodel.breakdown(committed, "s1-noasid", "c906", "bench_ctx", "procs=2,ws_kb=0")
    assert list(b) == list(costmodel.PARTS)
    assert sum(b.values()) == pytest.approx(by_hand)
    assert b["satp"] == pytest.approx(5 * ev["satp"]) and b["satp"] > 0  # a satp write costs


def test_constants_are_linear_and_named(committed: pd.DataFrame) -> None:
    args = ("s1-asid", "c906", "bench_ctx", "procs=2,ws_kb=0")
    ev = costmodel.events(committed, *args)
    assert ev is not None
    base = costmodel.total(committed, *args)
    dear = costmodel.total(committed, *args, model=costmodel.DEFAULT_MODEL.with_constant("satp", 105))
    assert base is not None and dear is not None
    assert dear - base == pytest.approx(100 * ev["satp"])
    with pytest.raises(ValueError):
        costmodel.DEFAULT_MODEL.with_constant("satp_write", 1)
    assert set(costmodel.SWEEP) <= set(costmodel.DEFAULT_MODEL.constants("c906"))


def test_not_measured_is_empty(committed: pd.DataFrame) -> None:
    assert costmodel.breakdown(committed, "s9-asid", "c906", "bench_null", "") == {}
    assert costmodel.total(committed, "s9-asid", "c906", "bench_null", "") is None


def test_old_formula_is_gone() -> None:
    """No module computes the old model (a satp write free): harness/tlb.py's names point at
    the one model's text."""
    from harness import tlb
    assert tlb.CYCLE_MODEL_TEXT == costmodel.TEXT and "satp" in tlb.CYCLE_MODEL_TEXT
    root = Path(__file__).resolve().parents[1]
    for p in list(root.glob("*.py")) + list(root.glob("report/*.py")):
        assert "WALK_REF_CYCLES" not in p.read_text(), p
