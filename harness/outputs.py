"""Where a run's files go, and how they get there.

Every `bench`/`reproduce` run writes into a fresh staging directory and, at the end, replaces
its target directory with it in one step (two renames), so a target never holds a mix of two
runs. The committed `results/` is the target only of a *complete* `reproduce` (every variant,
every benchmark, the full counts, the TLB model) and is replaced only when that run succeeded;
every other run goes to `build/results/` (or `--results DIR`). A failed complete reproduce
leaves `results/` untouched and its output in `build/results/`.

`write_results` is the one function that writes the CSV, facts, metadata, plots and table: the
CLI and the pytest bench session (harness/tests/test_bench.py) both call it.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional

from .errors import UserError

# Files a harness results directory may hold; a directory with anything else in it (and not
# empty) is not replaced.
OWNED = {"measurements.csv", "facts.json", "metadata.json", "comparison.md", "plots", "logs",
         "robustness.csv", "complexity.json", "evidence"}
# Files that may sit in a results directory and are carried over to its replacement.
PRESERVED = {".gitkeep", ".gitignore", "README.md"}


def official_results(repo: Path) -> Path:
    return (repo / "results").resolve()


def scratch_results(repo: Path) -> Path:
    return (repo / "build" / "results").resolve()


def check_replaceable(target: Path) -> None:
    """Refuse a target that exists and is not a (possibly empty) harness results directory,
    or whose parent cannot be written."""
    if target.exists() and not target.is_dir():
        raise UserError(f"--results {target}: exists and is not a directory")
    if target.is_dir():
        foreign = sorted(p.name for p in target.iterdir()
                         if p.name not in OWNED | PRESERVED)
        if foreign:
            raise UserError(f"refusing to replace {target}: it holds files the harness did not "
                            f"write ({', '.join(foreign[:5])}); choose another --results")
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {parent}: {exc.strerror}") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"cannot write results to {target}: {parent} is not writable")


def staging_dir(repo: Path, target: Path) -> Path:
    """A fresh, empty staging directory beside the build tree (inside build/ when the target is
    in the repository, else beside the target)."""
    try:
        target.relative_to(repo.resolve())
        base = repo.resolve() / "build"
    except ValueError:
        base = target.parent
    stage = base / f".{target.name}.staging-{os.getpid()}"
    try:
        if stage.exists():
            shutil.rmtree(stage)
        stage.mkdir(parents=True)
    except OSError as exc:
        raise UserError(f"cannot create the staging directory {stage}: {exc.strerror}") from None
    return stage


def replace_dir(stage: Path, target: Path) -> None:
    """Replace `target` by `stage`: rename the old one aside, rename stage in, delete the old.
    Across file systems the stage is copied next to the target first."""
    if stage.parent.resolve() != target.parent.resolve():
        near = target.parent / f".{target.name}.new-{os.getpid()}"
        if near.exists():
            shutil.rmtree(near)
        try:
            os.rename(stage, near)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            shutil.copytree(stage, near, symlinks=True)
            shutil.rmtree(stage)
        stage = near
    if target.is_dir():
        for name in PRESERVED:
            if (target / name).is_file() and not (stage / name).exists():
                shutil.copy2(target / name, stage / name)
    old: Optional[Path] = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        if old.exists():
            shutil.rmtree(old)
        os.rename(target, old)
    os.rename(stage, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def relocate(obj: Any, stage: Path, target: Path, repo: Path) -> Any:
    """Every string in obj with the staging directory's path (absolute or repo-relative)
    rewritten to the target's, so that facts and metadata name the files where they end up."""
    pairs = [(str(stage), str(target))]
    try:
        pairs.append((str(stage.relative_to(repo.resolve())),
                      str(target.relative_to(repo.resolve()))))
    except ValueError:
        pass

    def fix(x: Any) -> Any:
        if isinstance(x, str):
            for a, b in pairs:
                x = x.replace(a, b)
            return x
        if isinstance(x, list):
            return [fix(i) for i in x]
        if isinstance(x, dict):
            return {k: fix(v) for k, v in x.items()}
        return x

    return fix(obj)


def write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def write_results(directory: Path, df: Any, facts: Dict[str, Any],
                  meta: Optional[Dict[str, Any]], *, report: bool) -> List[Path]:
    """measurements.csv, facts.json, metadata.json (when given) and, with report, the plots
    and comparison.md, into `directory`. Returns the files written."""
    from .tidy import write_csv
    directory.mkdir(parents=True, exist_ok=True)
    write_csv(df, directory / "measurements.csv")
    write_json(directory / "facts.json", facts)
    written = [directory / "measurements.csv", directory / "facts.json"]
    if meta is not None:  # before the report: the evidence adds its hashes to it
        write_json(directory / "metadata.json", meta)
        written.append(directory / "metadata.json")
    if report:
        written += write_report(df, facts, directory)
    return written


def write_report(df: Any, facts: Dict[str, Any], directory: Path,
                 say: Any = print) -> List[Path]:
    """Every plot the harness owns (a plot it cannot draw is removed, never left stale),
    complexity.json (counted from this source tree), comparison.md, robustness.csv and the
    evidence (results/evidence/, when the run's logs are there)."""
    from .plots import make_plots
    from .report.complexity import count
    from .report.markdown import render_report
    from .report.verify import write_evidence
    cx = directory / "complexity.json"
    write_json(cx, count(Path(__file__).resolve().parent.parent))
    md, rob = render_report(df, report_facts(facts, directory))
    (directory / "comparison.md").write_text(md)
    (directory / "robustness.csv").write_text(rob)
    # after robustness.csv: the robustness matrix plot draws this run's file
    written, skipped = make_plots(df, directory / "plots")
    for s in skipped:
        say(f"plot not drawn: {s}")
    evidence = write_evidence(directory)
    return written + [cx, directory / "comparison.md", directory / "robustness.csv"] + evidence


def report_facts(facts: Dict[str, Any], directory: Path) -> Dict[str, Any]:
    """The facts the report reads: facts.json plus complexity.json when the results have it."""
    cx = directory / "complexity.json"
    if not cx.is_file():
        return facts
    return {**facts, "complexity": json.loads(cx.read_text())}
