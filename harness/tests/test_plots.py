"""The plot package (harness/plots/): the registry, every plot's data path against an
independent mean over scheme 3's kaslr seeds in the committed CSV, the coincidence checks, the
new verdict plots, and that presentation code stays off the run side."""
from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

import pandas as pd
import pytest

from harness import plots
from harness.plots import registry, style
from harness.plots.tlbmodel import mix_tlb_values
from harness.plots.verdicts import bootstrap_median_ci
from harness.tidy import make_frame, make_row, read_csv
from harness.variants import variant_by_name

ROOT = Path(__file__).resolve().parents[2]
CSV = ROOT / "results" / "measurements.csv"
KEY = ("variant", "bench", "mode", "metric", "preset", "params")


@pytest.fixture(scope="module")
def committed() -> pd.DataFrame:
    return read_csv(CSV)


def independent_means(df: pd.DataFrame) -> Dict[Tuple, Tuple[float, int]]:
    """(key) -> (mean over the rows, n), summed by hand over the raw rows (no groupby)."""
    acc: Dict[Tuple, List[float]] = defaultdict(list)
    cols = [df[c].astype(str).tolist() for c in KEY]
    reps = df["repetition"].astype(str).tolist()
    wall = (df["mode"] == "wall").tolist()
    for i, value in enumerate(df["value"].tolist()):
        k = tuple(c[i] for c in cols) + ((reps[i],) if wall[i] else ())
        acc[k].append(float(value))
    return {k: (sum(v) / len(v), len(v)) for k, v in acc.items()}


def test_registry_lists_each_file_once() -> None:
    files = plots.owned_files()
    assert len(files) == len(set(files)) == len(plots.PLOTS)
    assert files[0] == "null_syscall.png" and "verdict_ratios.png" in files
    for old in registry.RETIRED:
        assert old not in files


def test_every_scheme3_figure_is_the_mean_over_seeds(committed: pd.DataFrame) -> None:
    """For every plot's data path, each scheme-3 figure equals the mean of its rows over the
    kaslr seeds, computed independently from the CSV (a sum would be n_seeds times larger)."""
    means = independent_means(committed)
    checked = 0
    for p in plots.PLOTS:
        if p.raw:
            continue  # robustness.csv: verdicts, no measured figure
        d = p.data(committed, None)
        if d.empty or "variant" not in d.columns:
            # a plot of figures the committed run did not measure (the multi-hart ones before a
            # reproduce with the harts variants): it must not have been drawn either
            assert not (CSV.parent / p.file).exists(), p.file
            continue
        s3 = d[d["variant"].str.startswith("s3-")]
        assert not s3.empty, p.file
        seeds = 0
        for row in s3.itertuples(index=False):
            r = row._asdict()
            k = tuple(str(r[c]) for c in KEY) + ((str(r["repetition"]),)
                                                 if r["mode"] == "wall" else ())
            mean, n = means[k]
            assert r["value"] == pytest.approx(mean, rel=1e-12), (p.file, k)
            assert r["n_seeds"] == n, (p.file, k)
            seeds = max(seeds, n)
            checked += 1
        # the data path must be one where scheme 3 has several seeds (else the check is void)
        if not (s3["mode"] == "wall").all():
            assert seeds == 5, p.file
        # one row per figure: nothing left for a plot to sum over
        keys = [c for c in d.columns if c not in ("value", "n_seeds", "kaslr_seed")]
        assert not d.duplicated(subset=keys).any(), p.file
    assert checked > 1000


def test_mix_tlb_misses_are_seed_means_not_sums(committed: pd.DataFrame) -> None:
    """The drawn L1 I + D misses of scheme 3 in mix_tlb_misses_per_access.png: the mean over
    the seeds of each metric, summed over I and D (the old plot summed over seeds too)."""
    d = registry.by_file("mix_tlb_misses_per_access.png").data(committed)
    vals = mix_tlb_values(d, "c906")
    raw = committed[(committed["bench"] == "bench_mix") & (committed["preset"] == "c906")
                    & (committed["variant"] == "s3-asid") & (committed["mode"] == "tlb")]
    for w, n in ((256, 10.0), (64, 1000.0)):
        r = raw[(raw["param_ws_kb"] == w) & (raw["param_every"] == n)]
        i = r[r["metric"] == "tlb_l1i_misses_per_op"]["value"]
        dd = r[r["metric"] == "tlb_l1d_misses_per_op"]["value"]
        assert len(i) == len(dd) == 5
        assert vals["s3-asid"][w][n] == pytest.approx(i.mean() + dd.mean())
        assert vals["s3-asid"][w][n] != pytest.approx(i.sum() + dd.sum())


def test_seed_mean_keeps_wall_repetitions_and_na_parameters() -> None:
    v3, v2 = variant_by_name("s3-asid"), variant_by_name("s2-asid")
    rows = [make_row(v3, "bench_null", {}, mode="icount", metric="insns_per_op", value=x,
                     seed=s) for s, x in ((1, 100.0), (2, 104.0))]
    rows += [make_row(v2, "bench_null", {}, mode="icount", metric="insns_per_op", value=90.0)]
    rows += [make_row(v3, "bench_null", {}, mode="wall", metric="ns_per_op", value=x,
                      repetition=k, seed=k + 1) for k, x in enumerate((500.0, 900.0))]
    d = registry.seed_mean(make_frame(rows))
    ic = d[(d["mode"] == "icount")].set_index("variant")["value"].to_dict()
    assert ic == {"s3-asid": 102.0, "s2-asid": 90.0}
    assert sorted(d[d["mode"] == "wall"]["value"]) == [500.0, 900.0]


def test_merge_equal_and_coincide() -> None:
    a = {1.0: 10.0, 2.0: 20.0}
    merged = style.merge_equal({"s2-asid": a, "s3-asid": dict(a), "s1-asid": {1.0: 11.0,
                                                                               2.0: 20.0}})
    assert list(merged) == ["s2-asid = s3-asid", "s1-asid"]
    # 1 % apart on an axis spanning 10..1000: indistinguishable; 30 % apart: visible
    assert style.coincide([{1.0: 10.0, 2.0: 1000.0}, {1.0: 10.1, 2.0: 1000.0}])
    assert not style.coincide([{1.0: 10.0, 2.0: 1000.0}, {1.0: 13.0, 2.0: 1000.0}])
    assert not style.coincide([{1.0: 10.0}])


def test_titles_are_one_line() -> None:
    import matplotlib.pyplot as plt
    fig = plt.figure()
    with pytest.raises(ValueError):
        style.title(fig, "a\nb")
    with pytest.raises(ValueError):
        style.title(fig, "x" * 121)
    plt.close(fig)


def test_coinciding_panel_dropped(tmp_path: Path) -> None:
    """bench_ctx's net lines within a few instructions of each other on a 300..2300 axis: the
    absolute panel is dropped (one axes left), the difference to scheme 2 drawn."""
    import matplotlib.pyplot as plt
    from harness.plots.micro import curve_figure
    made: List[int] = []
    orig = style.save

    def spy(fig, path):  # count the panels of the figure as saved
        made.append(len(fig.axes))
        return orig(fig, path)
    ins = {"s1-asid": {0.0: 307.0, 256.0: 2300.0}, "s2-asid": {0.0: 290.0, 256.0: 2290.0}}
    import harness.plots.micro as micro
    micro.save, keep = spy, micro.save
    try:
        curve_figure(ins, unit_label="switch", xlabel="ws", title_text="t", path=tmp_path / "a.png",
                     net=True, symlog_x=True)
        curve_figure({"s1-asid": {8.0: 650.0, 64.0: 9e4}, "s2-asid": {8.0: 400.0, 64.0: 9e4}},
                     unit_label="copy", xlabel="size", title_text="t", path=tmp_path / "b.png")
    finally:
        micro.save = keep
    plt.close("all")
    assert made == [1, 2]


def test_bootstrap_interval() -> None:
    lo, hi = bootstrap_median_ci([5.0, 5.0, 5.0])
    assert lo == hi == 5.0
    xs = [float(x) for x in range(1, 30)] + [1000.0]
    lo, hi = bootstrap_median_ci(xs)
    assert lo <= 15.5 <= hi and (lo, hi) == bootstrap_median_ci(xs)   # fixed seed
    assert hi < 30.0  # the outlier moves the mean, not the median's interval


def test_report_draws_new_plots_on_the_committed_csv(committed: pd.DataFrame,
                                                      tmp_path: Path) -> None:
    """The committed CSV: verdict ratios, the modelled-cycle breakdown and the wall points are
    drawn; robustness.csv absent: the matrix is skipped with the reason; the crossover curves
    are drawn exactly when some modelled ratio crosses 1 in range (crossing_panels says)."""
    out = tmp_path / "plots"
    written, skipped = plots.make_plots(committed, out)
    names = {p.name for p in written}
    assert {"verdict_ratios.png", "cost_breakdown.png", "wall_repetitions.png",
            "mix_tlb_misses_per_access.png"} <= names, skipped
    assert any(s.startswith("robustness matrix: no robustness.csv") for s in skipped)
    from harness.plots.crossover import crossing_panels, crossover_rows
    if crossing_panels(crossover_rows(committed)):
        assert "crossover_curves.png" in names, skipped
    else:
        assert any(s.startswith("crossover curves: no modelled ratio crosses 1") for s in skipped)
    assert len(written) + len(skipped) == len(plots.PLOTS)


def test_cost_breakdown_is_the_seed_mean_and_sums_to_the_model(committed: pd.DataFrame) -> None:
    """The breakdown drawn for scheme 3 (from the seed-mean rows) equals the mean of the
    per-seed breakdowns (the model is linear in the counts), and its parts add up to the cost
    model's total."""
    from harness.report.costmodel import breakdown, total
    d = registry.by_file("cost_breakdown.png").data(committed)
    got = breakdown(d, "s3-asid", "c906", "bench_ctx", "procs=2,ws_kb=0")
    per_seed = []
    for s in range(1, 6):
        sub = committed[(committed["variant"] != "s3-asid") | (committed["kaslr_seed"] == s)]
        per_seed.append(breakdown(sub, "s3-asid", "c906", "bench_ctx", "procs=2,ws_kb=0"))
    assert set(got) == set(registry_parts())
    for k in got:
        assert got[k] == pytest.approx(sum(b[k] for b in per_seed) / 5)
    assert sum(got.values()) == pytest.approx(
        total(committed, "s3-asid", "c906", "bench_ctx", "procs=2,ws_kb=0"))


def registry_parts() -> Tuple[str, ...]:
    from harness.plots.verdicts import BREAKDOWN_PARTS
    return BREAKDOWN_PARTS


def test_cost_breakdown_skipped_clearly_without_the_cost_model(
        committed: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "harness.report.costmodel", None)  # import fails
    p = registry.by_file("cost_breakdown.png")
    small = committed[committed["bench"] == "bench_null"]
    with pytest.raises(registry.Skip, match="harness.report.costmodel is not available"):
        p.draw(p.data(small), tmp_path)


def test_robustness_matrix(tmp_path: Path) -> None:
    (tmp_path / "robustness.csv").write_text(
        "row,choice,value,verdict\nlatency,default,,partly\nlatency,tie band,0 %,agree\n"
        "tlb,default,,agree\ntlb,workload,kv,disagree\n")
    p = registry.by_file("robustness_matrix.png")
    d = p.data(pd.DataFrame(), tmp_path)
    assert list(d["verdict"]) == ["partly", "agree", "agree", "disagree"]
    assert p.draw(d, tmp_path / "plots") == tmp_path / "plots" / "robustness_matrix.png"
    (tmp_path / "robustness.csv").write_text("row,choice\nx,y\n")
    with pytest.raises(registry.Skip, match="columns"):
        p.data(pd.DataFrame(), tmp_path)


def test_crossover_curves_only_where_a_ratio_crosses(tmp_path: Path) -> None:
    """The synthetic frame: S1/S2 with ASIDs crosses 1 at a satp cost of 15 (tlb64); S3/S2
    never does: one panel."""
    from harness.plots.crossover import crossing_panels
    from harness.tests.test_table import synthetic
    df, _ = synthetic()
    d = registry.by_file("crossover_curves.png").data(df)
    found = crossing_panels(d)
    assert [(w.key, panel, pair) for w, panel, pair, _ in found] == [("tlb64", "asid", (1, 2))]
    written, _ = plots.make_plots(df, tmp_path)
    assert "crossover_curves.png" in {p.name for p in written}


def test_plot_modules_stay_off_the_run_side() -> None:
    """No plot module imports the run side, nor re-parses the params string."""
    banned = {"measure", "dist", "qemu", "build", "sweep", "outputs", "cli"}
    for f in (ROOT / "harness" / "plots").glob("*.py"):
        tree = ast.parse(f.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                mods = [(node.module or "")] + [a.name for a in node.names]
                assert not banned & {m.split(".")[-1] for m in mods}, (f.name, mods)
            if isinstance(node, ast.Name):
                assert node.id != "parse_params", f.name
            if isinstance(node, ast.Attribute):
                assert node.attr != "parse_params", f.name


def test_verdict_ratios_from_the_csv(committed: pd.DataFrame) -> None:
    """S1/S2 and S3/S2 per dimension: the null call's instructions straight from the CSV; the
    model rows geometric means over one workload set; without scheme 3 only S1/S2 is drawn."""
    from harness.plots.verdicts import dimension_ratios
    p = registry.by_file("verdict_ratios.png")
    dims = {label: (r, per) for label, r, per in dimension_ratios(p.data(committed))}
    null = committed[(committed["bench"] == "bench_null") & (committed["mode"] == "icount")
                     & (committed["metric"] == "insns_per_op")]
    ins = {v: null[null["variant"] == v]["value"].mean() for v in ("s1-asid", "s2-asid",
                                                                    "s3-asid")}
    r, _ = dims["latency: null-call instructions"]
    assert r == pytest.approx({"S1/S2": ins["s1-asid"] / ins["s2-asid"],
                               "S3/S2": ins["s3-asid"] / ins["s2-asid"]})
    perf = next(v for k, v in dims.items() if k.startswith("performance"))
    assert len(perf[1]["S1/S2"]) == len(perf[1]["S3/S2"]) >= 5
    import math
    assert perf[0]["S1/S2"] == pytest.approx(
        math.exp(sum(map(math.log, perf[1]["S1/S2"])) / len(perf[1]["S1/S2"])))
    no3 = committed[~committed["variant"].str.startswith("s3-")]
    for _, r, _ in dimension_ratios(p.data(no3)):
        assert set(r) == {"S1/S2"}


def test_verdict_ratios_use_the_tables_scores(committed: pd.DataFrame) -> None:
    """With harness/report present and the committed facts, the rows are the table's own
    scores: latency's S1/S2 is the null call's instruction ratio; security is not a ratio."""
    from harness.plots.verdicts import load_facts, table_ratios
    facts = load_facts(ROOT / "results")
    assert facts is not None
    rows = table_ratios(registry.by_file("verdict_ratios.png").data(committed), facts)
    assert rows is not None
    by = {label.split(":")[0]: (r, per, tol, word) for label, r, per, tol, word in rows}
    assert "security" not in by and {"latency", "switch", "performance", "tlb"} <= set(by)
    null = committed[(committed["bench"] == "bench_null") & (committed["mode"] == "icount")
                     & (committed["metric"] == "insns_per_op")]
    s1, s2 = (null[null["variant"] == v]["value"].mean() for v in ("s1-asid", "s2-asid"))
    assert by["latency"][0]["S1/S2"] == pytest.approx(s1 / s2)
    assert by["latency"][2] == 0.02 and by["latency"][3] in {"agree", "partly", "disagree"}
    assert len(by["tlb"][1]["S1/S2"]) >= 5   # each workload alone, the same set for S3
    assert len(by["tlb"][1]["S1/S2"]) == len(by["tlb"][1]["S3/S2"])
