"""Running the benchmarks on built variants: one icount run and `reps` wall-time runs per
(variant, benchmark), the kaslr probe on schemes 2 and 3, in a pool of `workers` threads (each
QEMU is single-threaded, so one worker per core)."""
from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import pandas as pd

from .benchspec import KASLR_PROBE, KASLR_PROCESSES, BenchSpec
from .build import BuildResult, variant_dir
from .errors import HarnessError
from .facts import (base_variant_facts, count_code_lines, kaslr_facts, read_dotconfig,
                    source_loc, trap_specific_lines)
from .parse import Context, ConsoleOutput, parse_bench_output, parse_kaslr_output
from .qemu import (DEFAULT_QEMU, DEFAULT_TIMEOUT, RunResult, kill_running, qemu_command,
                   run_qemu)
from .tidy import make_frame, rows_from_output
from .variants import Variant


@dataclass
class RunOptions:
    repo: Path
    results: Path
    quick: bool = False
    reps: int = 5
    timeout: float = DEFAULT_TIMEOUT
    qemu: str = DEFAULT_QEMU
    workers: int = 2
    progress: bool = True

    @property
    def log_root(self) -> Path:
        return self.results / "logs"


def log_path(log_root: Path, variant: str, bench: str, mode: str, rep: int) -> Path:
    return log_root / variant / f"{bench}-{mode}-{rep}.log"


def kernel_arg(variant: Variant) -> Path:
    """The -kernel argument, relative to the repository (QEMU runs with cwd = repo)."""
    return variant_dir(variant) / "kernel.elf"


def boot(variant: Variant, argv: Sequence[str], *, icount: bool, log: Path, opts: RunOptions,
         check: bool = True) -> RunResult:
    cmd = qemu_command(kernel_arg(variant), argv, icount=icount, qemu=opts.qemu)
    return run_qemu(cmd, variant=variant.name, log=log, timeout=opts.timeout, cwd=opts.repo,
                    check=check)


def run_bench(variant: Variant, spec: BenchSpec, opts: RunOptions, *, mode: str,
              rep: int) -> Tuple[RunResult, ConsoleOutput]:
    argv = [spec.name, *spec.argv(opts.quick)]
    log = log_path(opts.log_root, variant.name, spec.name, mode, rep)
    res = boot(variant, argv, icount=(mode == "icount"), log=log, opts=opts)
    ctx = Context(variant.name, res.command, log)
    return res, parse_bench_output(res.console, ctx, min_lines=spec.expected_lines(opts.quick))


def measure_bench(variant: Variant, spec: BenchSpec, opts: RunOptions) -> List[Dict[str, Any]]:
    """The icount run (instructions and counters), then the wall-time repetitions. Raises on
    the first failing run; a (variant, bench) contributes rows only when all its runs passed."""
    rows: List[Dict[str, Any]] = []
    _, out = run_bench(variant, spec, opts, mode="icount", rep=0)
    rows += rows_from_output(variant, spec.name, out, mode="icount", repetition=0)
    for rep in range(opts.reps):
        _, out = run_bench(variant, spec, opts, mode="wall", rep=rep)
        rows += rows_from_output(variant, spec.name, out, mode="wall", repetition=rep)
    return rows


def probe_kaslr(variant: Variant, opts: RunOptions,
                processes: int = KASLR_PROCESSES) -> Dict[str, Any]:
    log = log_path(opts.log_root, variant.name, KASLR_PROBE, "wall", 0)
    res = boot(variant, [KASLR_PROBE, str(processes)], icount=False, log=log, opts=opts)
    out = parse_kaslr_output(res.console, Context(variant.name, res.command, log),
                             processes=processes)
    config = read_dotconfig(opts.repo / variant_dir(variant) / ".config")
    return kaslr_facts(out.slots, processes=processes, kernel=out.kaslr, config=config,
                       log=_rel(log, opts.repo))


def _rel(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def static_facts(builds: Sequence[BuildResult], variants: Sequence[Variant],
                 repo: Path) -> Dict[str, Any]:
    """Build status and source-size facts of every requested variant."""
    facts: Dict[str, Any] = {"variants": {}}
    traps: Dict[str, str] = {}
    by_name = {b.variant.name: b for b in builds}
    for v in variants:
        f = base_variant_facts(v)
        b = by_name.get(v.name)
        if b is not None:
            f["built"] = b.ok
            f["build_log"] = _rel(b.log, repo)
            f["build_error"] = b.error
            if b.ok:
                try:
                    traps[v.name] = (b.build_dir / "generated" / "trap.S").read_text()
                except OSError:
                    pass
        facts["variants"][v.name] = f
    specific = trap_specific_lines(traps) if traps else {}
    for v in variants:
        f = facts["variants"][v.name]
        if not f["built"]:
            continue
        total = count_code_lines(traps[v.name], asm=True) if v.name in traps else None
        f["loc"] = source_loc(repo, v, specific.get(v.name), total)
    return facts


Task = Tuple[str, Variant, Optional[BenchSpec]]


def run_all(variants: Sequence[Variant], benches: Sequence[BenchSpec], opts: RunOptions,
            facts: Dict[str, Any], *, kaslr: bool = True,
            log: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Every benchmark on every given (built) variant, in parallel. Failures are recorded in
    facts["variants"][name]["run_failures"] and reported, never turned into numbers."""
    from tqdm import tqdm

    tasks: List[Task] = [("bench", v, b) for b in benches for v in variants]
    if kaslr:
        tasks += [("kaslr", v, None) for v in variants if v.scheme in (2, 3)]
    rows: List[Dict[str, Any]] = []
    bar = tqdm(total=len(tasks), desc="runs", unit="task", disable=not opts.progress)
    say = log or (lambda msg: tqdm.write(msg, file=sys.stderr))

    def work(task: Task) -> Any:
        kind, v, spec = task
        if kind == "bench":
            assert spec is not None
            return measure_bench(v, spec, opts)
        return probe_kaslr(v, opts)

    pool = ThreadPoolExecutor(max_workers=max(1, opts.workers))
    futures = {pool.submit(work, t): t for t in tasks}
    try:
        for fut in as_completed(futures):
            kind, v, spec = futures[fut]
            what = spec.name if spec else KASLR_PROBE
            vf = facts["variants"].setdefault(v.name, base_variant_facts(v))
            try:
                result = fut.result()
            except HarnessError as exc:
                vf["run_failures"].append({"bench": what, "error": str(exc)})
                say(f"FAILED {v.name} {what}:\n{exc}")
            else:
                if kind == "bench":
                    rows += result
                else:
                    vf["kaslr"] = result
            bar.set_postfix_str(f"{v.name} {what}")
            bar.update(1)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        say(f"interrupted: killed {kill_running()} running QEMU process group(s)")
        raise
    finally:
        bar.close()
    pool.shutdown(wait=True)
    return make_frame(rows)
