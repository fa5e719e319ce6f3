"""The benchmark programs (user/bench/*) and their arguments, read from the programs
themselves: each program declares what the harness needs in a TOML block of `//!` comment lines
(any line of the file that starts with `//!`), one table per benchmark it provides:

    //! [bench_null]                 # the benchmark's name (the @bench lines' "bench")
    //! arguments = "iters (100000)" # for the docs' table: the arguments and their defaults,
    //! op = "`getpid`"              #   what one op is, the params of its lines,
    //! params = "`{}`"              #   and what it checks
    //! checks = "sum of pids"
    //! args = ["100000"]            # its arguments in a full run
    //! quick = ["2000"]             # and with --quick
    //! lines = 1                    # fewest @bench lines a full run prints (default 1)
    //! quick_lines = 1              # the same for --quick (default: lines)
    //! wall = true                  # wall-time runs too (false: icount only; default true)
    //! wall_reps = 3                # at most this many of them (default: the run's --reps)
    //! paging = false               # the demand-paging/COW variants run it too (default false)
    //! harts = false                # a multi-hart benchmark: the variants with harts > 1 run
    //!                              #   it, and only such benchmarks (default false)
    //! program = "bench_fork"       # the program run, when it is not the benchmark's name
    //! regions = "1"                # its TLB-model region ids, for the docs
    //! [bench_null.tlb]             # present: one -icount run per TLB-model preset as well
    //! args = ["2000"]
    //! quick = ["200"]

A new benchmark is therefore one file, user/bench/NAME.cpp (or user/bench/NAME/main.cpp): the
Makefile embeds it, this module finds it, `--help`, docs/userspace.md's table (`python3 -m
harness.benchspec --check-docs`) and the fake QEMU of the tests derive from it.
The names are an interface."""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

REPO_DEFAULT = Path(__file__).resolve().parent.parent
DECL_PREFIX = "//!"


@dataclass(frozen=True)
class BenchSpec:
    name: str
    args: Tuple[str, ...]        # full run
    quick_args: Tuple[str, ...]  # --quick: small iteration counts, for tests
    min_lines: int = 1           # fewest `@bench` lines a successful full run prints
    quick_min_lines: int = 1     # the same for --quick
    # Whether wall-time (no -icount) runs are made. Without -icount QEMU's rdinstret and
    # rdcycle read host clock ticks, so a program that checks or reports instruction counts
    # cannot run there: bench_timer checks "instructions retired >= the spin's", which then
    # fails or passes by chance, and its only wall figure is the configured tick period.
    wall: bool = True
    # At most this many wall-time repetitions (0: the run's --reps): for a benchmark whose wall
    # figure is only labelled QEMU time, not compared, and whose run is long.
    wall_reps: int = 0
    # The program run (argv[0]) when it differs from `name`: one program measured two ways
    # (bench_fork plain and bench_fork with touched_kb sizes) needs two names.
    program: str = ""
    # Whether the demand-paging/COW (-dc) variants run it: only the benchmarks where the
    # paging choice matters (faults, fork of a touched process, pipes, the applications).
    demand_cow: bool = False
    # Whether it measures several harts (issue 17): the variants with harts > 1 run only these
    # (every other benchmark's figures are the one-hart variants'); one-hart variants run them too.
    multihart: bool = False
    # docs/userspace.md's table (arguments, op, params, checks) and the region ids, as declared
    doc: Dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    source: str = ""   # the file that declares it, relative to the repository

    @property
    def prog(self) -> str:
        return self.program or self.name

    def wall_runs(self, reps: int) -> int:
        """Its wall-time repetitions in a run of `reps`: none, or `reps` capped by wall_reps."""
        if not self.wall:
            return 0
        return min(reps, self.wall_reps) if self.wall_reps else reps

    def argv(self, quick: bool) -> Tuple[str, ...]:
        return self.quick_args if quick else self.args

    def expected_lines(self, quick: bool) -> int:
        return self.quick_min_lines if quick else self.min_lines


DOC_KEYS = ("arguments", "op", "params", "checks", "regions")
SPEC_KEYS = {"args", "quick", "lines", "quick_lines", "wall", "wall_reps", "paging", "harts", "program",
             "tlb"}
TLB_KEYS = {"args", "quick", "lines", "quick_lines"}


class DeclarationError(ValueError):
    """A benchmark declaration the harness cannot use (the message names the file)."""


def declaration_files(repo: Path) -> List[Path]:
    bench = repo / "user" / "bench"
    return sorted(list(bench.glob("*.cpp")) + list(bench.glob("*/main.cpp")))


def read_declaration(path: Path) -> Dict[str, Any]:
    """The TOML of a file's `//!` lines ({} when it has none)."""
    lines = [ln.strip()[len(DECL_PREFIX):].removeprefix(" ")
             for ln in path.read_text().splitlines() if ln.strip().startswith(DECL_PREFIX)]
    try:
        return tomllib.loads("\n".join(lines))
    except tomllib.TOMLDecodeError as exc:
        raise DeclarationError(f"{path}: its //! declaration is not valid TOML ({exc})") from None


def _args(table: Dict[str, Any], key: str, where: str) -> Tuple[str, ...]:
    v = table.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, (str, int)) and not isinstance(x, bool)
                                          for x in v):
        raise DeclarationError(f"{where}: {key} must be a list of arguments")
    return tuple(str(x) for x in v)


def _count(table: Dict[str, Any], key: str, default: int, where: str) -> int:
    v = table.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise DeclarationError(f"{where}: {key} must be a non-negative integer")
    return v


def _flag(table: Dict[str, Any], key: str, default: bool, where: str) -> bool:
    v = table.get(key, default)
    if not isinstance(v, bool):
        raise DeclarationError(f"{where}: {key} must be true or false")
    return v


def _spec(name: str, table: Dict[str, Any], program: str, where: str, source: str,
          keys: set) -> BenchSpec:
    unknown = set(table) - keys - set(DOC_KEYS)
    if unknown:
        raise DeclarationError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: "
                               f"{', '.join(sorted(keys | set(DOC_KEYS)))})")
    lines = _count(table, "lines", 1, where)
    return BenchSpec(name=name, args=_args(table, "args", where),
                     quick_args=_args(table, "quick", where), min_lines=lines,
                     quick_min_lines=_count(table, "quick_lines", lines, where),
                     wall=_flag(table, "wall", True, where),
                     wall_reps=_count(table, "wall_reps", 0, where),
                     program="" if program == name else program,
                     demand_cow=_flag(table, "paging", False, where),
                     multihart=_flag(table, "harts", False, where),
                     doc={k: str(table[k]) for k in DOC_KEYS if k in table}, source=source)


def load_benches(repo: Path = REPO_DEFAULT) -> Tuple[List[BenchSpec], List[BenchSpec]]:
    """(benchmarks, TLB-model benchmarks) declared by the programs under user/bench."""
    benches: List[BenchSpec] = []
    tlb: List[BenchSpec] = []
    seen: Dict[str, str] = {}
    for path in declaration_files(repo):
        rel = str(path.relative_to(repo))
        program = path.parent.name if path.name == "main.cpp" else path.stem
        for name, table in read_declaration(path).items():
            where = f"{rel}: [{name}]"
            if not isinstance(table, dict):
                raise DeclarationError(f"{where}: not a table")
            if name in seen:
                raise DeclarationError(f"{where}: also declared in {seen[name]}")
            seen[name] = rel
            prog = str(table.get("program", program))
            if prog != program:
                # another program's benchmark must be declared by that program's own file
                raise DeclarationError(f"{where}: program {prog!r} is not this file's "
                                       f"({program!r})")
            spec = _spec(name, {k: v for k, v in table.items() if k != "tlb"}, prog, where, rel,
                         SPEC_KEYS)
            benches.append(spec)
            if "tlb" in table:
                t = table["tlb"]
                if not isinstance(t, dict):
                    raise DeclarationError(f"{where}: tlb must be a table ([{name}.tlb])")
                tlb.append(dataclasses.replace(
                    _spec(name, t, prog, f"{where}.tlb", rel, TLB_KEYS),
                    demand_cow=spec.demand_cow, multihart=spec.multihart, doc=spec.doc))  # same variants as its runs
    return benches, tlb


BENCHES, TLB_BENCHES = load_benches()
BENCH_BY_NAME: Dict[str, BenchSpec] = {b.name: b for b in BENCHES}


def runs_in(spec: BenchSpec, variant) -> bool:
    """Whether `variant` (harness.variants.Variant) runs `spec`: every variant runs every
    benchmark, except that the -dc variants run only those with spec.demand_cow and the
    variants with harts > 1 only those with spec.multihart; a variant that lists `benches`
    (configs/variants.toml) runs only those of them."""
    if getattr(variant, "harts", 1) > 1 and not spec.multihart:
        return False
    only = getattr(variant, "benches", ())
    if only and spec.name not in only:
        return False
    return spec.demand_cow or not getattr(variant, "demand_cow", False)


def select_benches(names: List[str] | None) -> List[BenchSpec]:
    if not names:
        return list(BENCHES)
    out = []
    for n in names:
        if n not in BENCH_BY_NAME:
            from .errors import UserError
            raise UserError(f"unknown benchmark {n!r}; known: {', '.join(BENCH_BY_NAME)} (a "
                            f"new one is declared in its program: docs/first-experiment.md)")
        out.append(BENCH_BY_NAME[n])
    return out


# Scheme 3 draws each process's kernel slot at random, so some of its figures (page-table
# pages, walk counts, fork instructions) depend on the draw. Its measurement runs boot with
# `kaslr_seed=N` (the kernel then draws reproducibly and says so on the console): one icount
# run (and one TLB-model run) per seed, wall repetitions cycling through them. The figures are
# reported over the seeds (mean, min-max, n); the list is stored in metadata.json. kaslr_probe
# is never seeded: it measures the real randomness source.
KASLR_SEEDS = (1, 2, 3, 4, 5)
KASLR_SEEDS_QUICK = (1, 2)

# The security probe: `kaslr_probe N` forks N processes, each prints `@slot 0x...`; N is
# declared in user/kaslr_probe.cpp (`//! [kaslr_probe] processes = N`).
KASLR_PROBE = "kaslr_probe"


def _probe_processes(repo: Path) -> int:
    path = repo / "user" / f"{KASLR_PROBE}.cpp"
    table = read_declaration(path).get(KASLR_PROBE, {})
    n = table.get("processes")
    if not isinstance(n, int) or isinstance(n, bool) or n < 2:
        raise DeclarationError(f"{path}: needs `//! [kaslr_probe]` with processes = N (N >= 2)")
    return n


KASLR_PROCESSES = _probe_processes(REPO_DEFAULT)
KASLR_MODE = "seq"  # one child after another: independent draws (user/kaslr_probe.cpp)


# ------------------------------------------------------------------ TLB-model runs
# One -icount run per (variant, preset) under the TLB-model plugin (harness/tlb.py) for each of
# these, with the counts chosen for time (each run takes about 0.5 s under the plugin on the
# project machine); per-op figures come from the benchmarks' region markers, so the counts
# only set how many operations are averaged.
TLB_BENCH_BY_NAME: Dict[str, BenchSpec] = {b.name: b for b in TLB_BENCHES}
# The Meltdown-style probe (user/kernel_probe.cpp): `kernel_probe TRIALS`, no @bench lines;
# each probe repeated TRIALS times so that the report gives a hit rate (issue 15: >= 100).
TLB_PROBE = "kernel_probe"
TLB_PROBE_TRIALS = 100
TLB_PRESETS_DEFAULT = ("u54", "c906")


def select_tlb_benches(benches: List[BenchSpec]) -> List[BenchSpec]:
    """The TLB-model runs for a benchmark selection: those of the selected benchmarks."""
    names = {b.name for b in benches}
    return [t for t in TLB_BENCHES if t.name in names]


# ------------------------------------------------------------------ the docs' table

DOCS_FILE = Path("docs") / "userspace.md"
DOCS_BEGIN = ("<!-- the benchmark table: generated from the programs' //! declarations by "
              "`make benchdocs`; edit those, not this -->")
DOCS_END = "<!-- end of the benchmark table -->"


def markdown_table(benches: Sequence[BenchSpec] = (), tlb: Sequence[BenchSpec] = ()) -> str:
    """docs/userspace.md's benchmark table, from the declarations."""
    benches = list(benches) or BENCHES
    tlb_names = {t.name for t in (list(tlb) or TLB_BENCHES)}
    cell = lambda s: s.replace("|", "\\|")  # noqa: E731
    out = ["| benchmark (program) | arguments (defaults) | full / --quick | one op | params | "
           "checks | runs | TLB regions |", "|" + " --- |" * 8]
    for b in benches:
        d = b.doc
        prog = f"`{b.name}`" + (f" (`{b.prog}`)" if b.program else "")
        wall = f"icount, wall (at most {b.wall_reps})" if b.wall_reps else "icount, wall"
        runs = ("icount" if not b.wall else wall) + (
            ", TLB model" if b.name in tlb_names else "") + (
            "; -dc variants too" if b.demand_cow else "")
        counts = f"`{' '.join(b.args) or '(none)'}` / `{' '.join(b.quick_args) or '(none)'}`"
        out.append("| " + " | ".join([prog, cell(d.get("arguments", "")), counts,
                                       cell(d.get("op", "")), cell(d.get("params", "")),
                                       cell(d.get("checks", "")), runs,
                                       cell(d.get("regions", "—"))]) + " |")
    return "\n".join(out)


def render_docs(text: str, table: str) -> str:
    """`text` (docs/userspace.md) with its generated table replaced by `table`."""
    if DOCS_BEGIN not in text or DOCS_END not in text:
        raise ValueError(f"{DOCS_FILE}: no generated benchmark table (markers missing)")
    head, rest = text.split(DOCS_BEGIN, 1)
    _, tail = rest.split(DOCS_END, 1)
    return f"{head}{DOCS_BEGIN}\n{table}\n{DOCS_END}{tail}"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`/usr/bin/python3 -m harness.benchspec [--write-docs | --check-docs]`: print the
    declared benchmarks (or write/check docs/userspace.md's table)."""
    import argparse
    import sys
    p = argparse.ArgumentParser(prog="python3 -m harness.benchspec",
                                description="the benchmarks the programs under user/bench "
                                            "declare")
    p.add_argument("--repo", type=Path, default=REPO_DEFAULT)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--write-docs", action="store_true", help=f"rewrite {DOCS_FILE}'s table")
    g.add_argument("--check-docs", action="store_true",
                   help=f"exit 1 when {DOCS_FILE}'s table differs from the declarations")
    args = p.parse_args(argv)
    try:
        benches, tlb = load_benches(args.repo)
    except DeclarationError as exc:
        print(f"harness.benchspec: {exc}", file=sys.stderr)
        return 2
    table = markdown_table(benches, tlb)
    if not (args.write_docs or args.check_docs):
        print(table)
        return 0
    doc = args.repo / DOCS_FILE
    text = doc.read_text()
    want = render_docs(text, table)
    if args.check_docs:
        if want != text:
            print(f"{doc}: the benchmark table differs from the declarations; run "
                  f"`make benchdocs`", file=sys.stderr)
            return 1
        print(f"{doc}: the benchmark table matches the declarations")
        return 0
    if want != text:
        doc.write_text(want)
        print(f"wrote {doc}'s benchmark table ({len(benches)} benchmarks)")
    else:
        print(f"{doc}: the benchmark table is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
