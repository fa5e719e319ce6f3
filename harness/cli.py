"""Command line: /usr/bin/python3 -m harness {build,bench,reproduce,report,run} [options]."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from .benchspec import (BENCH_BY_NAME, TLB_PRESETS_DEFAULT, TLB_PROBE, select_benches,
                        select_tlb_benches)
from .build import BuildResult, build_all, variant_dir
from .errors import HarnessError
from .measure import RunOptions, boot, log_path, run_all, static_facts
from .qemu import DEFAULT_QEMU, DEFAULT_TIMEOUT
from .tlb import (CYCLE_MODEL, PLUGIN, PRESET_TEXT, PluginBuild, build_plugin,
                  plugin_facts)
from .variants import VARIANT_NAMES, Variant, select_variants, variant_by_name

REPO_DEFAULT = Path(__file__).resolve().parent.parent
COMPILER = "riscv64-linux-gnu-g++"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python3 -m harness",
                                description="sv39lab benchmark harness (docs/harness.md)")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--repo", type=Path, default=REPO_DEFAULT,
                        help="repository root (default: %(default)s)")
        sp.add_argument("--results", type=Path, default=None,
                        help="output directory (default: REPO/results)")
        sp.add_argument("-V", "--variants", nargs="+", metavar="VARIANT", default=None,
                        choices=VARIANT_NAMES, help="variants (default: all six)")
        sp.add_argument("--make-jobs", type=int, default=2, help="make -jN (default 2)")
        sp.add_argument("-j", "--jobs", type=int, default=2,
                        help="parallel workers for builds and QEMU runs (default 2)")
        sp.add_argument("--no-progress", action="store_true", help="no tqdm progress bars")

    def measuring(sp: argparse.ArgumentParser) -> None:
        common(sp)
        sp.add_argument("-B", "--benches", nargs="+", metavar="BENCH", default=None,
                        choices=list(BENCH_BY_NAME), help="benchmarks (default: all)")
        sp.add_argument("--quick", action="store_true",
                        help="small iteration counts and 2 repetitions (for tests)")
        sp.add_argument("--reps", type=int, default=None,
                        help="wall-time repetitions per benchmark (default 5, --quick 2)")
        sp.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="seconds per QEMU run (default %(default)s)")
        sp.add_argument("--qemu", default=DEFAULT_QEMU, help="QEMU binary (default %(default)s)")
        sp.add_argument("--no-build", action="store_true",
                        help="use the existing build/variants/*/kernel.elf")
        sp.add_argument("--no-kaslr", action="store_true", help="skip the kaslr_probe runs")
        sp.add_argument("--strict", action="store_true",
                        help="exit non-zero when a variant (or the TLB plugin) is not built, "
                             "too")
        sp.add_argument("--tlb-presets", nargs="+", metavar="PRESET",
                        default=list(TLB_PRESETS_DEFAULT), choices=sorted(PRESET_TEXT),
                        help="TLB-model presets to run (default: %(default)s; see "
                             "docs/tlbmodel.md)")
        sp.add_argument("--no-tlb", action="store_true",
                        help="skip the TLB-model runs (and the plugin build)")

    common(sub.add_parser("build", help="build the variants into build/variants/<name>"))
    measuring(sub.add_parser("bench", help="build, run the benchmarks, write "
                                           "measurements.csv, facts.json, metadata.json"))
    measuring(sub.add_parser("reproduce", help="bench, then the plots and comparison.md"))
    rp = sub.add_parser("report", help="plots and comparison.md from an existing "
                                       "measurements.csv and facts.json")
    rp.add_argument("--repo", type=Path, default=REPO_DEFAULT)
    rp.add_argument("--results", type=Path, default=None)
    run = sub.add_parser("run", help="boot one variant with one program (kernel must be built)")
    run.add_argument("variant", choices=VARIANT_NAMES)
    run.add_argument("program")
    run.add_argument("args", nargs=argparse.REMAINDER)
    run.add_argument("--repo", type=Path, default=REPO_DEFAULT)
    run.add_argument("--results", type=Path, default=None)
    run.add_argument("--icount", action="store_true")
    run.add_argument("--tlb", metavar="PRESET", default=None, choices=sorted(PRESET_TEXT),
                     help="run under the TLB-model plugin with this preset (implies --icount; "
                          "the plugin must be built)")
    run.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    run.add_argument("--qemu", default=DEFAULT_QEMU)
    return p


def _results(args: argparse.Namespace) -> Path:
    return (args.results or args.repo / "results").resolve()


def _builds(args: argparse.Namespace, variants: List[Variant], results: Path) -> List[BuildResult]:
    repo = args.repo.resolve()
    if getattr(args, "no_build", False):
        out = []
        for v in variants:
            kernel = repo / variant_dir(v) / "kernel.elf"
            ok = kernel.is_file()
            out.append(BuildResult(variant=v, ok=ok, build_dir=repo / variant_dir(v),
                                   kernel=kernel, log=results / "logs" / f"build-{v.name}.log",
                                   error=None if ok else "no kernel.elf (--no-build)"))
        return out
    return build_all(variants, repo, results / "logs", jobs=args.make_jobs, workers=args.jobs,
                     progress=not args.no_progress)


def _report_builds(builds: Sequence[BuildResult], repo: Path) -> Dict[str, str]:
    missing: Dict[str, str] = {}
    for b in builds:
        if b.ok:
            print(f"built    {b.variant.name}: {b.kernel.relative_to(repo)} ({b.seconds:.1f} s)")
        else:
            missing[b.variant.name] = str(b.log)
            print(f"MISSING  {b.variant.name}: {b.error}; log: {b.log}")
    return missing


def cmd_build(args: argparse.Namespace) -> int:
    results = _results(args)
    builds = _builds(args, select_variants(args.variants), results)
    missing = _report_builds(builds, args.repo.resolve())
    return 1 if missing else 0


def cmd_bench(args: argparse.Namespace, argv: Sequence[str], *, report: bool) -> int:
    start = time.monotonic()
    repo = args.repo.resolve()
    results = _results(args)
    variants = select_variants(args.variants)
    benches = select_benches(args.benches)
    reps = args.reps if args.reps is not None else (2 if args.quick else 5)
    builds = _builds(args, variants, results)
    missing = _report_builds(builds, repo)
    built = [b.variant for b in builds if b.ok]
    facts = static_facts(builds, variants, repo)
    tlb_presets: List[str] = [] if args.no_tlb else list(dict.fromkeys(args.tlb_presets))
    plugin = _plugin(args, repo, results) if tlb_presets and built else None
    facts["tlbmodel"] = plugin_facts(plugin, tlb_presets, enabled=bool(tlb_presets),
                                     repo=repo)
    if plugin is not None and not plugin.ok:
        print(f"TLB MODEL NOT BUILT: {plugin.error}; command: {plugin.command}; log: "
              f"{plugin.log} (TLB rows say 'not measured')")
    run_presets = tlb_presets if plugin is not None and plugin.ok else []
    tlb_benches = select_tlb_benches(benches)
    opts = RunOptions(repo=repo, results=results, quick=args.quick, reps=reps,
                      timeout=args.timeout, qemu=args.qemu, workers=args.jobs,
                      progress=not args.no_progress)
    df = run_all(built, benches, opts, facts, kaslr=not args.no_kaslr,
                 tlb_benches=tlb_benches, tlb_presets=run_presets, tlb_probe=True)

    from .tidy import write_csv
    results.mkdir(parents=True, exist_ok=True)
    write_csv(df, results / "measurements.csv")
    _write_json(results / "facts.json", facts)
    written = [results / "measurements.csv", results / "facts.json"]
    if report:
        written += _report(df, facts, results)
    elapsed = time.monotonic() - start
    from . import metadata
    options = {"quick": args.quick, "reps": reps, "timeout": args.timeout,
               "workers": args.jobs, "make_jobs": args.make_jobs,
               "benches": {b.name: list(b.argv(args.quick)) for b in benches},
               "variants": [v.name for v in variants], "kaslr": not args.no_kaslr,
               "tlb": {"presets": tlb_presets,
                       "plugin_built": None if plugin is None else plugin.ok,
                       "benches": {b.name: list(b.argv(args.quick)) for b in tlb_benches},
                       "probe": TLB_PROBE if tlb_presets else None,
                       "cycle_model": dict(CYCLE_MODEL)}}
    meta = metadata.collect(repo, qemu=args.qemu, compiler=COMPILER, argv=list(argv),
                            built=[v.name for v in built], missing=missing, elapsed=elapsed,
                            options=options)
    _write_json(results / "metadata.json", meta)
    written.append(results / "metadata.json")
    failures = [(name, f["bench"] + (f" (TLB model, {f['preset']})" if f.get("preset") else ""))
                for name, vf in facts["variants"].items() for f in vf["run_failures"]]
    print("wrote: " + ", ".join(str(p.relative_to(results)) if p.is_relative_to(results)
                                else str(p) for p in written))
    if missing:
        print(f"not built: {', '.join(missing)} (their cells say 'not built'; logs above)")
    plugin_missing = plugin is not None and not plugin.ok
    if plugin_missing:
        print(f"TLB model not built (log: {plugin.log}): TLB rows are 'not measured'")
    if failures:
        print("FAILED runs: " + ", ".join(f"{v} {b}" for v, b in failures)
              + f" (logs under {results / 'logs'})")
    print(f"elapsed: {elapsed:.1f} s")
    if failures or (args.strict and (missing or plugin_missing)):
        return 1
    return 0


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


def _report(df: Any, facts: Dict[str, Any], results: Path) -> List[Path]:
    from .plots import make_plots
    from .table import render_comparison
    written, skipped = make_plots(df, results / "plots")
    for s in skipped:
        print(f"plot skipped: {s}")
    md = results / "comparison.md"
    md.write_text(render_comparison(df, facts))
    return written + [md]


def cmd_report(args: argparse.Namespace) -> int:
    from .tidy import read_csv
    results = _results(args)
    df = read_csv(results / "measurements.csv")
    facts = json.loads((results / "facts.json").read_text())
    for p in _report(df, facts, results):
        print(f"wrote {p}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .parse import Context, parse_console
    repo = args.repo.resolve()
    v = variant_by_name(args.variant)
    results = _results(args)
    opts = RunOptions(repo=repo, results=results, timeout=args.timeout, qemu=args.qemu)
    if args.tlb:
        from .measure import tlb_boot
        from .tlb import CYCLE_MODEL_TEXT, report_module
        res, rep, report = tlb_boot(v, [args.program, *args.args], args.tlb, opts)
        print(f"command: {' '.join(res.command)}\nlog: {res.log}\nreport: {report}")
        print(report_module().table(rep))
        print(CYCLE_MODEL_TEXT)
        return 0
    mode = "icount" if args.icount else "wall"
    log = log_path(results / "logs", v.name, args.program, f"manual-{mode}", 0)
    res = boot(v, [args.program, *args.args], icount=args.icount, log=log, opts=opts,
               check=False)
    print(f"command: {' '.join(res.command)}\nlog: {log}\nexit status: {res.exit_status}"
          f"{' (timed out)' if res.timed_out else ''}")
    out = parse_console(res.console, Context(v.name, res.command, log))
    for rec in out.benches:
        print(f"@bench {rec.bench} {rec.params} {rec.values}")
    if out.slots:
        print(f"@slot: {len(out.slots)} lines, {len(set(out.slots))} distinct")
    return 0 if res.exit_status == 0 and not res.timed_out else 1


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    try:
        if args.command == "build":
            return cmd_build(args)
        if args.command in ("bench", "reproduce"):
            return cmd_bench(args, [sys.executable, "-m", "harness", *argv],
                             report=args.command == "reproduce")
        if args.command == "report":
            return cmd_report(args)
        if args.command == "run":
            return cmd_run(args)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 2
