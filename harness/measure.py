"""Running the benchmarks on built variants: one icount run and `reps` wall-time runs per
(variant, benchmark), the kaslr probe on schemes 2 and 3, and the TLB-model runs (one icount
run under the plugin per variant, preset and TLB benchmark, plus kernel_probe).

Two phases (run_pool): the deterministic runs (icount, TLB model, the kaslr probe) in a pool
of `workers` threads (each QEMU is single-threaded, so one worker per core); then the
wall-time runs one at a time, with no other boot running, so that no run's time includes
another's competition for the cores.

With `RunOptions.engine` (harness/dist.py) every QEMU boot is a dask.distributed task: the
threads here only orchestrate (parse, decide the next run) and wait, one per worker slot."""
from __future__ import annotations

import sys
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, TypeVar

import pandas as pd

from .benchspec import (KASLR_MODE, KASLR_PROBE, KASLR_PROCESSES, TLB_PROBE,
                        TLB_PROBE_TRIALS,
                        BenchSpec, runs_in)
from .build import BuildResult, variant_dir
from .errors import HarnessError, Interrupted, TlbRunError
from .facts import (base_variant_facts, count_code_lines, kaslr_facts, read_dotconfig,
                    source_loc, trap_specific_lines)
from .parse import Context, ConsoleOutput, parse_bench_output, parse_kaslr_output
from .qemu import (DEFAULT_QEMU, DEFAULT_TIMEOUT, RunResult, kill_running, qemu_command,
                   run_qemu)
from .tidy import make_frame, rows_from_output
from .tlb import (PLUGIN, TlbReportError, load_report, plugin_arg, probe_facts,
                  rows_from_report, run_config, with_bootargs)
from .variants import Variant


@dataclass
class RunOptions:
    repo: Path
    results: Path
    quick: bool = False
    reps: int = 30
    timeout: float = DEFAULT_TIMEOUT
    qemu: str = DEFAULT_QEMU
    workers: int = 2
    progress: bool = True
    # kaslr_seed= values for scheme-3 measurement runs (benchspec.KASLR_SEEDS); empty: none
    kaslr_seeds: Tuple[int, ...] = ()
    # the dask engine the boots go to (harness.dist.Engine); None: run QEMU in this process
    engine: Optional[Any] = None

    @property
    def log_root(self) -> Path:
        return self.results / "logs"


def log_path(log_root: Path, variant: str, bench: str, mode: str, rep: int) -> Path:
    return log_root / variant / f"{bench}-{mode}-{rep}.log"


def kernel_arg(variant: Variant) -> Path:
    """The -kernel argument, relative to the repository (QEMU runs with cwd = repo)."""
    return variant_dir(variant) / "kernel.elf"


def seeds_for(variant: Variant, opts: RunOptions) -> List[Optional[int]]:
    """The kaslr seeds of a variant's measurement runs: scheme 3's list, else no seed."""
    if variant.scheme == 3 and opts.kaslr_seeds:
        return list(opts.kaslr_seeds)
    return [None]


def seed_bootargs(seed: Optional[int]) -> List[str]:
    return [] if seed is None else [f"kaslr_seed={seed}"]


def boot(variant: Variant, argv: Sequence[str], *, icount: bool, log: Path, opts: RunOptions,
         check: bool = True, seed: Optional[int] = None) -> RunResult:
    cmd = qemu_command(kernel_arg(variant), argv, icount=icount, qemu=opts.qemu,
                       bootargs=seed_bootargs(seed), harts=variant.harts)
    return execute(cmd, variant, log, opts, check=check, inputs=[str(kernel_arg(variant))])


def execute(cmd: Sequence[str], variant: Variant, log: Path, opts: RunOptions, *,
            check: bool = True, inputs: Sequence[str] = (),
            outputs: Sequence[str] = ()) -> RunResult:
    """One QEMU boot, here or on the engine's cluster (inputs: the files the command reads,
    shipped to the worker; outputs: the files it writes, brought back), cwd = the repo."""
    if opts.engine is not None:
        return opts.engine.run(cmd, variant=variant.name, log=log, timeout=opts.timeout,
                               cwd=opts.repo, check=check, inputs=inputs, outputs=outputs)
    return run_qemu(cmd, variant=variant.name, log=log, timeout=opts.timeout, cwd=opts.repo,
                    check=check)


def run_bench(variant: Variant, spec: BenchSpec, opts: RunOptions, *, mode: str,
              rep: int, seed: Optional[int] = None) -> Tuple[RunResult, ConsoleOutput]:
    argv = [spec.prog, *spec.argv(opts.quick)]
    log = log_path(opts.log_root, variant.name, spec.name, mode, rep)
    res = boot(variant, argv, icount=(mode == "icount"), log=log, opts=opts, seed=seed)
    ctx = Context(variant.name, res.command, log)
    return res, parse_bench_output(res.console, ctx, min_lines=spec.expected_lines(opts.quick))


def measure_icount(variant: Variant, spec: BenchSpec, opts: RunOptions) -> List[Dict[str, Any]]:
    """The icount run (instructions and counters; scheme 3: one per kaslr seed)."""
    rows: List[Dict[str, Any]] = []
    for i, seed in enumerate(seeds_for(variant, opts)):
        _, out = run_bench(variant, spec, opts, mode="icount", rep=i, seed=seed)
        rows += rows_from_output(variant, spec.name, out, mode="icount", repetition=i,
                                 seed=seed)
    return rows


def measure_wall(variant: Variant, spec: BenchSpec, opts: RunOptions) -> List[Dict[str, Any]]:
    """The wall-time repetitions (none for a benchmark with spec.wall False): ns_per_op only,
    never an instruction count or counter (without -icount they read host clock ticks)."""
    rows: List[Dict[str, Any]] = []
    seeds = seeds_for(variant, opts)
    for rep in range(spec.wall_runs(opts.reps)):
        seed = seeds[rep % len(seeds)]
        _, out = run_bench(variant, spec, opts, mode="wall", rep=rep, seed=seed)
        rows += rows_from_output(variant, spec.name, out, mode="wall", repetition=rep,
                                 seed=seed)
    return rows


def measure_bench(variant: Variant, spec: BenchSpec, opts: RunOptions) -> List[Dict[str, Any]]:
    """The icount run, then the wall-time repetitions. Raises on the first failing run."""
    return measure_icount(variant, spec, opts) + measure_wall(variant, spec, opts)


def probe_kaslr(variant: Variant, opts: RunOptions,
                processes: int = KASLR_PROCESSES) -> Dict[str, Any]:
    log = log_path(opts.log_root, variant.name, KASLR_PROBE, "wall", 0)
    res = boot(variant, [KASLR_PROBE, str(processes), KASLR_MODE], icount=False, log=log,
               opts=opts)
    out = parse_kaslr_output(res.console, Context(variant.name, res.command, log),
                             processes=processes)
    config = read_dotconfig(opts.repo / variant_dir(variant) / ".config")
    facts = kaslr_facts(out.slots, processes=processes, kernel=out.kaslr, config=config,
                        log=_rel(log, opts.repo))
    facts["draws"] = KASLR_MODE  # independent draws: the report's entropy estimator needs it
    return facts


# ------------------------------------------------------------------ TLB-model runs

def tlb_paths(log_root: Path, variant: str, program: str,
              preset: str, seed: Optional[int] = None) -> Tuple[Path, Path, Path]:
    """(console log, JSON report, plugin log) of one TLB-model run:
    logs/<variant>/tlb-<program>-<preset>[-seed<N>].{log,json,plugin.log}."""
    stem = log_root / variant / (f"tlb-{program}-{preset}"
                                 + ("" if seed is None else f"-seed{seed}"))
    return (stem.with_name(stem.name + ".log"), stem.with_name(stem.name + ".json"),
            stem.with_name(stem.name + ".plugin.log"))


def _qemu_path(path: Path, repo: Path) -> str:
    """A path as QEMU (cwd = repo) is given it: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(repo.resolve()))
    except ValueError:
        return str(path.resolve())


def tlb_boot(variant: Variant, argv: Sequence[str], preset: str,
             opts: RunOptions, seed: Optional[int] = None, *, cap_kernel: bool = True
             ) -> Tuple[RunResult, Dict[str, Any], Path]:
    """One -icount boot under the TLB-model plugin (preset, asid as the variant). Returns the
    run, its checked report (tlbmodel/report.py's load: no mismatches, status ok) and the
    report's path; raises QemuError or TlbRunError (a failed run, with log and report)."""
    log, report, plugin_log = tlb_paths(opts.log_root, variant.name, argv[0], preset, seed)
    log.parent.mkdir(parents=True, exist_ok=True)
    for stale in (report, plugin_log):  # never read a previous run's report
        stale.unlink(missing_ok=True)
    # the kernel boots capped to the preset's ASID width (asid_bits=N before init=) and the
    # model uses the same width: a real core (harness.tlb.run_config). cap_kernel=False: the
    # kernel keeps its probed width and the model gets 16 bits where the core has none, a
    # combination labelled hypothetical (the known-answer tests of ASID behaviour use it).
    rc = run_config(variant, preset, cap_kernel=cap_kernel)
    extra = ["-plugin", plugin_arg(str(PLUGIN), preset=preset, asid=rc.asid,
                                   asid_bits=rc.model_asid_bits,
                                   out=_qemu_path(report, opts.repo)),
             "-d", "plugin", "-D", _qemu_path(plugin_log, opts.repo)]
    cmd = with_bootargs(qemu_command(kernel_arg(variant), argv, icount=True, qemu=opts.qemu,
                                     extra=extra, bootargs=seed_bootargs(seed),
                                     harts=variant.harts), rc.bootargs)
    res = execute(cmd, variant, log, opts, inputs=[str(kernel_arg(variant)), str(PLUGIN)],
                  outputs=[_qemu_path(report, opts.repo), _qemu_path(plugin_log, opts.repo)])
    try:
        rep = load_report(report, preset=preset, asid=rc.asid, asid_bits=rc.model_asid_bits)
    except TlbReportError as exc:
        raise TlbRunError(f"TLB-model report unusable: {exc}", variant=variant.name,
                          command=res.command, log=log, report=report) from None
    return res, rep, report


def measure_tlb(variant: Variant, spec: BenchSpec, preset: str,
                opts: RunOptions, *, cap_kernel: bool = True) -> List[Dict[str, Any]]:
    """Tidy rows (mode tlb) of one benchmark under one preset (scheme 3: one run per kaslr
    seed, repetition = the seed's index)."""
    argv = [spec.prog, *spec.argv(opts.quick)]
    rows: List[Dict[str, Any]] = []
    for i, seed in enumerate(seeds_for(variant, opts)):
        res, rep, report = tlb_boot(variant, argv, preset, opts, seed, cap_kernel=cap_kernel)
        ctx = Context(variant.name, res.command, res.log)
        out = parse_bench_output(res.console, ctx, min_lines=spec.expected_lines(opts.quick))
        try:
            got = rows_from_report(variant, preset, out, rep, where=str(report))
        except TlbReportError as exc:
            raise TlbRunError(str(exc), variant=variant.name, command=res.command, log=res.log,
                              report=report) from None
        for r in got:
            r["kaslr_seed"], r["repetition"] = seed, i
        rows += got
    return rows


def probe_tlb(variant: Variant, preset: str, opts: RunOptions) -> Dict[str, Any]:
    """kernel_probe under one preset: facts (probe_own_slot_hit, probe_other_process_hit, the
    raw counts, the report and log paths). Scheme 3: the first kaslr seed."""
    seed = seeds_for(variant, opts)[0]
    res, rep, report = tlb_boot(variant, [TLB_PROBE, str(TLB_PROBE_TRIALS)], preset, opts, seed)
    try:
        f = probe_facts(rep, where=str(report))
    except TlbReportError as exc:
        raise TlbRunError(str(exc), variant=variant.name, command=res.command, log=res.log,
                          report=report) from None
    f.update(preset=preset, report=_rel(report, opts.repo), log=_rel(res.log, opts.repo),
             kaslr_seed=seed)
    return f


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


@dataclass(frozen=True)
class Task:
    kind: str                       # bench (icount), wall, kaslr, tlb (a benchmark), tlb-probe
    variant: Variant
    spec: Optional[BenchSpec] = None
    preset: str = ""

    @property
    def what(self) -> str:
        if self.kind == "kaslr":
            return KASLR_PROBE
        if self.kind == "tlb-probe":
            return TLB_PROBE
        assert self.spec is not None
        return self.spec.name

    @property
    def label(self) -> str:
        if self.kind == "wall":
            return f"{self.what} (wall time)"
        return f"{self.what} (TLB model, {self.preset})" if self.preset else self.what

    @property
    def serial(self) -> bool:
        """Whether it runs in the serial phase: a wall-time measurement."""
        return self.kind == "wall"


def run_task(task: Task, opts: RunOptions) -> Any:
    """One task's runs: rows (bench, tlb) or facts (kaslr, tlb-probe); raises HarnessError."""
    if task.kind == "bench":
        assert task.spec is not None
        return measure_icount(task.variant, task.spec, opts)
    if task.kind == "wall":
        assert task.spec is not None
        return measure_wall(task.variant, task.spec, opts)
    if task.kind == "tlb":
        assert task.spec is not None
        return measure_tlb(task.variant, task.spec, task.preset, opts)
    if task.kind == "tlb-probe":
        return probe_tlb(task.variant, task.preset, opts)
    return probe_kaslr(task.variant, opts)


def record_result(task: Task, result: Any, facts: Dict[str, Any],
                  rows: List[Dict[str, Any]]) -> None:
    """Add a task's result to the rows or the facts."""
    vf = facts["variants"].setdefault(task.variant.name, base_variant_facts(task.variant))
    if task.kind in ("bench", "wall", "tlb"):
        rows += result
    elif task.kind == "tlb-probe":
        vf.setdefault("tlb_probe", {})[task.preset] = result
    else:
        vf["kaslr"] = result


def record_failure(task: Task, exc: HarnessError, opts: RunOptions,
                   facts: Dict[str, Any]) -> None:
    """A failed task: listed under the variant's run_failures (never numbers)."""
    v, what = task.variant, task.what
    vf = facts["variants"].setdefault(v.name, base_variant_facts(v))
    failure: Dict[str, Any] = {"bench": what, "error": str(exc)}
    if task.preset:
        tlog, treport, _ = tlb_paths(opts.log_root, v.name, what, task.preset,
                                     seeds_for(v, opts)[0])
        failure.update(mode="tlb", preset=task.preset, log=_rel(tlog, opts.repo),
                       report=_rel(treport, opts.repo))
    vf["run_failures"].append(failure)


def all_tasks(variants: Sequence[Variant], benches: Sequence[BenchSpec], *, kaslr: bool,
              tlb_benches: Sequence[BenchSpec], tlb_presets: Sequence[str],
              tlb_probe: bool) -> List[Task]:
    tasks: List[Task] = [Task("bench", v, b) for b in benches for v in variants
                         if runs_in(b, v)]
    tasks += [Task("wall", v, b) for b in benches for v in variants if runs_in(b, v) and b.wall]
    # the security probes measure the kernel window, which -smp does not change: one hart only
    if kaslr:
        tasks += [Task("kaslr", v) for v in variants if v.scheme in (2, 3) and v.harts == 1]
    for p in tlb_presets:
        tasks += [Task("tlb", v, b, p) for b in tlb_benches for v in variants
                  if runs_in(b, v)]
        if tlb_probe:
            tasks += [Task("tlb-probe", v, None, p) for v in variants if v.harts == 1]
    return tasks


T = TypeVar("T")
# How often the run loop wakes to notice a Ctrl-C (run_pool).
POLL_SECONDS = 0.5


def stop_runs(opts: RunOptions) -> int:
    """Ctrl-C: refuse new boots, kill the running ones (here and on the engine's workers);
    the number of QEMU process groups killed."""
    n = kill_running()
    if opts.engine is not None:
        n += opts.engine.interrupt()
    return n


def run_pool(items: Sequence[T], work: Callable[[T], Any], opts: RunOptions, *,
             on_done: Callable[[T, Any], None], on_failed: Callable[[T, HarnessError], None],
             label: Callable[[T], str], desc: str, unit: str,
             serial: Callable[[T], bool] = lambda item: False) -> None:
    """work(item) for every item: first those not `serial`, in a pool of one thread per worker
    slot, then the serial ones one at a time with nothing else running. on_done/on_failed run
    in this thread as each finishes. Ctrl-C: no new boot, the running ones killed, Interrupted
    raised with their count (the one thread pool loop of `bench` and `sweep`)."""
    from tqdm import tqdm

    threads = opts.engine.slots if opts.engine is not None else opts.workers
    phases = [([it for it in items if not serial(it)], max(1, threads)),
              ([it for it in items if serial(it)], 1)]
    bar = tqdm(total=len(items), desc=desc, unit=unit, disable=not opts.progress)
    try:
        for phase, width in phases:
            if not phase:
                continue
            pool = ThreadPoolExecutor(max_workers=width)
            try:
                futures = {pool.submit(work, it): it for it in phase}
                pending = set(futures)
                while pending:
                    # Wake at least every POLL_SECONDS: a Ctrl-C that the kernel delivers to
                    # another thread (a pool thread, dask's) only sets Python's flag, and the
                    # main thread raises KeyboardInterrupt at its next bytecode, which an
                    # unbounded wait would postpone until some boot ends (its timeout).
                    done, pending = wait(pending, timeout=POLL_SECONDS,
                                         return_when=FIRST_COMPLETED)
                    for fut in done:
                        it = futures[fut]
                        try:
                            result = fut.result()
                        except HarnessError as exc:
                            on_failed(it, exc)
                        else:
                            on_done(it, result)
                        bar.set_postfix_str(label(it))
                        bar.update(1)
            except KeyboardInterrupt:
                pool.shutdown(wait=False, cancel_futures=True)
                raise Interrupted(stop_runs(opts)) from None
            pool.shutdown(wait=True)
    finally:
        bar.close()


def run_all(variants: Sequence[Variant], benches: Sequence[BenchSpec], opts: RunOptions,
            facts: Dict[str, Any], *, kaslr: bool = True,
            tlb_benches: Sequence[BenchSpec] = (), tlb_presets: Sequence[str] = (),
            tlb_probe: bool = True,
            log: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Every benchmark on every given (built) variant and the TLB-model runs (each of
    `tlb_benches` and, with tlb_probe, kernel_probe, per preset of `tlb_presets`): the
    deterministic runs in parallel, then the wall-time runs one at a time. Failures are recorded
    in facts["variants"][name]["run_failures"] and reported, never turned into numbers; a
    (variant, benchmark) contributes rows only when its icount and wall runs all passed."""
    from tqdm import tqdm

    tasks = all_tasks(variants, benches, kaslr=kaslr, tlb_benches=tlb_benches,
                      tlb_presets=tlb_presets, tlb_probe=tlb_probe)
    rows: Dict[Task, List[Dict[str, Any]]] = {}
    failed: set = set()
    say = log or (lambda msg: tqdm.write(msg, file=sys.stderr))

    def done(task: Task, result: Any) -> None:
        got: List[Dict[str, Any]] = []
        record_result(task, result, facts, got)
        rows[task] = got

    def fail(task: Task, exc: HarnessError) -> None:
        record_failure(task, exc, opts, facts)
        if task.kind in ("bench", "wall"):
            failed.add((task.variant.name, task.what))
        say(f"FAILED {task.variant.name} {task.label}:\n{exc}")

    def work(task: Task) -> Any:
        if task.kind == "wall" and (task.variant.name, task.what) in failed:
            return []  # its icount run failed: the pair has no rows, its time is not spent
        return run_task(task, opts)

    run_pool(tasks, work, opts, on_done=done, on_failed=fail,
             label=lambda t: f"{t.variant.name} {t.label}", desc="runs", unit="task",
             serial=lambda t: t.serial)
    kept = [r for t, rs in rows.items()
            if t.kind not in ("bench", "wall") or (t.variant.name, t.what) not in failed
            for r in rs]
    return make_frame(kept)
