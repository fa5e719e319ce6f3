"""The console parser: good lines, malformed lines, errors naming variant/command/log."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import BenchParseError
from harness.parse import Context, parse_bench_output, parse_console, parse_kaslr_output
from harness.tidy import rows_from_output
from harness.variants import variant_by_name

pytestmark = pytest.mark.unit

CMD = ["qemu-system-riscv64", "-machine", "virt", "-kernel", "build/variants/s2-asid/kernel.elf",
       "-append", "init=bench_copy 2000"]
LOG = Path("results/logs/s2-asid/bench_copy-icount-0.log")
CTX = Context("s2-asid", CMD, LOG)


def line(bench: str = "bench_copy", params: str = '{"size": 4096}', **over: str) -> str:
    fields = {"iters": "2000", "ns_per_op": "812.5", "insns_per_op": "1234",
              "satp_per_op": "0", "sfence_per_op": "0", "traps_per_op": "1",
              "switches_per_op": "0", "check": '"ok"'}
    fields.update(over)
    body = ", ".join(f'"{k}": {v}' for k, v in fields.items())
    return f'@bench {{"bench": "{bench}", "params": {params}, {body}}}'


GOOD = "\r\n".join([
    "OpenSBI v1.5.1",
    "sv39lab: booting scheme 2",
    line(params='{"size": 8}'),
    "some unrelated output @benchmark-ish text",
    line(params='{"size": 4096}', extra_per_op="3.5"),
    '@mem {"pt_pages": 7, "pt_pages_kernel": 0}',
    "init exited with status 0",
]) + "\r\n"


def assert_names_context(exc: BenchParseError) -> None:
    text = str(exc)
    assert "s2-asid" in text
    assert "init=bench_copy 2000" in text  # the exact command, shell-quoted
    assert str(LOG) in text
    assert exc.variant == "s2-asid" and exc.log == LOG


def test_good_lines() -> None:
    out = parse_bench_output(GOOD, CTX, min_lines=2)
    assert [r.params for r in out.benches] == [{"size": 8}, {"size": 4096}]
    rec = out.benches[1]
    assert rec.bench == "bench_copy"
    assert rec.values["insns_per_op"] == 1234.0
    assert rec.values["ns_per_op"] == 812.5
    assert rec.values["extra_per_op"] == 3.5
    assert out.mem == {"pt_pages": 7.0, "pt_pages_kernel": 0.0}


def test_rows_split_by_mode() -> None:
    out = parse_bench_output(GOOD, CTX)
    v = variant_by_name("s2-asid")
    ic = rows_from_output(v, "bench_copy", out, mode="icount", repetition=0)
    wall = rows_from_output(v, "bench_copy", out, mode="wall", repetition=3)
    assert {r["metric"] for r in wall} == {"ns_per_op"}
    assert "ns_per_op" not in {r["metric"] for r in ic}
    assert {"insns_per_op", "satp_per_op", "sfence_per_op", "traps_per_op", "switches_per_op",
            "iters", "pt_pages", "pt_pages_kernel"} <= {r["metric"] for r in ic}
    assert all(r["repetition"] == 3 and r["mode"] == "wall" for r in wall)
    sized = [r for r in ic if r["metric"] == "insns_per_op"]
    assert [(r["params"], r["param_size"]) for r in sized] == [("size=8", 8), ("size=4096", 4096)]


@pytest.mark.parametrize("text, fragment", [
    ("boot\n@bench {not json}\n", "malformed @bench JSON"),
    ("@bench [1, 2]\n", "not a JSON object"),
    (line().replace('"insns_per_op": 1234, ', ""), "lacks key(s) insns_per_op"),
    (line().replace('"check": "ok"', '"check": "bad"'), "check='bad'"),
    (line(params='{"size": 1.5}'), "'params' must be an object of ints"),
    (line(params='{"size": true}'), "'params' must be an object of ints"),
    (line(params='{"mode": "a,b"}'), "'params' must be an object of ints"),
    (line(params='{"mode": ""}'), "'params' must be an object of ints"),
    (line(params='[8]'), "'params' must be an object of ints"),
    (line(ns_per_op='"fast"'), "ns_per_op not finite"),
    (line() + "\n@bench-error copy mismatch at byte 12\n", "@bench-error copy mismatch"),
    ("OpenSBI\ninit exited with status 0\n", "no @bench lines"),
    ("", "no @bench lines"),
    (line() + "\n" + line() + "\n", "duplicate measurement"),
    ('@mem {"pt": 3}\n' + line(), "lacks a numeric 'pt_pages'"),
])
def test_malformed(text: str, fragment: str) -> None:
    with pytest.raises(BenchParseError) as info:
        parse_bench_output(text, CTX)
    assert fragment in str(info.value)
    assert_names_context(info.value)


def test_too_few_lines() -> None:
    with pytest.raises(BenchParseError) as info:
        parse_bench_output(line(), CTX, min_lines=14)
    assert "expected at least 14" in str(info.value)
    assert_names_context(info.value)


def test_bench_error_line_number() -> None:
    with pytest.raises(BenchParseError) as info:
        parse_console("a\nb\n@bench-error wrong sum\n", CTX)
    assert "console line 3" in str(info.value)


def test_kaslr_slots() -> None:
    text = "\n".join(f"@slot {0xffffffc000000000 + i * 0x200000:#x}" for i in range(64))
    text += '\n@kaslr {"slots": 130304, "entropy_bits": 16.99}\n'
    out = parse_kaslr_output(text, CTX, processes=64)
    assert len(set(out.slots)) == 64
    assert out.kaslr == {"slots": 130304.0, "entropy_bits": 16.99}


def test_kaslr_wrong_count_and_malformed() -> None:
    with pytest.raises(BenchParseError) as info:
        parse_kaslr_output("@slot 0x1000\n", CTX, processes=64)
    assert "expected 64 @slot lines" in str(info.value)
    assert_names_context(info.value)
    with pytest.raises(BenchParseError, match="malformed @slot"):
        parse_kaslr_output("@slot zz\n", CTX, processes=1)
