"""Building a variant: its resolved configuration (harness/variants.py: the defconfig plus the
variant's settings, through Kconfiglib) is written to build/variants/<hash>/.config, where
<hash> is the first 12 hex digits of the SHA-256 of that .config, then `make O=... -jN` builds
it, all logged to results/logs/build-<name>.log. build/variants/<name> is a symbolic link to
the directory, for people.

The .config is written only when its content differs (the Makefile regenerates config.hpp
whenever .config is newer), so a repeated build is make's incremental no-op; but make always
runs: it, not the harness, decides whether the kernel is up to date with its sources, so no
run ever boots a stale image.

Builds of the same configuration are serialised by an flock on build/variants/<hash>.lock, so
several pytest-xdist workers (or a test run beside `make bench`) can ask for it safely.
"""
from __future__ import annotations

import fcntl
import os
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
    """The build directory of a variant, relative to the repository root (the O= value):
    keyed by the hash of its resolved .config, so two configurations never share one."""
    return VARIANTS_DIR / variant.config_hash


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
    lock_path = repo / VARIANTS_DIR / f"{variant.config_hash}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


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


def write_config(variant: Variant, directory: Path) -> bool:
    """Write the variant's resolved .config into `directory` unless it is already there;
    True when it was written."""
    text = variant.resolved.text
    path = directory / ".config"
    if _read(path) == text:
        return False
    directory.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".config.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return True


def _link_name(repo: Path, variant: Variant) -> None:
    """build/variants/<name> -> <hash> (best effort: a name is for people, not the harness)."""
    link = repo / VARIANTS_DIR / variant.name
    try:
        if link.exists() and not link.is_symlink():
            return  # a directory of an older harness: leave it alone
        if link.is_symlink() and os.readlink(link) == variant.config_hash:
            return
        tmp = link.with_name(f".{variant.name}.{os.getpid()}.link")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(variant.config_hash)
        os.replace(tmp, link)
    except OSError:
        pass


def build_variant(variant: Variant, repo: Path, log_dir: Path, *, make: str = "make",
                  jobs: int = 2) -> BuildResult:
    """Build one variant into build/variants/<hash>. Never raises for a failed build: the
    result says ok=False with the reason and the log (call .check() to raise)."""
    repo = repo.resolve()
    out = variant_dir(variant)
    log_path = log_dir / f"build-{variant.name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    result = BuildResult(variant=variant, ok=False, build_dir=repo / out,
                         kernel=repo / out / "kernel.elf", log=log_path)
    start = time.monotonic()
    with variant_lock(repo, variant), open(log_path, "w") as log:
        log.write(f"# harness build of {variant.name} ({variant.spec}) in {repo}\n")
        # 1. the configuration
        described = f"{out}/.config: {variant.defconfig}" + "".join(
            " + " + s for s in variant.settings)
        result.commands.append(f"(write {described})")
        if write_config(variant, repo / out):
            log.write(f"# wrote {described}\n")
        else:
            log.write(f"# {described} (unchanged)\n")
        _link_name(repo, variant)
        # 2. the build: make decides what is stale
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

