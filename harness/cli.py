"""Command line: /usr/bin/python3 -m harness {build,bench,reproduce,report,compare,docs,verify,sweep,
run} [options].

Exit status: 0 success; 1 a build or a run failed; 2 a usage error (one line on stderr);
130 interrupted (Ctrl-C; the QEMU and make processes are stopped, no results are replaced)."""
from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .benchspec import (BENCHES, KASLR_SEEDS, KASLR_SEEDS_QUICK, TLB_BENCH_BY_NAME,
                        TLB_PRESETS_DEFAULT, TLB_PROBE, select_benches, select_tlb_benches)
from .build import BuildResult, build_all, build_variant, variant_dir
from .errors import HarnessError, UserError, format_command, log_tail
from .measure import RunOptions, boot, log_path, run_all, static_facts
from .outputs import (check_replaceable, official_results, relocate, replace_dir,
                      scratch_results, staging_dir, write_report, write_results)
from .qemu import DEFAULT_QEMU, DEFAULT_TIMEOUT, allow_runs, kill_running
from .tlb import (CYCLE_MODEL, PLUGIN, PRESET_TEXT, PluginBuild, build_plugin,
                  plugin_facts)
from .variants import Variant, default_variants, select_variants, variant_by_name

REPO_DEFAULT = Path(__file__).resolve().parent.parent
COMPILER = "riscv64-linux-gnu-g++"
PROG = "harness"
# Wall-time repetitions per (variant, benchmark): run one at a time (measure.run_pool's serial
# phase), so each is a sample of the same undisturbed machine.
REPS_FULL = 30
REPS_QUICK = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (UserError, exit 2), not usage + traceback."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise UserError(f"{self.prog}: {message} (see --help)")


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {v}")
    return v


def _seed(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"a seed is a non-negative integer, not {v}")
    return v


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return v


def _scheduler(text: str) -> str:
    if not text.startswith(("tcp://", "tls://")) or ":" not in text.split("://", 1)[1]:
        raise argparse.ArgumentTypeError(f"a scheduler address is tcp://HOST:PORT, not {text!r}")
    return text


def engine_option(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--scheduler", type=_scheduler, default=None, metavar="tcp://HOST:PORT",
                    help="run the QEMU boots on this dask.distributed cluster (default: a "
                         "local cluster of --jobs worker processes; docs/harness.md "
                         "'Distributed runs')")


def _listing() -> str:
    """--help's list of the declared variants and benchmarks (configs/variants.toml and the
    programs' //! declarations)."""
    import textwrap
    try:
        variants = [f"{v.name} ({v.defconfig.removesuffix('_defconfig')}"
                    + (f" + {v.config_string}" if v.config_string else "") + ")"
                    for v in default_variants(REPO_DEFAULT)]
    except UserError as exc:
        variants = [f"(cannot read configs/variants.toml: {exc})"]
    benches = [b.name + (" [TLB]" if b.name in TLB_BENCH_BY_NAME else "")
               + ("" if b.wall else " [icount only]") for b in BENCHES]
    wrap = lambda items: textwrap.fill(", ".join(items), 92, initial_indent="  ",  # noqa: E731
                                       subsequent_indent="  ")
    return (f"variants (configs/variants.toml; another: --variant NAME:DEFCONFIG+OPT=VAL):\n"
            f"{wrap(variants)}\nbenchmarks (declared in user/bench/*.cpp; [TLB]: also under "
            f"the TLB model):\n{wrap(benches)}\nwall-time figures (runs without -icount) are "
            f"host time: QEMU's rdcycle/rdinstret then read host clock ticks.")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="sv39lab benchmark harness (docs/harness.md). "
                "Exit status: 0 ok, 1 a build or run failed, 2 usage error, 130 interrupted.",
                epilog=_listing(), formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(name: str, **kw: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, epilog=_listing(),
                              formatter_class=argparse.RawDescriptionHelpFormatter, **kw)

    def repo_results(sp: argparse.ArgumentParser, results_help: str) -> None:
        sp.add_argument("--repo", type=Path, default=REPO_DEFAULT,
                        help="repository root (default: %(default)s)")
        sp.add_argument("--results", type=Path, default=None, metavar="DIR",
                        help=results_help)

    def common(sp: argparse.ArgumentParser, results_help: str) -> None:
        repo_results(sp, results_help)
        sp.add_argument("-V", "--variants", nargs="+", metavar="VARIANT", default=None,
                        help="variants by name (configs/variants.toml) or in full "
                             "(NAME:DEFCONFIG+OPT=VAL...); default: all declared")
        sp.add_argument("--variant", dest="variant_specs", action="append", default=[],
                        metavar="NAME:DEFCONFIG+OPT=VAL",
                        help="one more variant, e.g. s2-hz1000:scheme2_defconfig+TIMER_HZ=1000 "
                             "(repeatable; with it and no -V only the --variant ones run)")
        sp.add_argument("--make-jobs", type=_positive_int, default=2, metavar="N",
                        help="make -jN (default 2)")
        sp.add_argument("-j", "--jobs", type=_positive_int, default=2, metavar="N",
                        help="parallel workers for builds and QEMU runs (default 2)")
        sp.add_argument("--no-progress", action="store_true", help="no tqdm progress bars")

    def measuring(sp: argparse.ArgumentParser, results_help: str) -> None:
        common(sp, results_help)
        sp.add_argument("-B", "--benches", nargs="+", metavar="BENCH", default=None,
                        help="benchmarks (default: all; listed below)")
        sp.add_argument("--quick", action="store_true",
                        help=f"small iteration counts and {REPS_QUICK} repetitions (for tests)")
        sp.add_argument("--reps", type=_positive_int, default=None, metavar="N",
                        help=f"wall-time repetitions per benchmark, run one at a time after "
                             f"the deterministic runs (default {REPS_FULL}, --quick "
                             f"{REPS_QUICK})")
        sp.add_argument("--timeout", type=_positive_float, default=DEFAULT_TIMEOUT,
                        metavar="S", help="seconds per QEMU run (default %(default)s)")
        sp.add_argument("--qemu", default=DEFAULT_QEMU, help="QEMU binary (default %(default)s)")
        sp.add_argument("--no-build", action="store_true",
                        help="use the existing build/variants/*/kernel.elf (no make)")
        sp.add_argument("--no-kaslr", action="store_true", help="skip the kaslr_probe runs")
        sp.add_argument("--strict", action="store_true",
                        help="exit 1 when the TLB-model plugin is not built, too (a variant "
                             "that does not build always does)")
        sp.add_argument("--tlb-presets", nargs="+", metavar="PRESET",
                        default=list(TLB_PRESETS_DEFAULT), choices=sorted(PRESET_TEXT),
                        help="TLB-model presets to run (default: %(default)s; see "
                             "docs/tlbmodel.md)")
        sp.add_argument("--no-tlb", action="store_true",
                        help="skip the TLB-model runs (and the plugin build)")
        engine_option(sp)
        sp.add_argument("--kaslr-seeds", nargs="+", type=_seed, metavar="N", default=None,
                        help="kaslr_seed= values of the scheme-3 measurement runs (default: "
                             f"{' '.join(map(str, KASLR_SEEDS))}; --quick: "
                             f"{' '.join(map(str, KASLR_SEEDS_QUICK))})")

    common(add("build", help="build the variants into build/variants/<name>"),
           "where the build logs go (DIR/logs; default REPO/build/results)")
    measuring(add("bench", help="build, run the benchmarks, write "
                                           "measurements.csv, facts.json, metadata.json"),
              "output directory, replaced at the end (default REPO/build/results)")
    measuring(add("reproduce", help="bench, then the plots and comparison.md"),
              "output directory, replaced at the end (default: REPO/results for a complete "
              "run that succeeds, else REPO/build/results)")
    rp = sub.add_parser("report", help="plots and comparison.md from an existing "
                                       "measurements.csv and facts.json")
    rp.add_argument("dir", nargs="?", type=Path, default=None, metavar="DIR",
                    help="results directory (default REPO/build/results)")
    repo_results(rp, "the same as DIR")
    dp = sub.add_parser("docs", help="docs/results.md from docs/results.md.in and a results "
                                     "directory (default REPO/results)")
    dp.add_argument("dir", nargs="?", type=Path, default=None, metavar="DIR")
    dp.add_argument("--repo", type=Path, default=REPO_DEFAULT)
    dp.add_argument("--check", action="store_true",
                    help="only compare: exit 1 when docs/results.md is out of date")
    cp = add("compare", help="any benchmark's figures, variant against variant: a Markdown "
                              "table and optionally a bar chart, from DIR/measurements.csv")
    cp.add_argument("dir", nargs="?", type=Path, default=None, metavar="DIR",
                    help="results directory (default REPO/build/results)")
    cp.add_argument("--repo", type=Path, default=REPO_DEFAULT)
    cp.add_argument("-B", "--benches", nargs="+", metavar="BENCH", default=[],
                    help="benchmarks (default: all in the CSV)")
    cp.add_argument("-V", "--variants", nargs="+", metavar="VARIANT", default=[],
                    help="variants (default: all in the CSV)")
    cp.add_argument("--metric", default="insns_per_op",
                    help="the metric (default %(default)s; ns_per_op for wall time)")
    cp.add_argument("--mode", choices=["icount", "wall", "tlb"], default=None,
                    help="run kind (default: wall for ns_per_op, else icount)")
    cp.add_argument("--preset", default="", help="the TLB-model preset of --mode tlb rows")
    cp.add_argument("--plot", type=Path, default=None, metavar="PNG",
                    help="also draw a grouped bar chart into this file")
    vp = sub.add_parser("verify", help="re-derive comparison.md and robustness.csv from a "
                                       "results directory alone (default REPO/results) and "
                                       "check the evidence hashes; exit 1 on any difference")
    vp.add_argument("dir", nargs="?", type=Path, default=None, metavar="DIR")
    vp.add_argument("--repo", type=Path, default=REPO_DEFAULT)
    sw = add("sweep", help="a declarative sweep (configs/sweeps/*.toml) on the dask "
                                      "engine; resumable (docs/harness.md 'Sweeps')")
    sw.add_argument("file", type=Path, metavar="FILE", help="the sweep file (TOML)")
    repo_results(sw, "output directory (default REPO/build/sweeps/<FILE's stem>); points "
                     "already stored there for the same commit and kernel are skipped")
    sw.add_argument("-j", "--jobs", type=_positive_int, default=2, metavar="N",
                    help="local worker processes (and parallel builds; default 2)")
    sw.add_argument("--make-jobs", type=_positive_int, default=2, metavar="N")
    sw.add_argument("--timeout", type=_positive_float, default=None, metavar="S",
                    help="seconds per QEMU run (default: the file's, else "
                         f"{DEFAULT_TIMEOUT:g})")
    sw.add_argument("--qemu", default=DEFAULT_QEMU)
    sw.add_argument("--no-build", action="store_true",
                    help="use the existing kernels (and plugin)")
    sw.add_argument("--no-progress", action="store_true")
    engine_option(sw)
    run = add("run", usage="%(prog)s [options] VARIANT PROGRAM [ARG ...] "
                                      "[-- ARG ...]",
                         help="boot one variant with one program (built first if missing)",
                         description="Options go anywhere before `--`; everything after `--` "
                                     "is passed to the program unchanged.")
    run.add_argument("variant", metavar="VARIANT",
                     help="a declared name or NAME:DEFCONFIG+OPT=VAL (listed below)")
    run.add_argument("program", nargs="?", metavar="PROGRAM")
    run.add_argument("args", nargs="*", metavar="ARG")
    repo_results(run, "logs go to DIR/logs (default REPO/build/results)")
    run.add_argument("--icount", action="store_true",
                     help="deterministic -icount run (instruction counts, counters)")
    run.add_argument("--tlb", metavar="PRESET", default=None, choices=sorted(PRESET_TEXT),
                     help="run under the TLB-model plugin with this preset (implies --icount; "
                          "the plugin must be built)")
    run.add_argument("--timeout", type=_positive_float, default=DEFAULT_TIMEOUT, metavar="S")
    run.add_argument("--qemu", default=DEFAULT_QEMU)
    run.add_argument("--no-build", action="store_true",
                     help="boot the kernel as it is (default: `make` first, which rebuilds "
                          "whatever is out of date)")
    run.add_argument("--kaslr-seed", type=_seed, default=None, metavar="N",
                     help="boot with kaslr_seed=N (reproducible scheme-3 slot draws)")
    p.set_defaults(_run_parser=run)
    return p


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line. For `run`, options are accepted anywhere before `--` and everything
    after `--` goes to the guest program verbatim."""
    argv = list(argv)
    tail: List[str] = []
    if argv and argv[0] == "run" and "--" in argv:
        i = argv.index("--")
        argv, tail = argv[:i], argv[i + 1:]
    p = _parser()
    if argv and argv[0] == "run":
        run = p.get_default("_run_parser")
        args = run.parse_intermixed_args(argv[1:])
        args.command = "run"
        guest = ([args.program] if args.program else []) + list(args.args) + tail
        if not guest:
            raise UserError(f"{PROG} run: no PROGRAM given (usage: {PROG} run [options] "
                            f"VARIANT PROGRAM [ARG ...])")
        args.program, args.args = guest[0], guest[1:]
        return args
    return p.parse_args(argv)


def _repo(args: argparse.Namespace) -> Path:
    repo = args.repo.resolve()
    if not (repo / "Makefile").is_file():
        raise UserError(f"--repo {repo}: no Makefile there (not an sv39lab tree)")
    return repo


def complete_run(args: argparse.Namespace) -> bool:
    """A complete reproduce: all variants and benchmarks, full counts, kaslr and TLB runs with
    the default presets. Only such a run may replace REPO/results."""
    return (args.command == "reproduce" and not args.variants and not args.variant_specs
            and not args.benches
            and not args.quick and not args.no_kaslr and not args.no_tlb and not args.no_build
            and list(args.tlb_presets) == list(TLB_PRESETS_DEFAULT)
            and args.kaslr_seeds is None)


def _target(args: argparse.Namespace, repo: Path) -> Tuple[Path, bool]:
    """(output directory, whether it is the committed results/)."""
    official = official_results(repo)
    if args.results is not None:
        target = args.results.resolve()
        if target == official and not complete_run(args):
            raise UserError(f"--results {args.results}: results/ holds the figures of a complete "
                            f"`reproduce` only; write this run elsewhere (default "
                            f"{scratch_results(repo)})")
        return target, target == official
    if complete_run(args):
        return official, True
    return scratch_results(repo), False


def _log_dir(args: argparse.Namespace, repo: Path) -> Path:
    d = (args.results.resolve() if args.results is not None else scratch_results(repo))
    if d == official_results(repo):
        raise UserError(f"--results {args.results}: results/ is written by `reproduce` only")
    logs = d / "logs"
    try:
        logs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {logs}: {exc.strerror}") from None
    return d


def _builds(args: argparse.Namespace, variants: List[Variant], logs: Path) -> List[BuildResult]:
    """`make` for every variant (make decides what is stale), or with --no-build the kernels
    as they are."""
    repo = args.repo.resolve()
    if getattr(args, "no_build", False):
        out = []
        for v in variants:
            kernel = repo / variant_dir(v) / "kernel.elf"
            ok = kernel.is_file()
            out.append(BuildResult(variant=v, ok=ok, build_dir=repo / variant_dir(v),
                                   kernel=kernel, log=logs / f"build-{v.name}.log",
                                   error=None if ok else "no kernel.elf (--no-build)"))
        return out
    return build_all(variants, repo, logs, jobs=args.make_jobs, workers=args.jobs,
                     progress=not args.no_progress)


def _report_builds(builds: Sequence[BuildResult], repo: Path,
                   log_of: Any = lambda p: p) -> Dict[str, str]:
    missing: Dict[str, str] = {}
    for b in builds:
        if b.ok:
            print(f"built    {b.variant.name}: {b.kernel.relative_to(repo)} ({b.seconds:.1f} s)")
        else:
            missing[b.variant.name] = str(log_of(b.log))
            command = b.commands[-1] if b.commands else "(none)"
            print(f"MISSING  {b.variant.name}: {b.error}\n  command: {command}\n"
                  f"  log:     {log_of(b.log)}\n{log_tail(b.log)}", file=sys.stderr)
    return missing


def cmd_build(args: argparse.Namespace) -> int:
    repo = _repo(args)
    d = _log_dir(args, repo)
    builds = _builds(args, select_variants(args.variants, repo, args.variant_specs), d / "logs")
    missing = _report_builds(builds, repo)
    return 1 if missing else 0


def cmd_bench(args: argparse.Namespace, argv: Sequence[str], *, report: bool) -> int:
    """bench / reproduce. Whatever ends the run early (Ctrl-C, an error), its staging directory
    goes with it: only a published run leaves files."""
    stages: List[Path] = []
    try:
        return _cmd_bench(args, argv, report=report, stages=stages)
    finally:
        for stage in stages:
            if stage.exists():
                shutil.rmtree(stage, ignore_errors=True)


def _cmd_bench(args: argparse.Namespace, argv: Sequence[str], *, report: bool,
               stages: List[Path]) -> int:
    start = time.monotonic()
    repo = _repo(args)
    target, official = _target(args, repo)
    check_replaceable(target)
    if official and report:
        # a failed complete run goes to build/results: check that it could go there
        check_replaceable(scratch_results(repo))
    stage = staging_dir(repo, target)
    stages.append(stage)
    print(f"output: {target} (written at the end; staging in {stage})")
    variants = select_variants(args.variants, repo, args.variant_specs)
    benches = select_benches(args.benches)
    reps = args.reps if args.reps is not None else (REPS_QUICK if args.quick else REPS_FULL)
    builds = _builds(args, variants, stage / "logs")
    # where this run's files will end up: a complete run that already lacks a variant cannot
    # replace results/, so its logs are named under build/results from the start
    if official and not all(b.ok for b in builds):
        dest = scratch_results(repo)
    else:
        dest = target
    missing = _report_builds(builds, repo, lambda p: relocate(str(p), stage, dest, repo))
    built = [b.variant for b in builds if b.ok]
    facts = static_facts(builds, variants, repo)
    tlb_presets: List[str] = [] if args.no_tlb else list(dict.fromkeys(args.tlb_presets))
    plugin = _plugin(args, repo, stage) if tlb_presets and built else None
    facts["tlbmodel"] = plugin_facts(plugin, tlb_presets, enabled=bool(tlb_presets),
                                     repo=repo)
    plugin_missing = plugin is not None and not plugin.ok
    if plugin_missing:
        if official:
            dest = scratch_results(repo)
        print(f"TLB MODEL NOT BUILT: {plugin.error}\n  command: {plugin.command}\n"
              f"  log:     {relocate(str(plugin.log), stage, dest, repo)}\n"
              f"{log_tail(plugin.log)}\n  (TLB rows say 'not measured')", file=sys.stderr)
    run_presets = tlb_presets if plugin is not None and plugin.ok else []
    tlb_benches = select_tlb_benches(benches)
    seeds = tuple(dict.fromkeys(args.kaslr_seeds or
                                (KASLR_SEEDS_QUICK if args.quick else KASLR_SEEDS)))
    opts = RunOptions(repo=repo, results=stage, quick=args.quick, reps=reps,
                      timeout=args.timeout, qemu=args.qemu, workers=args.jobs,
                      progress=not args.no_progress, kaslr_seeds=seeds)
    engine_facts: Dict[str, Any] = {}
    with start_engine(args) as engine:
        opts.engine = engine
        df = run_all(built, benches, opts, facts, kaslr=not args.no_kaslr,
                     tlb_benches=tlb_benches, tlb_presets=run_presets, tlb_probe=True)
        engine_facts = engine.describe()
    failures = [(name, f["bench"] + (f" (TLB model, {f['preset']})" if f.get("preset") else ""))
                for name, vf in facts["variants"].items() for f in vf["run_failures"]]
    failed = bool(failures or missing or ((args.strict or official) and plugin_missing))
    if official and failed:
        dest = scratch_results(repo)
    elapsed = time.monotonic() - start
    options = options_dict(quick=args.quick, reps=reps, timeout=args.timeout,
                           workers=args.jobs, make_jobs=args.make_jobs, benches=benches,
                           variants=variants, kaslr=not args.no_kaslr,
                           complete=complete_run(args), tlb_presets=tlb_presets,
                           plugin=plugin, tlb_benches=tlb_benches, kaslr_seeds=seeds)
    options["engine"] = engine_facts
    written = publish(repo, stage, dest, df, facts, argv=list(argv), qemu=args.qemu,
                      built=[v.name for v in built], missing=missing, elapsed=elapsed,
                      options=options, report=report)
    print("wrote: " + ", ".join(str(p.relative_to(stage)) for p in written)
          + f" in {dest}")
    if official and dest == target and report:
        template = repo / "docs" / "results.md.in"
        if template.is_file():
            from .docfigures import render_from
            try:
                (repo / "docs" / "results.md").write_text(render_from(target, template))
                print("wrote docs/results.md (its figures, from results/)")
            except UserError as exc:
                print(f"docs/results.md NOT regenerated: {exc}", file=sys.stderr)
                failed = True
    if missing:
        print(f"NOT BUILT: {', '.join(missing)} (their cells say 'not built'; logs above)",
              file=sys.stderr)
    if plugin_missing:
        print(f"TLB model not built (log: {dest / 'logs' / 'build-tlbmodel.log'}): TLB rows "
              f"are 'not measured'", file=sys.stderr)
    if failures:
        print("FAILED runs: " + ", ".join(f"{v} {b}" for v, b in failures)
              + f" (logs under {dest / 'logs'})", file=sys.stderr)
    if dest != target:
        print(f"results/ unchanged (the run is incomplete); this run's files: {dest}",
              file=sys.stderr)
    print(f"elapsed: {elapsed:.1f} s")
    return 1 if failed else 0


def start_engine(args: argparse.Namespace) -> Any:
    """The dask engine of a measuring command (harness/dist.py): a LocalCluster of --jobs
    workers, or the cluster at --scheduler (its workers checked before any run)."""
    from .dist import Engine
    where = args.scheduler or f"a local cluster of {args.jobs} worker process(es)"
    t0 = time.monotonic()
    engine = Engine.start(args.scheduler, args.jobs, qemu=args.qemu)
    print(f"engine: dask.distributed, {where}, {engine.slots} slot(s), workers checked "
          f"({time.monotonic() - t0:.1f} s)")
    return engine


def options_dict(*, quick: bool, reps: int, timeout: float, workers: int, make_jobs: int,
                 benches: Sequence[Any], variants: Sequence[Variant], kaslr: bool,
                 complete: bool, tlb_presets: Sequence[str], plugin: Optional[PluginBuild],
                 tlb_benches: Sequence[Any], kaslr_seeds: Sequence[int]) -> Dict[str, Any]:
    """metadata.json's "options": what was run, with which counts."""
    return {"quick": quick, "reps": reps, "timeout": timeout,
            "kaslr_seeds": {"seeds": list(kaslr_seeds), "variants": "scheme 3",
                            "boot_argument": "kaslr_seed=N",
                            "runs": "one icount run and one TLB-model run per seed; wall "
                                    "repetition i uses seed i mod n; kaslr_probe unseeded"},
            "workers": workers, "make_jobs": make_jobs,
            "benches": {b.name: list(b.argv(quick)) for b in benches},
            "wall_runs": {b.name: b.wall_runs(reps) for b in benches},
            "variants": [v.name for v in variants],
            # what each variant is: NAME:DEFCONFIG+OPT=VAL, its config column, its build key
            "variant_configs": {v.name: {"spec": v.spec, "config": v.config_string,
                                         "config_hash": v.config_hash} for v in variants},
            "kaslr": kaslr, "complete": complete,
            "tlb": {"presets": list(tlb_presets),
                    "plugin_built": None if plugin is None else plugin.ok,
                    "benches": {b.name: list(b.argv(quick)) for b in tlb_benches},
                    "probe": TLB_PROBE if tlb_presets else None,
                    "cycle_model": dict(CYCLE_MODEL)}}


def publish(repo: Path, stage: Path, dest: Path, df: Any, facts: Dict[str, Any], *,
            argv: List[str], qemu: str, built: List[str], missing: Dict[str, str],
            elapsed: float, options: Dict[str, Any], report: bool) -> List[Path]:
    """The end of every measuring run (CLI and `pytest -m bench`): metadata, paths moved
    from the staging directory to `dest`, every file written (write_results) and `dest`
    replaced by the staging directory. Returns the files written (staging paths)."""
    from . import metadata
    meta = metadata.collect(repo, qemu=qemu, compiler=COMPILER, argv=argv, built=built,
                            missing=missing, elapsed=elapsed, options=options)
    facts = relocate(facts, stage, dest, repo)
    meta = relocate(meta, stage, dest, repo)
    written = write_results(stage, df, facts, meta, report=report)
    replace_dir(stage, dest)
    return written


def _plugin(args: argparse.Namespace, repo: Path, results: Path) -> PluginBuild:
    """The TLB-model plugin: built once per harness run (with --no-build: the existing one)."""
    if getattr(args, "no_build", False):
        so = repo / PLUGIN
        return PluginBuild(ok=so.is_file(), command="(--no-build)",
                           log=results / "logs" / "build-tlbmodel.log", plugin=so,
                           error=None if so.is_file() else f"no {PLUGIN} (--no-build)")
    res = build_plugin(repo, results / "logs")
    if res.ok:
        print(f"built    TLB model: {PLUGIN} ({res.seconds:.1f} s)")
    return res


def cmd_report(args: argparse.Namespace) -> int:
    from .tidy import read_csv
    repo = args.repo.resolve()
    d = args.dir or args.results
    results = d.resolve() if d is not None else scratch_results(repo)
    for name in ("measurements.csv", "facts.json"):
        if not (results / name).is_file():
            raise UserError(f"{results}: no {name} (run `{PROG} bench` or `reproduce` first)")
    df = read_csv(results / "measurements.csv")
    facts = json.loads((results / "facts.json").read_text())
    for p in write_report(df, facts, results):
        print(f"wrote {p}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .compare import run
    repo = args.repo.resolve()
    results = args.dir.resolve() if args.dir is not None else scratch_results(repo)
    mode = args.mode or ("wall" if args.metric == "ns_per_op" else "icount")
    for line in run(results, benches=args.benches, metric=args.metric, mode=mode,
                    preset=args.preset, variants=args.variants, plot_to=args.plot):
        print(line)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from .report.verify import verify
    results = args.dir.resolve() if args.dir is not None else official_results(_repo(args))
    problems = verify(results)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print(f"{results}: comparison.md and robustness.csv re-derive identically")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from .docfigures import render_from
    repo = _repo(args)
    results = args.dir.resolve() if args.dir is not None else official_results(repo)
    doc = repo / "docs" / "results.md"
    text = render_from(results, repo / "docs" / "results.md.in")
    if args.check:
        if doc.is_file() and doc.read_text() == text:
            print(f"{doc} is up to date with {results}")
            return 0
        print(f"{doc} differs from its rendering from {results}: run `{PROG} docs`",
              file=sys.stderr)
        return 1
    doc.write_text(text)
    print(f"wrote {doc} from {results}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from .dist import identity
    from .sweep import NO_TLB, load_sweep, prepare, run_sweep
    start = time.monotonic()
    repo = _repo(args)
    sweep = load_sweep(args.file, repo)
    out = (args.results.resolve() if args.results is not None
           else repo / "build" / "sweeps" / sweep.name)
    if out == official_results(repo):
        raise UserError(f"--results {args.results}: results/ is written by `reproduce` only")
    try:
        (out / "logs").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {out / 'logs'}: {exc.strerror}") from None
    print(f"sweep {sweep.name}: {sweep.description}\noutput: {out}")
    variants = list(dict.fromkeys(sweep.variants))
    builds = _builds(args, variants, out / "logs")
    missing = _report_builds(builds, repo)
    if missing:
        print(f"NOT BUILT: {', '.join(missing)}: no point was run", file=sys.stderr)
        return 1
    if any(t != NO_TLB for t in sweep.tlb):
        plugin = _plugin(args, repo, out)
        if not plugin.ok:
            print(f"TLB MODEL NOT BUILT: {plugin.error}\n  command: {plugin.command}\n"
                  f"  log:     {plugin.log}\n{log_tail(plugin.log)}", file=sys.stderr)
            return 1
    ident = identity(args.qemu)
    points, keys = prepare(sweep, repo, commit=f"{ident['commit']}+{ident['harness_sources']}")
    timeout = args.timeout or sweep.timeout or DEFAULT_TIMEOUT
    opts = RunOptions(repo=repo, results=out, quick=sweep.quick, timeout=timeout,
                      qemu=args.qemu, workers=args.jobs, progress=not args.no_progress)
    with start_engine(args) as engine:
        opts.engine = engine
        rep = run_sweep(sweep, points, keys, opts, out)
        retries = [e for e in engine.events if e.what == "retry"]
    print(f"sweep {sweep.name}: {rep.points} points: {rep.skipped} skipped (already measured), "
          f"{rep.measured} measured, {len(rep.failed)} failed; {len(retries)} boot(s) "
          f"resubmitted after a worker died; {rep.seconds:.1f} s of runs, "
          f"{time.monotonic() - start:.1f} s in all")
    print(f"wrote {rep.csv}")
    if rep.failed:
        print("FAILED points (measured again by the next run): "
              + ", ".join(lbl for lbl, _ in rep.failed) + f" (logs under {out / 'logs'})",
              file=sys.stderr)
        return 1
    return 0


def _ensure_built(args: argparse.Namespace, v: Variant, repo: Path, logs: Path) -> None:
    """`make` for the variant before every boot (make decides what is stale: a program added or
    changed since the last build is in the image that boots); with --no-build the existing
    kernel, which must exist."""
    kernel = repo / variant_dir(v) / "kernel.elf"
    if args.no_build:
        if not kernel.is_file():
            raise UserError(f"{v.name} is not built ({kernel} missing) and --no-build was "
                            f"given; build it with `{PROG} build -V {v.name}`")
        return
    res = build_variant(v, repo, logs)
    if not res.ok:
        from .errors import BuildError
        raise BuildError(f"cannot run: {v.name} does not build ({res.error}); last lines of "
                         f"the log:\n{log_tail(res.log)}", variant=v.name,
                         command=res.commands[-1] if res.commands else "make", log=res.log)
    print(f"built    {v.name}: {variant_dir(v)}/kernel.elf (make: {res.seconds:.1f} s)",
          file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    from .parse import WALL_METRIC, Context, parse_console
    repo = _repo(args)
    v = variant_by_name(args.variant, repo)
    results = _log_dir(args, repo)
    _ensure_built(args, v, repo, results / "logs")
    opts = RunOptions(repo=repo, results=results, timeout=args.timeout, qemu=args.qemu)
    if args.tlb:
        from .measure import tlb_boot
        from .tlb import CYCLE_MODEL_TEXT, report_module
        if not (repo / PLUGIN).is_file():
            raise UserError(f"--tlb: the TLB-model plugin {PLUGIN} is not built (make tlbmodel)")
        res, rep, report = tlb_boot(v, [args.program, *args.args], args.tlb, opts,
                                    args.kaslr_seed)
        print(f"command: {format_command(res.command)}\nlog: {res.log}\nreport: {report}")
        print(report_module().table(rep))
        print(CYCLE_MODEL_TEXT)
        return 0
    mode = "icount" if args.icount else "wall"
    log = log_path(results / "logs", v.name, args.program, f"manual-{mode}", 0)
    res = boot(v, [args.program, *args.args], icount=args.icount, log=log, opts=opts,
               check=False, seed=args.kaslr_seed)
    failed = res.exit_status != 0 or res.timed_out
    print(f"command: {format_command(res.command)}\nlog: {log}\nexit status: "
          f"{res.exit_status}{' (timed out)' if res.timed_out else ''}")
    if failed:  # the console says why (e.g. the kernel's "no such program" line)
        print(f"last console lines:\n{res.tail()}")
    out = parse_console(res.console, Context(v.name, res.command, log))
    for rec in out.benches:
        values = rec.values if args.icount else {
            k: x for k, x in rec.values.items() if k in (WALL_METRIC, "iters")}
        print(f"@bench {rec.bench} {rec.params} {values}")
    if out.benches and not args.icount:
        print("(a run without --icount: ns_per_op is host time; rdcycle and rdinstret read host "
              "clock ticks there, so instruction counts and counters need --icount)")
    if out.slots:
        print(f"@slot: {len(out.slots)} lines, {len(set(out.slots))} distinct")
    return 1 if failed else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_args(argv)
        if args.command == "build":
            return cmd_build(args)
        if args.command in ("bench", "reproduce"):
            return cmd_bench(args, [sys.executable, "-m", "harness", *argv],
                             report=args.command == "reproduce")
        if args.command == "report":
            return cmd_report(args)
        if args.command == "docs":
            return cmd_docs(args)
        if args.command == "verify":
            return cmd_verify(args)
        if args.command == "sweep":
            return cmd_sweep(args)
        if args.command == "compare":
            return cmd_compare(args)
        if args.command == "run":
            return cmd_run(args)
    except UserError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except HarnessError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        # Interrupted (from the runs) carries the count of QEMU process groups it killed here
        # and on the workers; anywhere else only this process's runs can be running
        n = getattr(exc, "stopped", 0) + kill_running()
        allow_runs()  # main is done; a caller in the same process (a test) may run again
        print(f"{PROG}: interrupted: stopped {n} running QEMU run(s); no results were "
              f"replaced", file=sys.stderr)
        return 130
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"{PROG}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    return 2
