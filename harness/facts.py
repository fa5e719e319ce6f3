"""Facts that are not per-op measurements: which variants were built, source-code size of each
scheme, kernel-layout facts from the kaslr probe. Stored as results/facts.json, a plain dict:

{"variants": {"<name>": {
    "scheme": 1, "asid": true, "built": true, "build_log": "...", "build_error": null,
    "kernel_mapped_in_user": false,        # by the scheme's design (Kconfig help)
    "kaslr": null | {"processes": 64, "slots": ["0x..."], "distinct": 64,
                     "kernel_slots": N|null, "kernel_entropy_bits": x|null,
                     "documented_slots": N|null, "log": "..."},
    "loc": null | {"scheme_file": "kernel/scheme/separate/scheme.cpp", "scheme_src": n|null,
                   "trap_s_total": n|null, "trap_s_specific": n|null, "trap_s_method": "..."},
    "tlb_probe": {"<preset>": {"probe_own_slot_hit": bool, "probe_other_process_hit": bool,
                               "own_slot_hits_on_kernel_entries": n, "own_slot_probes": n,
                               "other_process_hits_on_kernel_entries": n,
                               "other_process_probes": n, "preset": "...", "report": "...",
                               "log": "..."}},     # kernel_probe under the TLB model
    "run_failures": [{"bench": "...", "error": "..."}      # TLB-model runs also have
                     ]}},                                  # mode "tlb", preset, log, report
 "tlbmodel": {"enabled": bool, "presets": [...], "plugin": "build/tlbmodel/libtlbmodel.so",
              "built": bool|null, "build_command": "...", "build_log": "...",
              "build_error": null|"...", "cycle_model": {"cpi": 1, "l2_hit_cycles": 4,
                                                         "walk_ref_cycles": 20}}}
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .variants import Variant

SCHEME_SOURCES = {1: "kernel/scheme/separate/scheme.cpp", 2: "kernel/scheme/shared/scheme.cpp",
                  3: "kernel/scheme/randomized/scheme.cpp"}
# Scheme 1 maps only the trampoline and trap frame in user tables; 2 and 3 map the kernel window.
KERNEL_MAPPED_IN_USER = {1: False, 2: True, 3: True}

_CPP_DIRECTIVES = ("include", "define", "undef", "if", "ifdef", "ifndef", "elif", "else",
                   "endif", "error", "warning", "pragma", "line")
TRAP_MARK_BEGIN = re.compile(r"@scheme-begin\b")
TRAP_MARK_END = re.compile(r"@scheme-end\b")


def _strip_block_comments(text: str) -> str:
    # keep newlines so that line structure survives
    return re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)


def code_lines(text: str, *, asm: bool = False) -> List[str]:
    """Non-blank, non-comment lines (C/C++ `//` and `/* */`; in assembly also `#` comments, but
    not preprocessor directives such as #include/#define). String literals are not special-cased:
    good enough for counting."""
    out = []
    for line in _strip_block_comments(text).split("\n"):
        s = line.strip()
        if not s or s.startswith("//"):
            continue
        if asm and s.startswith("#"):
            word = s[1:].lstrip().split(maxsplit=1)
            if not word or word[0] not in _CPP_DIRECTIVES:
                continue
        if asm and s.startswith(";"):
            continue
        out.append(s)
    return out


def count_code_lines(text: str, *, asm: bool = False) -> int:
    return len(code_lines(text, asm=asm))


def trap_specific_lines(traps: Mapping[str, str]) -> Dict[str, Tuple[int, str]]:
    """The per-scheme part of each variant's generated trap.S.

    If a file marks its scheme-specific code with `@scheme-begin` / `@scheme-end` comments, the
    code lines between them are counted. Otherwise the per-scheme part is the code lines that are
    not common to every given trap.S (multiset difference against the intersection), which
    needs at least two different files; with one file the whole file is counted."""
    lines = {name: code_lines(text, asm=True) for name, text in traps.items()}
    result: Dict[str, Tuple[int, str]] = {}
    common: Optional[Counter] = None
    for ls in lines.values():
        c = Counter(ls)
        common = c if common is None else (common & c)
    distinct_files = len({tuple(ls) for ls in lines.values()})
    for name, text in traps.items():
        marked = _marked_lines(text)
        if marked is not None:
            result[name] = (marked, "lines between @scheme-begin/@scheme-end markers")
        elif distinct_files >= 2 and common is not None:
            rest = Counter(lines[name]) - common
            result[name] = (sum(rest.values()),
                            f"lines not common to the trap.S of {len(traps)} variants")
        else:
            result[name] = (len(lines[name]), "whole file (nothing to compare with)")
    return result


def _marked_lines(text: str) -> Optional[int]:
    inside = False
    count = 0
    found = False
    for line in text.split("\n"):
        if TRAP_MARK_BEGIN.search(line):
            inside, found = True, True
            continue
        if TRAP_MARK_END.search(line):
            inside = False
            continue
        if inside:
            count += count_code_lines(line, asm=True)
    return count if found else None


def read_dotconfig(path: Path) -> Dict[str, str]:
    out: Dict[str, str] = {}
    try:
        text = path.read_text()
    except OSError:
        return out
    for line in text.splitlines():
        m = re.match(r"CONFIG_(\w+)=(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip('"')
        m = re.match(r"# CONFIG_(\w+) is not set", line)
        if m:
            out[m.group(1)] = "n"
    return out


KERNEL_HALF = 0xFFFFFFC000000000
SLOT_ALIGN = 2 << 20


def documented_slots(config: Mapping[str, str]) -> Optional[int]:
    """The slot count docs/scheme3.md derives for scheme 3: (255 GiB - window) / 2 MiB + 1, the
    window being the RAM map plus the kernel stacks (NPROC * (KSTACK_PAGES + 1) pages, rounded
    up to 2 MiB) plus 2 MiB for the device page."""
    try:
        window_mb = int(config["KERNEL_WINDOW_RAM_MB"])
        nproc = int(config.get("NPROC", "128"))
        kstack_pages = int(config.get("KSTACK_PAGES", "4"))
    except (KeyError, ValueError):
        return None
    stacks = -(-nproc * (kstack_pages + 1) * 4096 // SLOT_ALIGN) * SLOT_ALIGN
    window = (window_mb << 20) + stacks + SLOT_ALIGN
    return (255 * (1 << 30) - window) // SLOT_ALIGN + 1


def varying_bits(slots: List[str]) -> Tuple[Optional[int], str]:
    """An empirical entropy check: how many bits of the slot index ((slot - kernel half) / 2 MiB)
    take both values among the observed slots. Uniform draws over 2^b slots make each of the b
    bits vary with probability 1 - 2^-(n-1) for n samples, so b varying bits are what a b-bit
    source shows; a narrower or biased source shows fewer. (A birthday estimate does not apply:
    the kernel never gives two live processes overlapping windows, so there are no collisions.)"""
    values = [int(s, 16) for s in slots]
    if len(values) < 2:
        return None, "too few samples"
    if any(v < KERNEL_HALF or (v - KERNEL_HALF) % SLOT_ALIGN for v in values):
        return 0, "a slot outside the kernel half or not 2 MiB-aligned"
    index = [(v - KERNEL_HALF) // SLOT_ALIGN for v in values]
    ones = 0
    zeros = 0
    for i in index:
        ones |= i
        zeros |= ~i
    width = max(index).bit_length()
    bits = sum(1 for b in range(width) if (ones >> b) & 1 and (zeros >> b) & 1)
    return bits, f"{bits} slot-index bits vary across {len(values)} processes"


def kaslr_facts(slots: List[int], *, processes: int, kernel: Optional[Mapping[str, float]],
                config: Mapping[str, str], log: str) -> Dict[str, Any]:
    kernel = kernel or {}
    ks = kernel.get("slots")
    kb = kernel.get("entropy_bits")
    return {
        "processes": processes,
        "slots": [hex(s) for s in slots],
        "distinct": len(set(slots)),
        "kernel_slots": int(ks) if ks is not None else None,
        "kernel_entropy_bits": float(kb) if kb is not None else None,
        "documented_slots": documented_slots(config),
        "log": log,
    }

def source_loc(repo: Path, variant: Variant, trap_specific: Optional[Tuple[int, str]],
               trap_total: Optional[int]) -> Dict[str, Any]:
    rel = SCHEME_SOURCES[variant.scheme]
    try:
        n: Optional[int] = count_code_lines((repo / rel).read_text())
    except OSError:
        n = None
    return {"scheme_file": rel, "scheme_src": n,
            "trap_s_total": trap_total,
            "trap_s_specific": trap_specific[0] if trap_specific else None,
            "trap_s_method": trap_specific[1] if trap_specific else None}


def base_variant_facts(variant: Variant) -> Dict[str, Any]:
    return {"scheme": variant.scheme, "asid": variant.asid, "built": False, "build_log": None,
            "build_error": None, "kernel_mapped_in_user": KERNEL_MAPPED_IN_USER[variant.scheme],
            "kaslr": None, "loc": None, "tlb_probe": {}, "run_failures": []}
