"""`harness sweep FILE`: a declarative sweep (configs/sweeps/*.toml) expanded into points, each
one deterministic run (an -icount run, or a TLB-model run under one preset), run on the dask
engine (harness/dist.py) and stored as it finishes, so a rerun measures only what is missing.

A sweep file:

    description = "what the sweep asks"
    quick = true                 # the benchmarks' --quick arguments (default false)
    timeout = 120                # seconds per QEMU run (default the harness's)

    [dimensions]                 # the cartesian product of these is the set of points
    variant = ["s1-asid", "s2-asid"]          # required: declared names or NAME:DEFCONFIG+OPT=VAL
    config = ["", "TIMER_HZ=1000"]            # Kconfig settings on top of each variant ("": none;
                                              # several: "TIMER_HZ=1000+NPROC=64"); the point's
                                              # variant is then named s1-asid+TIMER_HZ=1000
    bench = ["bench_null", "bench_ctx"]       # required
    tlb = ["none", "c906"]       # "none": a plain -icount run; else a TLB-model preset
    kaslr_seed = [1, 2]          # scheme-3 variants only (others run once, unseeded)

    [args]                       # optional: a benchmark's arguments instead of its defaults
    bench_null = ["500"]

Points whose benchmark the variant does not run (benchspec.runs_in) are left out.

Output directory (default build/sweeps/<file stem>/):

    points/<key>.json   one per measured point: its parameters, its tidy rows, its log
    logs/...            the console logs (and TLB reports) of the runs
    sweep.csv           the tidy rows of every point of the sweep, with a `point` column
    failures.json       the points that failed in the last run (measured again next time)

A point's key is a hash of its parameters, the benchmark's arguments, the harness commit and
the SHA-256 of the kernel image (and plugin) it runs: a rerun at the same commit skips the
points already stored; a changed kernel or commit measures them again.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import pandas as pd

from .benchspec import BENCH_BY_NAME, TLB_BENCH_BY_NAME, BenchSpec, runs_in
from .build import variant_dir
from .errors import HarnessError, UserError
from .measure import RunOptions, measure_tlb, run_bench, run_pool
from .tidy import make_frame, rows_from_output
from .tlb import PLUGIN, PRESETS
from .variants import REPO_DEFAULT, Variant, variant_by_name, with_harts, with_settings

NO_TLB = "none"
DIMENSIONS = ("variant", "config", "harts", "bench", "tlb", "kaslr_seed")
TOP_KEYS = {"description", "quick", "timeout", "dimensions", "args"}


@dataclass(frozen=True)
class Sweep:
    name: str
    description: str
    quick: bool
    timeout: Optional[float]
    variants: Tuple[Variant, ...]    # with the config dimension applied
    benches: Tuple[str, ...]
    tlb: Tuple[str, ...]
    kaslr_seeds: Tuple[int, ...]
    args: Mapping[str, Tuple[str, ...]]


@dataclass(frozen=True)
class Point:
    variant: Variant
    bench: str
    tlb: str                 # NO_TLB or a preset
    kaslr_seed: Optional[int]
    argv: Tuple[str, ...]    # the benchmark's arguments

    @property
    def params(self) -> Dict[str, Any]:
        return {"variant": self.variant.name, "config": self.variant.config_string,
                "harts": self.variant.harts,
                "bench": self.bench, "tlb": self.tlb,
                "kaslr_seed": self.kaslr_seed, "argv": list(self.argv)}

    @property
    def label(self) -> str:
        seed = "" if self.kaslr_seed is None else f" seed {self.kaslr_seed}"
        tlb = "" if self.tlb == NO_TLB else f" (TLB model, {self.tlb})"
        return f"{self.variant.name} {self.bench}{tlb}{seed}"


def _list(table: Mapping[str, Any], key: str, kind: type, where: str,
          required: bool = True) -> List[Any]:
    if key not in table:
        if required:
            raise UserError(f"{where}: [dimensions] needs `{key}` (a list)")
        return []
    v = table[key]
    if not isinstance(v, list) or not v:
        raise UserError(f"{where}: [dimensions] {key} must be a non-empty list, not {v!r}")
    for x in v:
        if not isinstance(x, kind) or isinstance(x, bool):
            raise UserError(f"{where}: [dimensions] {key}: {x!r} is not a {kind.__name__}")
    if len(set(v)) != len(v):
        raise UserError(f"{where}: [dimensions] {key} lists a value twice")
    return v


def load_sweep(path: Path, root: Path = REPO_DEFAULT) -> Sweep:
    """Read and check a sweep file; every mistake is a UserError naming the file."""
    where = str(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise UserError(f"{where}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{where}: not valid TOML ({exc})") from None
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise UserError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: "
                        f"{', '.join(sorted(TOP_KEYS))})")
    dims = data.get("dimensions")
    if not isinstance(dims, dict):
        raise UserError(f"{where}: no [dimensions] table")
    extra = set(dims) - set(DIMENSIONS)
    if extra:
        raise UserError(f"{where}: unknown dimension(s) {', '.join(sorted(extra))} (known: "
                        f"{', '.join(DIMENSIONS)})")
    names = _list(dims, "variant", str, where)
    configs = _list(dims, "config", str, where, required=False) or [""]
    harts = _list(dims, "harts", int, where, required=False) or [None]
    variants = []
    for n in names:
        try:
            base = variant_by_name(n, root)
            for c in configs:
                v = with_settings(base, [x for x in c.split("+") if x.strip()])
                # no harts dimension: each variant's own count (1 unless variants.toml says)
                variants.extend(with_harts(v, h) if h is not None else v for h in harts)
        except UserError as exc:
            raise UserError(f"{where}: {exc}") from None
    benches = _list(dims, "bench", str, where)
    for b in benches:
        if b not in BENCH_BY_NAME:
            raise UserError(f"{where}: unknown benchmark {b!r} (known: "
                            f"{', '.join(BENCH_BY_NAME)})")
    tlb = _list(dims, "tlb", str, where, required=False) or [NO_TLB]
    for t in tlb:
        if t != NO_TLB and t not in PRESETS:
            raise UserError(f"{where}: tlb {t!r} is neither \"{NO_TLB}\" nor a preset (known: "
                            f"{', '.join(PRESETS)})")
    seeds = _list(dims, "kaslr_seed", int, where, required=False)
    if any(s < 0 for s in seeds):
        raise UserError(f"{where}: a kaslr_seed is a non-negative integer")
    args: Dict[str, Tuple[str, ...]] = {}
    for b, a in (data.get("args") or {}).items():
        if b not in benches:
            raise UserError(f"{where}: [args] {b}: not one of the sweep's benchmarks")
        if not isinstance(a, list) or not all(isinstance(x, (str, int)) for x in a):
            raise UserError(f"{where}: [args] {b} must be a list of arguments")
        args[b] = tuple(str(x) for x in a)
    quick = data.get("quick", False)
    if not isinstance(quick, bool):
        raise UserError(f"{where}: quick must be true or false")
    timeout = data.get("timeout")
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
        raise UserError(f"{where}: timeout must be a positive number of seconds")
    return Sweep(name=path.stem, description=str(data.get("description", "")), quick=quick,
                 timeout=None if timeout is None else float(timeout),
                 variants=tuple(variants), benches=tuple(benches), tlb=tuple(tlb),
                 kaslr_seeds=tuple(seeds), args=args)


def bench_argv(sweep: Sweep, bench: str, tlb: str) -> Tuple[str, ...]:
    if bench in sweep.args:
        return sweep.args[bench]
    spec = TLB_BENCH_BY_NAME.get(bench) if tlb != NO_TLB else None
    return (spec or BENCH_BY_NAME[bench]).argv(sweep.quick)


def expand(sweep: Sweep) -> List[Point]:
    """The sweep's points, in a stable order."""
    points = []
    for v, bench, tlb in itertools.product(sweep.variants, sweep.benches, sweep.tlb):
        if not runs_in(BENCH_BY_NAME[bench], v):
            continue
        seeds: Sequence[Optional[int]] = (sweep.kaslr_seeds if v.scheme == 3 and sweep.kaslr_seeds
                                          else [None])
        for seed in seeds:
            points.append(Point(v, bench, tlb, seed, bench_argv(sweep, bench, tlb)))
    return points


def file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def point_key(point: Point, *, commit: Optional[str], kernel_sha: str,
              plugin_sha: Optional[str]) -> str:
    """`commit`: the harness's commit and source hash (harness.dist.identity)."""
    ident = {"params": point.params, "commit": commit, "kernel": kernel_sha,
             "plugin": plugin_sha if point.tlb != NO_TLB else None}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:20]


def _spec(point: Point) -> BenchSpec:
    base = TLB_BENCH_BY_NAME.get(point.bench) if point.tlb != NO_TLB else None
    base = base or BENCH_BY_NAME[point.bench]
    # the point's arguments, whatever the sweep said; a changed argument list may print any
    # number of lines, so only one is required
    return dataclasses.replace(base, args=point.argv, quick_args=point.argv, min_lines=1,
                               quick_min_lines=1)


def measure_point(point: Point, opts: RunOptions) -> List[Dict[str, Any]]:
    """One point's run: tidy rows (mode icount, or tlb with the preset)."""
    spec = _spec(point)
    if point.tlb == NO_TLB:
        _, out = run_bench(point.variant, spec, opts, mode="icount", rep=0,
                           seed=point.kaslr_seed)
        return rows_from_output(point.variant, spec.prog, out, mode="icount", repetition=0,
                                seed=point.kaslr_seed)
    seeded = dataclasses.replace(opts, kaslr_seeds=() if point.kaslr_seed is None
                                 else (point.kaslr_seed,))
    return measure_tlb(point.variant, spec, point.tlb, seeded)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@dataclass
class SweepReport:
    points: int
    skipped: int
    measured: int
    failed: List[Tuple[str, str]]
    csv: Path
    seconds: float


def run_sweep(sweep: Sweep, points: Sequence[Point], keys: Mapping[Point, str],
              opts: RunOptions, out: Path,
              say: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> SweepReport:
    """Measure the points not yet stored under out/points (in parallel, one thread per engine
    slot: measure.run_pool), store each as it finishes, then write sweep.csv from every point
    of the sweep."""
    start = time.monotonic()
    pdir = out / "points"
    pdir.mkdir(parents=True, exist_ok=True)
    todo = [p for p in points if not (pdir / f"{keys[p]}.json").is_file()]
    say(f"sweep {sweep.name}: {len(points)} points, {len(points) - len(todo)} already measured "
        f"(skipped), {len(todo)} to run")
    failed: List[Tuple[str, str]] = []

    def done(p: Point, rows: List[Dict[str, Any]]) -> None:
        record = {"key": keys[p], "params": p.params, "rows": rows}
        _atomic_write(pdir / f"{keys[p]}.json", json.dumps(record, sort_keys=True, default=str))

    def fail(p: Point, exc: HarnessError) -> None:
        failed.append((p.label, str(exc)))
        say(f"FAILED {p.label}:\n{exc}")

    run_pool(todo, lambda p: measure_point(p, opts), opts, on_done=done, on_failed=fail,
             label=lambda p: p.label, desc="points", unit="point")
    if failed:
        _atomic_write(out / "failures.json", json.dumps(
            [{"point": lbl, "error": err} for lbl, err in failed], indent=1))
    else:
        (out / "failures.json").unlink(missing_ok=True)
    csv = write_csv(points, keys, out)
    return SweepReport(points=len(points), skipped=len(points) - len(todo),
                       measured=len(todo) - len(failed), failed=failed, csv=csv,
                       seconds=time.monotonic() - start)


def write_csv(points: Sequence[Point], keys: Mapping[Point, str], out: Path) -> Path:
    """sweep.csv: the stored rows of the sweep's points (not of other commits' points)."""
    frames = []
    for p in points:
        f = out / "points" / f"{keys[p]}.json"
        if not f.is_file():
            continue
        rows = json.loads(f.read_text())["rows"]
        df = make_frame(rows)
        df.insert(0, "point", keys[p])
        frames.append(df)
    csv = out / "sweep.csv"
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    _atomic_write(csv, df.to_csv(index=False))
    return csv


def prepare(sweep: Sweep, repo: Path, *, commit: Optional[str]) -> Tuple[List[Point],
                                                                        Dict[Point, str]]:
    """The points and their keys (the kernels and the plugin must be built)."""
    points = expand(sweep)
    shas: Dict[str, str] = {}
    for p in points:
        if p.variant.name not in shas:
            shas[p.variant.name] = file_sha(repo / variant_dir(p.variant) / "kernel.elf")
    plugin_sha = (file_sha(repo / PLUGIN) if any(p.tlb != NO_TLB for p in points) else None)
    keys = {p: point_key(p, commit=commit, kernel_sha=shas[p.variant.name],
                         plugin_sha=plugin_sha) for p in points}
    return points, keys
