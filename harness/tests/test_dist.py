"""The dask engine and `harness sweep` (harness/dist.py, harness/sweep.py).

The cluster tests start a real `dask scheduler` and real `dask worker` processes on the
loopback interface (stopped at the end), boot the real kernels and compare what comes back with
the same sweep run on the default LocalCluster: identical instruction and TLB-model counts."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, List

import pandas as pd
import pytest

from harness.dist import identity, identity_mismatches
from harness.errors import UserError
from harness.sweep import NO_TLB, expand, load_sweep, point_key

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "configs" / "sweeps" / "smoke.toml"
PY = "/usr/bin/python3"
DASK = shutil.which("dask") or "/usr/bin/dask"


# ------------------------------------------------------------------ unit: files and keys

def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "s.toml"
    p.write_text(text)
    return p


@pytest.mark.unit
@pytest.mark.parametrize("text, message", [
    ("x = 1\n[dimensions]\nvariant=['s1-asid']\nbench=['bench_null']\n", "unknown key"),
    ("[dimensions]\nbench=['bench_null']\n", "needs `variant`"),
    ("[dimensions]\nvariant=['s9']\nbench=['bench_null']\n", "unknown variant 's9'"),
    ("[dimensions]\nvariant=['s1-asid']\nbench=['bench_nope']\n", "unknown benchmark"),
    ("[dimensions]\nvariant=['s1-asid']\nbench=['bench_null']\ntlb=['k210']\n", "neither"),
    ("[dimensions]\nvariant=['s1-asid']\nbench=['bench_null']\ncolour=['red']\n",
     "unknown dimension"),
    ("[dimensions]\nvariant=['s1-asid','s1-asid']\nbench=['bench_null']\n", "twice"),
    ("[dimensions]\nvariant=['s1-asid']\nbench=['bench_null']\nkaslr_seed=[-1]\n",
     "non-negative"),
    ("[dimensions\n", "not valid TOML"),
])
def test_sweep_file_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        load_sweep(_write(tmp_path, text))


@pytest.mark.unit
def test_expand_and_keys(tmp_path: Path) -> None:
    sweep = load_sweep(_write(tmp_path, """
quick = true
[dimensions]
variant = ["s2-asid", "s3-asid", "s2-asid-dc"]
bench = ["bench_null", "bench_pipe"]
tlb = ["none", "c906"]
kaslr_seed = [1, 2]
[args]
bench_null = ["77"]
"""))
    points = expand(sweep)
    # s2: 2 benches x 2 tlb; s3: 2 x 2 x 2 seeds; s2-dc runs bench_pipe only: 1 x 2
    assert len(points) == 4 + 8 + 2
    assert {p.kaslr_seed for p in points if p.variant.scheme == 2} == {None}
    assert all(p.argv == ("77",) for p in points if p.bench == "bench_null")
    # a TLB point takes the TLB run's arguments, a plain point the benchmark's quick ones
    pipe = {p.tlb: p.argv for p in points if p.bench == "bench_pipe" and p.variant.name == "s2-asid"}
    assert pipe[NO_TLB] != pipe["c906"]
    keys = {point_key(p, commit="c", kernel_sha="k", plugin_sha="p") for p in points}
    assert len(keys) == len(points)
    p = points[0]
    assert point_key(p, commit="c", kernel_sha="k", plugin_sha="p") != \
        point_key(p, commit="d", kernel_sha="k", plugin_sha="p")
    assert point_key(p, commit="c", kernel_sha="k", plugin_sha="p") != \
        point_key(p, commit="c", kernel_sha="k2", plugin_sha="p")


@pytest.mark.unit
def test_identity_mismatch_names_the_worker() -> None:
    mine = {"commit": "aaa", "harness_sources": "h", "qemu": "QEMU 10", "compiler": "gcc 12"}
    same = dict(mine, host="m1", harness="/x/harness", error=None)
    other = dict(same, commit="bbb", host="m2")
    broken = {"host": "m3", "error": "cannot import the harness"}
    assert identity_mismatches(mine, {"tcp://a:1": same}) == []
    problems = identity_mismatches(mine, {"tcp://a:1": same, "tcp://b:2": other,
                                          "tcp://c:3": broken})
    assert len(problems) == 2
    assert "tcp://b:2" in problems[0] and "'bbb'" in problems[0] and "'aaa'" in problems[0]
    assert "tcp://c:3" in problems[1] and "cannot import" in problems[1]


# ------------------------------------------------------------------ a localhost cluster

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A real scheduler and workers on 127.0.0.1, each its own process group."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.procs: dict[str, subprocess.Popen] = {}
        env = dict(os.environ, DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="0")
        self._start("scheduler", [DASK, "scheduler", "--host", "127.0.0.1", "--port",
                                  str(self.port), "--no-dashboard"], REPO, env)

    def _start(self, name: str, cmd: List[str], cwd: Path, env: dict) -> None:
        out = open(self.logs / f"{name}.log", "wb")
        self.procs[name] = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)

    def add_worker(self, name: str, checkout: Path = REPO) -> None:
        env = dict(os.environ, PYTHONPATH=str(checkout))
        self._start(name, [DASK, "worker", self.address, "--nthreads", "1", "--nworkers", "1",
                           "--no-dashboard", "--name", name], checkout, env)

    def wait_workers(self, n: int, timeout: float = 120) -> None:
        from distributed import Client
        with Client(self.address, timeout=60) as c:
            c.wait_for_workers(n, timeout=timeout)

    def kill(self, name: str) -> None:
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait()

    def stop(self) -> None:
        for p in self.procs.values():
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.stop()


def _sweep(args: List[str], timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "harness", "sweep", *args, "--no-progress"], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def _frame(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path)
    return df.sort_values(list(df.columns)).reset_index(drop=True)


@pytest.fixture(scope="module")
def local_smoke(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The smoke sweep on the default LocalCluster (builds what it needs)."""
    out = tmp_path_factory.mktemp("local") / "smoke"
    res = _sweep([str(SMOKE), "--results", str(out)])
    assert res.returncode == 0, res.stdout + res.stderr
    return out


@pytest.mark.kernel
def test_sweep_resumes(local_smoke: Path) -> None:
    """A rerun at the same commit and kernels measures nothing again."""
    before = _frame(local_smoke / "sweep.csv")
    res = _sweep([str(SMOKE), "--results", str(local_smoke), "--no-build"])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "8 points: 8 skipped (already measured), 0 measured, 0 failed" in res.stdout
    pd.testing.assert_frame_equal(before, _frame(local_smoke / "sweep.csv"))
    # every point is in the CSV, with icount rows for "none" and tlb rows for c906
    assert before["point"].nunique() == 8
    assert set(before["mode"]) == {"icount", "tlb"}


@pytest.mark.kernel
def test_scheduler_matches_local_and_survives_a_dead_worker(local_smoke: Path, cluster: Cluster,
                                                            tmp_path: Path) -> None:
    """The same sweep through a localhost scheduler with two workers, one of them killed
    while it runs a boot: identical counts, every point once, the dead worker's boot retried."""
    from distributed import Client
    cluster.add_worker("w1")
    cluster.add_worker("w2")
    cluster.wait_workers(2)
    out = tmp_path / "remote"
    proc = subprocess.Popen([PY, "-m", "harness", "sweep", str(SMOKE), "--results", str(out),
                             "--no-build", "--no-progress", "--scheduler", cluster.address],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    try:
        with Client(cluster.address, timeout=60) as c:
            deadline = time.monotonic() + 300
            while killed is None and time.monotonic() < deadline and proc.poll() is None:
                for addr, keys in c.processing().items():
                    if any(str(k).startswith("boot-") for k in keys):
                        name = c.scheduler_info()["workers"][addr]["name"]
                        cluster.kill(str(name))
                        killed = name
                        break
                time.sleep(0.05)
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert killed is not None, "no boot was ever seen running on a worker"
    assert proc.returncode == 0, stdout + stderr
    assert "submitting it again (retry 1 of" in stderr, stderr
    assert "8 points: 0 skipped (already measured), 8 measured, 0 failed" in stdout
    remote = _frame(out / "sweep.csv")
    local = _frame(local_smoke / "sweep.csv")
    # nothing lost, nothing twice: the same rows, counts identical to the local run
    pd.testing.assert_frame_equal(local, remote)
    assert not remote.duplicated().any()
    assert len(list((out / "points").glob("*.json"))) == 8


@pytest.mark.kernel
def test_worker_at_another_commit_is_refused(cluster: Cluster, tmp_path: Path) -> None:
    """A worker whose harness is at another commit: refused before any boot is submitted."""
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", "--no-local", str(REPO), str(other)], check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit",
                    "-q", "--allow-empty", "-m", "another commit"], cwd=other, check=True)
    cluster.add_worker("w-same")
    cluster.add_worker("w-other", checkout=other)
    cluster.wait_workers(2)
    out = tmp_path / "refused"
    res = _sweep([str(SMOKE), "--results", str(out), "--no-build", "--scheduler",
                  cluster.address])
    assert res.returncode == 2, res.stdout + res.stderr
    assert "refusing to submit any run" in res.stderr
    assert "1 of 2 worker(s) differ" in res.stderr
    assert str(other) in res.stderr and "commit" in res.stderr
    assert not (out / "points").exists() or not list((out / "points").iterdir())
    assert not (out / "logs").exists() or not list((out / "logs").rglob("*.log*"))


@pytest.mark.unit
def test_identity_of_this_checkout() -> None:
    ident = identity(sys.executable)
    assert ident["harness"] == str(REPO / "harness")
    assert ident["harness_sources"] and ident["error"] is None
