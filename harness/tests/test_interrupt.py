"""Ctrl-C during `harness bench`, as a terminal sends it (SIGINT to the whole foreground
process group: the harness, its dask workers), against the fake QEMU in hang mode: one line,
exit status 130, the true count of QEMU runs stopped, no retry, no staging directory, no QEMU
left running."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest

from .conftest import FAKE_QEMU

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


def _running(marker: str) -> List[int]:
    """Pids of the boots (not the `--version` probes) whose command line contains `marker`."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmdline = (d / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline and b"-append" in cmdline:
            found.append(int(d.name))
    return found


def test_ctrl_c_stops_the_runs_quietly(fake_repo: Path, tmp_path: Path) -> None:
    qemu = tmp_path / "hanging-qemu"  # a name only this test's QEMU processes carry
    qemu.symlink_to(FAKE_QEMU)
    env = dict(os.environ, FAKE_QEMU_MODE="timeout")
    cmd = [sys.executable, "-m", "harness", "bench", "--quick", "--repo", str(fake_repo),
           "--qemu", str(qemu), "--no-progress", "-j", "2", "-V", "s1-asid", "s2-asid",
           "-B", "bench_null", "--no-kaslr", "--no-tlb"]
    # As from a terminal: a shell without job control starts background commands with SIGINT
    # ignored, and Python keeps an inherited SIG_IGN (no KeyboardInterrupt at all); so the
    # harness gets the default disposition whatever ran this test.
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 240
        while len(_running(str(qemu))) < 2:  # both workers are in a (hanging) boot
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the two boots never started"
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, (out, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines == ["harness: interrupted: stopped 2 running QEMU run(s); no results were "
                     "replaced"], err
    assert "retry" not in out + err and "Traceback" not in out + err
    assert list((fake_repo / "build").glob(".results.staging-*")) == []
    assert not (fake_repo / "build" / "results").exists()  # nothing published
    for _ in range(100):  # killed process groups are reaped by their parents
        if not _running(str(qemu)):
            break
        time.sleep(0.1)
    assert _running(str(qemu)) == []


def test_ctrl_c_delivered_to_a_pool_thread_stops_the_run_loop(tmp_path: Path) -> None:
    """The kernel may deliver a terminal's SIGINT to any thread of the harness (a pool thread
    waiting for a boot, dask's IO thread); Python then only sets a flag for the main thread. The
    run loop must still raise Interrupted while the boot runs, not when it ends (its timeout):
    here the work item delivers SIGINT to its own thread and then waits to be released."""
    import threading

    from harness.errors import Interrupted
    from harness.measure import RunOptions, run_pool
    from harness.qemu import allow_runs

    release, finished = threading.Event(), threading.Event()

    def work(item: int) -> int:
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)
        release.wait(60)  # a boot that would run on
        finished.set()
        return item

    # an xdist worker may ignore SIGINT; a terminal-started harness has Python's handler
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(Interrupted):
            run_pool([1], work, RunOptions(repo=REPO, results=tmp_path, progress=False,
                                           workers=1),
                     on_done=lambda item, result: None, on_failed=lambda item, exc: None,
                     label=str, desc="test", unit="run")
        assert not finished.is_set(), "the loop waited for the running item to end"
    finally:
        signal.signal(signal.SIGINT, old)
        release.set()
        allow_runs()
