"""Parsing the console output of the benchmarks and probes.

Recognised lines (anything else on the console is ignored):
  @bench {json}          one measurement (keys: bench, params, iters, ns_per_op, insns_per_op,
                         satp_per_op, sfence_per_op, traps_per_op, switches_per_op, check="ok";
                         params values are ints or names like "lat"; any extra numeric key,
                         e.g. bench_fault's "faults", is kept as a value)
  @bench-error <reason>  the benchmark found a wrong result: the run is an error
  @mem {json}            optional: {"pt_pages": N, "pt_pages_kernel": K} of the calling process
  @slot 0x...            kaslr_probe: the kernel slot one process sees
  @kaslr {json}          optional: {"slots": N, "entropy_bits": x} as the kernel documents them
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

from .errors import BenchParseError

REQUIRED_NUMBERS = ("iters", "ns_per_op", "insns_per_op", "satp_per_op", "sfence_per_op",
                    "traps_per_op", "switches_per_op")
COUNTER_METRICS = ("satp_per_op", "sfence_per_op", "traps_per_op", "switches_per_op")
WALL_METRIC = "ns_per_op"

_MARK = re.compile(r"(?:^|\s)@(bench-error|bench|mem|slot|kaslr)(?=\s|$)(.*)$")


@dataclass
class BenchRecord:
    bench: str
    params: Dict[str, Union[int, str]]  # ints, or names such as {"mode": "lat"}
    values: Dict[str, float]  # every numeric key: the required ones plus any extra ones
    line: int                 # 1-based console line number


@dataclass
class ConsoleOutput:
    benches: List[BenchRecord] = field(default_factory=list)
    mem: Optional[Dict[str, float]] = None
    slots: List[int] = field(default_factory=list)
    kaslr: Optional[Dict[str, float]] = None


@dataclass
class Context:
    """Who produced the text: named in every error."""
    variant: str
    command: Union[str, Sequence[str]]
    log: Optional[Path]

    def error(self, reason: str) -> BenchParseError:
        return BenchParseError(reason, variant=self.variant, command=self.command, log=self.log)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def _is_param_value(v: Any) -> bool:
    """A parameter is an int or a name such as "lat" or "getpid" (never a float or a bool, and
    no character that the tidy params string uses as a separator)."""
    if isinstance(v, bool):
        return False
    return isinstance(v, int) or (isinstance(v, str) and bool(_PARAM_NAME.match(v)))


def _json_object(payload: str, what: str, lineno: int, ctx: Context) -> Dict[str, Any]:
    try:
        obj = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise ctx.error(f"console line {lineno}: malformed {what} JSON ({exc.msg}): "
                        f"{payload.strip()[:200]!r}") from None
    if not isinstance(obj, dict):
        raise ctx.error(f"console line {lineno}: {what} payload is not a JSON object: "
                        f"{payload.strip()[:200]!r}")
    return obj


def _bench_record(obj: Dict[str, Any], lineno: int, ctx: Context) -> BenchRecord:
    missing = [k for k in ("bench", "params", *REQUIRED_NUMBERS, "check") if k not in obj]
    if missing:
        raise ctx.error(f"console line {lineno}: @bench line lacks key(s) {', '.join(missing)}")
    if not isinstance(obj["bench"], str) or not obj["bench"]:
        raise ctx.error(f"console line {lineno}: @bench key 'bench' is not a non-empty string")
    params = obj["params"]
    if not isinstance(params, dict) or not all(
            isinstance(k, str) and _is_param_value(v) for k, v in params.items()):
        raise ctx.error(f"console line {lineno}: @bench 'params' must be an object of ints "
                        f"and names (strings of letters, digits, '_' and '-'), got {params!r}")
    bad = [k for k in REQUIRED_NUMBERS if not _is_number(obj[k])]
    if bad:
        raise ctx.error(f"console line {lineno}: @bench key(s) {', '.join(bad)} not finite "
                        f"numbers")
    if obj["check"] != "ok":
        raise ctx.error(f"console line {lineno}: {obj['bench']} reports check="
                        f"{obj['check']!r} (not 'ok')")
    values = {k: float(v) for k, v in obj.items()
              if k not in ("bench", "params", "check") and _is_number(v)}
    return BenchRecord(bench=obj["bench"], params=dict(params), values=values, line=lineno)


def parse_console(text: str, ctx: Context) -> ConsoleOutput:
    """Every recognised line of a console log; raises BenchParseError for a malformed one and
    for @bench-error. Does not require any line to be present (see parse_bench_output)."""
    out = ConsoleOutput()
    for lineno, raw in enumerate(text.replace("\r", "").split("\n"), start=1):
        m = _MARK.search(raw)
        if not m:
            continue
        kind, rest = m.group(1), m.group(2)
        if kind == "bench-error":
            raise ctx.error(f"console line {lineno}: the benchmark reports a wrong result: "
                            f"@bench-error{rest}")
        if kind == "bench":
            out.benches.append(_bench_record(_json_object(rest, "@bench", lineno, ctx),
                                             lineno, ctx))
        elif kind == "mem":
            obj = _json_object(rest, "@mem", lineno, ctx)
            nums = {k: float(v) for k, v in obj.items() if _is_number(v)}
            if "pt_pages" not in nums:
                raise ctx.error(f"console line {lineno}: @mem line lacks a numeric 'pt_pages'")
            # a gauge: keep the largest value seen in the run
            if out.mem is None:
                out.mem = nums
            else:
                for k, v in nums.items():
                    out.mem[k] = max(out.mem.get(k, v), v)
        elif kind == "slot":
            tok = rest.split()
            try:
                if not tok:
                    raise ValueError("empty")
                out.slots.append(int(tok[0], 16))
            except ValueError:
                raise ctx.error(f"console line {lineno}: malformed @slot line: "
                                f"{raw.strip()[:200]!r}") from None
        elif kind == "kaslr":
            obj = _json_object(rest, "@kaslr", lineno, ctx)
            out.kaslr = {k: float(v) for k, v in obj.items() if _is_number(v)}
    return out


def parse_bench_output(text: str, ctx: Context, *, min_lines: int = 1) -> ConsoleOutput:
    """A benchmark's console: at least `min_lines` valid @bench lines, no @bench-error."""
    out = parse_console(text, ctx)
    if not out.benches:
        raise ctx.error("no @bench lines in the console output")
    if len(out.benches) < min_lines:
        raise ctx.error(f"only {len(out.benches)} @bench line(s), expected at least {min_lines}")
    seen: Dict[tuple, int] = {}
    for rec in out.benches:
        key = (rec.bench, tuple(sorted(rec.params.items())))
        if key in seen:
            raise ctx.error(f"console line {rec.line}: duplicate measurement of {rec.bench} "
                            f"{dict(key[1])} (first on line {seen[key]})")
        seen[key] = rec.line
    return out


def parse_kaslr_output(text: str, ctx: Context, *, processes: int) -> ConsoleOutput:
    """kaslr_probe's console: exactly one @slot line per process."""
    out = parse_console(text, ctx)
    if len(out.slots) != processes:
        raise ctx.error(f"expected {processes} @slot lines (one per process), "
                        f"found {len(out.slots)}")
    return out
