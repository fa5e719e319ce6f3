"""Source-size counting, trap.S per-scheme part, slot-entropy helpers."""
from __future__ import annotations

import pytest
from pathlib import Path

from harness.facts import (varying_bits, count_code_lines, documented_slots,
                           read_dotconfig, trap_specific_lines)

pytestmark = pytest.mark.unit

CPP = """// header comment
#include "x.hpp"

/* block
   comment */ int a = 1;
int b; // trailing comment counts as code
   /* one-line block */
namespace x {  }
"""


def test_cpp_lines() -> None:
    assert count_code_lines(CPP) == 4  # #include, int a (after the block), int b, namespace


def test_asm_lines() -> None:
    text = "# a comment\n#include \"t.h\"\n#define X 1\n\n  csrw satp, t0  # why\n// c\n"
    assert count_code_lines(text, asm=True) == 3


COMMON = ".globl trap_entry\ntrap_entry:\n  csrrw sp, sscratch, sp\n  sret\n"


def test_trap_specific_by_difference() -> None:
    s1 = COMMON + "  csrw satp, t0\n  sfence.vma zero, zero\n"
    got = trap_specific_lines({"s1-asid": s1, "s2-asid": COMMON, "s3-asid": COMMON + "  nop\n"})
    assert got["s1-asid"][0] == 2 and got["s2-asid"][0] == 0 and got["s3-asid"][0] == 1
    assert "not common" in got["s1-asid"][1]


def test_trap_specific_markers_and_single_file() -> None:
    marked = COMMON + "# @scheme-begin\n  csrw satp, t0\n# note\n# @scheme-end\n  ret\n"
    got = trap_specific_lines({"a": marked, "b": COMMON})
    assert got["a"] == (1, "lines between @scheme-begin/@scheme-end markers")
    only = trap_specific_lines({"a": COMMON})
    assert only["a"][0] == 4 and "whole file" in only["a"][1]


def test_varying_bits() -> None:
    base = 0xFFFFFFC000000000
    slot = lambda i: hex(base + i * (2 << 20))  # noqa: E731
    bits, text = varying_bits([slot(i) for i in range(64)])  # indices 0..63: 6 bits vary
    assert bits == 6 and "6 slot-index bits" in text
    bits, _ = varying_bits([slot(5)] * 64)  # a constant: nothing varies
    assert bits == 0
    bits, _ = varying_bits([slot(0), slot(1 << 16)])  # only bit 16 varies
    assert bits == 1
    bits, text = varying_bits([slot(1), hex(base + 4096)])  # not 2 MiB-aligned
    assert bits == 0 and "aligned" in text
    assert varying_bits([slot(1)])[0] is None

def test_dotconfig_and_documented_slots(tmp_path: Path) -> None:
    p = tmp_path / ".config"
    p.write_text("CONFIG_SCHEME=3\n# CONFIG_ASID is not set\nCONFIG_KERNEL_WINDOW_RAM_MB=512\n"
                 'CONFIG_INIT_DEFAULT="sh"\n')
    cfg = read_dotconfig(p)
    assert cfg == {"SCHEME": "3", "ASID": "n", "KERNEL_WINDOW_RAM_MB": "512",
                   "INIT_DEFAULT": "sh"}
    assert documented_slots(cfg) == 130302  # (255 GiB - 518 MiB window) / 2 MiB + 1: 16.99 bits
    assert documented_slots({}) is None
