"""docs/first-experiment.md, followed on a scratch copy of the repository: the benchmark file
and the commands are taken from the page itself (so the page cannot drift from what works),
with real kernels and QEMU. Asserts the new benchmark and the new variant's rows in the CSV,
the plot and the tables, and that no file under harness/ was touched."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import List, Tuple

import pytest

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "first-experiment.md"


def blocks(text: str, lang: str) -> List[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", text, flags=re.S | re.M)


def program_file(text: str) -> Tuple[str, str]:
    """(path, content) of the page's program block (its first line names the file)."""
    (cpp,) = blocks(text, "cpp")
    first, rest = cpp.split("\n", 1)
    m = re.match(r"// file: (\S+)$", first)
    assert m, "the program block starts with `// file: PATH`"
    return m.group(1), rest


def commands(text: str) -> List[str]:
    return [ln for b in blocks(text, "sh") for ln in b.splitlines() if ln.strip()]


def scratch_copy(dest: Path) -> Path:
    """The working tree's files (tracked and untracked, not ignored: no build/), as a fresh
    clone with local changes would have them."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                           check=True, capture_output=True).stdout.decode().split("\0")
    for f in filter(None, files):
        src = REPO / f
        if src.is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f)
    return dest


def test_the_walk_through_works(tmp_path: Path) -> None:
    text = DOC.read_text()
    repo = scratch_copy(tmp_path / "repo")
    harness_before = {p: p.read_bytes() for p in (repo / "harness").rglob("*.py")}
    # a kernel built before the program exists: the page's `harness run` must rebuild it (make
    # decides), never boot this stale image ("no such program")
    built = subprocess.run(["/usr/bin/python3", "-m", "harness", "build", "-V", "s2-asid",
                            "--no-progress"], cwd=repo, capture_output=True, text=True,
                           timeout=900)
    assert built.returncode == 0, built.stdout + built.stderr
    path, program = program_file(text)
    assert not (repo / path).exists()
    (repo / path).write_text(program)
    outputs = []
    for cmd in commands(text):
        assert cmd.startswith(("/usr/bin/python3 ", "make ")), f"not as a user types it: {cmd}"
        res = subprocess.run(["bash", "-c", cmd], cwd=repo, capture_output=True, text=True,
                             timeout=900)
        assert res.returncode == 0, f"{cmd}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
        outputs.append(res.stdout)
    # nothing under harness/ changed
    assert {p: p.read_bytes() for p in (repo / "harness").rglob("*.py")} == harness_before
    # step 1: the run, with instruction counts
    assert "@bench bench_yield {}" in outputs[0] and "insns_per_op" in outputs[0]
    # the docs' table lists the new benchmark
    assert "`bench_yield`" in (repo / "docs" / "userspace.md").read_text()
    # step 3: the CSV has both benchmarks on both variants, told apart by `config`
    from harness.tidy import read_csv
    out = repo / "build" / "first"
    df = read_csv(out / "measurements.csv")
    got = df.groupby(["variant", "config", "bench", "mode"]).size()
    for variant, config in (("s2-asid", ""), ("s2-hz1000", "TIMER_HZ=1000")):
        for bench in ("bench_null", "bench_yield"):
            assert got.get((variant, config, bench, "icount"), 0) > 0, (variant, bench)
            assert got.get((variant, config, bench, "wall"), 0) == 2, (variant, bench)
    yield_insns = df[(df.bench == "bench_yield") & (df.metric == "insns_per_op")]
    assert (yield_insns["value"] > 0).all() and len(yield_insns) == 2
    assert "s2-hz1000" in (out / "comparison.md").read_text()
    assert (out / "plots" / "null_syscall.png").is_file()
    # step 4: the table and the plot of the new benchmark
    compare = outputs[3]
    assert re.search(r"\| `bench_yield` \| — \| [\d,.]+ \| [\d,.]+ \|", compare), compare
    assert "| benchmark | params | s2-asid | s2-hz1000 |" in compare
    assert (out / "plots" / "yield.png").stat().st_size > 0
    assert "bench_yield" in outputs[4] and "host ns" in outputs[4]
    assert re.search(r"s2-hz1000\s+TIMER_HZ=1000\s+icount", outputs[5]), outputs[5]
