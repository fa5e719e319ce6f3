"""Building a variant: `make O=build/variants/<name> scheme<N>_defconfig`, `make O=... setconfig
SET="ASID=n"` (noasid only), then `make O=... -j2`, all logged to results/logs/build-<name>.log.

The configuration steps are first run into a staging directory and applied to the real build
directory only when they would change its .config: the Makefile touches generated/config.hpp
whenever .config is newer, so re-running the defconfig on every build would rebuild the whole
kernel each time. With the staging check a repeated build is make's incremental no-op.

Builds of the same variant are serialised by an flock on build/variants/<name>.lock, so several
pytest-xdist workers (or a test run beside `make bench`) can ask for the same variant safely.
"""
from __future__ import annotations

import fcntl
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterator, List, Optional, Sequence

from .errors import BuildError, format_command
from .variants import Variant

VARIANTS_DIR = Path("build") / "variants"


def variant_dir(variant: Variant) -> Path:
    """The build directory of a variant, relative to the repository root (the O= value)."""
    return VARIANTS_DIR / variant.name


@dataclass
class BuildResult:
    variant: Variant
    ok: bool
    build_dir: Path          # absolute
    kernel: Path             # absolute path of kernel.elf (exists when ok)
    log: Path
    commands: List[str] = field(default_factory=list)
    error: Optional[str] = None
    seconds: float = 0.0

    def check(self) -> "BuildResult":
        """Raise BuildError unless the build succeeded."""
        if not self.ok:
            raise BuildError(self.error or "build failed", variant=self.variant.name,
                             command=self.commands[-1] if self.commands else "make",
                             log=self.log)
        return self


@contextmanager
def variant_lock(repo: Path, variant: Variant) -> Iterator[None]:
    lock_path = repo / VARIANTS_DIR / f"{variant.name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def config_commands(variant: Variant, out: Path, make: str = "make") -> List[List[str]]:
    cmds = [[make, f"O={out}", variant.defconfig]]
    if variant.setconfig:
        cmds.append([make, f"O={out}", "setconfig", "SET=" + " ".join(variant.setconfig)])
    return cmds


def build_command(variant: Variant, out: Path, make: str = "make", jobs: int = 2) -> List[str]:
    return [make, f"O={out}", f"-j{jobs}"]


def _run_logged(cmd: Sequence[str], repo: Path, log: IO[str]) -> int:
    log.write(f"$ {format_command(cmd)}\n")
    log.flush()
    try:
        proc = subprocess.run(list(cmd), cwd=repo, stdin=subprocess.DEVNULL, stdout=log,
                              stderr=subprocess.STDOUT, check=False)
    except FileNotFoundError as exc:
        log.write(f"harness: cannot run {cmd[0]}: {exc}\n")
        return 127
    log.write(f"[exit status {proc.returncode}]\n")
    log.flush()
    return proc.returncode


def _read(path: Path) -> Optional[str]:
    try:
        return path.read_text()
    except OSError:
        return None


def _configure(variant: Variant, directory: Path, make: str, repo: Path, log: IO[str],
               result: BuildResult) -> bool:
    """Run the configuration commands for `directory`, recording them in `result`; False (with
    result.error set) at the first one that fails."""
    for cmd in config_commands(variant, directory, make):
        result.commands.append(format_command(cmd))
        rc = _run_logged(cmd, repo, log)
        if rc != 0:
            result.error = f"configuration step failed with status {rc}"
            return False
    return True


def build_variant(variant: Variant, repo: Path, log_dir: Path, *, make: str = "make",
                  jobs: int = 2) -> BuildResult:
    """Build one variant into build/variants/<name>. Never raises for a failed build: the
    result says ok=False with the reason and the log (call .check() to raise)."""
    repo = repo.resolve()
    out = variant_dir(variant)
    staging = VARIANTS_DIR / ".staging" / variant.name
    log_path = log_dir / f"build-{variant.name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    result = BuildResult(variant=variant, ok=False, build_dir=repo / out,
                         kernel=repo / out / "kernel.elf", log=log_path)
    start = time.monotonic()
    with variant_lock(repo, variant), open(log_path, "w") as log:
        log.write(f"# harness build of {variant.name} in {repo}\n")
        # 1. the configuration, staged
        if not _configure(variant, staging, make, repo, log, result):
            result.seconds = time.monotonic() - start
            return result
        wanted = _read(repo / staging / ".config")
        current = _read(repo / out / ".config")
        if wanted is None or wanted != current:
            log.write("# configuration differs from the build directory's: applying it\n")
            if not _configure(variant, out, make, repo, log, result):
                result.seconds = time.monotonic() - start
                return result
        else:
            log.write(f"# {out}/.config is already {variant.defconfig}"
                      f"{' + ' + ' '.join(variant.setconfig) if variant.setconfig else ''}\n")
        # 2. the build
        cmd = build_command(variant, out, make, jobs)
        result.commands.append(format_command(cmd))
        rc = _run_logged(cmd, repo, log)
        result.seconds = time.monotonic() - start
        if rc != 0:
            result.error = f"make failed with status {rc}"
            return result
        if not result.kernel.is_file():
            result.error = f"make succeeded but {out}/kernel.elf does not exist"
            return result
        result.ok = True
        return result


def build_all(variants: Sequence[Variant], repo: Path, log_dir: Path, *, make: str = "make",
              jobs: int = 2, workers: int = 2, progress: bool = True) -> List[BuildResult]:
    """Build several variants in parallel (thread pool; each make runs -j`jobs`)."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from tqdm import tqdm

    results: dict[str, BuildResult] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(build_variant, v, repo, log_dir, make=make, jobs=jobs): v
                   for v in variants}
        bar = tqdm(total=len(futures), desc="build", unit="variant", disable=not progress)
        for fut in as_completed(futures):
            res = fut.result()
            results[res.variant.name] = res
            bar.set_postfix_str(f"{res.variant.name}: {'ok' if res.ok else 'FAILED'}")
            bar.update(1)
        bar.close()
    return [results[v.name] for v in variants]

