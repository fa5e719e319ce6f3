"""The tidy table: CSV round trip, dtypes, never mixing icount and wall values."""
from __future__ import annotations

import pytest
from pathlib import Path

import pandas as pd
import pandas.testing as pdt

from harness.parse import Context, parse_bench_output
from harness.tidy import (make_frame, params_string, read_csv, rows_from_output, wall_summary,
                          write_csv)
from harness.variants import variant_by_name

from .conftest import FIXTURES
from .test_parse import GOOD, line

pytestmark = pytest.mark.unit


def test_params_string_is_stable() -> None:
    assert params_string({"ws_kb": 4, "procs": 2}) == "procs=2,ws_kb=4"
    assert params_string({}) == ""


def parsed_frame() -> pd.DataFrame:
    ctx = Context("s1-noasid", ["q"], Path("x.log"))
    v = variant_by_name("s1-noasid")
    rows = []
    out = parse_bench_output(GOOD, ctx)
    rows += rows_from_output(v, "bench_copy", out, mode="icount", repetition=0)
    for rep in range(3):
        rows += rows_from_output(v, "bench_copy", out, mode="wall", repetition=rep)
    null = parse_bench_output(line(bench="bench_null", params="{}"), ctx)
    rows += rows_from_output(v, "bench_null", null, mode="icount", repetition=0)
    return make_frame(rows)


def test_round_trip(tmp_path: Path) -> None:
    df = parsed_frame()
    assert list(df.columns) == ["variant", "scheme", "asid", "kmap", "paging", "harts", "config", "bench",
                                "params", "param_size", "mode", "preset", "kaslr_seed",
                                "metric", "value", "unit", "repetition"]
    assert set(df["paging"]) == {"eager-copy"}
    assert df["kaslr_seed"].isna().all()  # only scheme-3 runs are seeded
    assert set(df["kmap"]) == {"2M"}
    units = dict(zip(df["metric"], df["unit"]))
    assert units["ns_per_op"] == "ns" and units["insns_per_op"] == "instructions"
    assert units["satp_per_op"] == "count" and units["iters"] == "count"
    assert set(df["preset"]) == {""}  # only tlb rows have a preset
    path = tmp_path / "m.csv"
    write_csv(df, path)
    back = read_csv(path)
    pdt.assert_frame_equal(df, back)
    # rows without params: empty params string and a missing (NA) param column
    null = back[back["bench"] == "bench_null"]
    assert (null["params"] == "").all() and null["param_size"].isna().all()
    assert str(back["param_size"].dtype) == "Int64"
    assert back["asid"].dtype == bool and not back["asid"].any()


def test_old_table_without_kmap_and_unit(tmp_path: Path) -> None:
    """A CSV written before the kmap and unit columns existed reads with them derived."""
    df = parsed_frame()
    old = tmp_path / "old.csv"
    df.drop(columns=["kmap", "unit", "kaslr_seed"]).to_csv(old, index=False)
    back = read_csv(old)
    pdt.assert_frame_equal(df, back)
    v4 = make_frame(rows_from_output(variant_by_name("s2-asid-4k"), "bench_null",
                                     parse_bench_output(line(bench="bench_null", params="{}"),
                                                        Context("s2-asid-4k", ["q"], None)),
                                     mode="icount", repetition=0))
    assert set(v4["kmap"]) == {"4K"}


def test_fixture_round_trip(tmp_path: Path) -> None:
    df = read_csv(FIXTURES / "measurements.csv")
    write_csv(df, tmp_path / "again.csv")
    pdt.assert_frame_equal(df, read_csv(tmp_path / "again.csv"))


def test_modes_never_mixed(fixture_df: pd.DataFrame) -> None:
    wall = fixture_df[fixture_df["mode"] == "wall"]
    ic = fixture_df[fixture_df["mode"] == "icount"]
    tlb = fixture_df[fixture_df["mode"] == "tlb"]
    assert set(wall["metric"]) == {"ns_per_op"}
    assert "ns_per_op" not in set(ic["metric"])
    assert (ic["repetition"] == 0).all()
    assert set(fixture_df["mode"]) == {"icount", "wall", "tlb"}
    assert set(tlb["preset"]) == {"u54"} and set(ic["preset"]) | set(wall["preset"]) == {""}
    assert not (set(tlb["metric"]) - {"iters"}) & (set(ic["metric"]) | set(wall["metric"]))


def test_wall_summary(fixture_df: pd.DataFrame) -> None:
    s = wall_summary(fixture_df)
    row = s[(s["variant"] == "s1-asid") & (s["bench"] == "bench_null")].iloc[0]
    assert (row["median"], row["min"], row["max"], row["n"]) == (1210, 1190, 1250, 3)


def test_empty_frame() -> None:
    df = make_frame([])
    assert df.empty and "metric" in df.columns
