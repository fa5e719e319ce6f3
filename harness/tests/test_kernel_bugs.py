"""Issue 16's kernel bugs and issue 18's Ctrl-C, on real kernels (and one host-compiled header).

- The tick-to-nanosecond conversion (kernel/lib/time.hpp) compiled for the host and compared
  with exact integer arithmetic: a 24 MHz timebase used to run 1.6 % slow, above 1 GHz gave 0.
- Under -icount (deterministic) in the paging configurations of every scheme: the bounds of
  `usertests --icount`: a long console write keeps another process waiting at most a few
  ticks (a 1 MiB write under -icount), and fork, munmap and exit of a 120 GiB untouched area take a bounded number of
  instructions; the console's ENOMEM paths and the heap giving frames back run there too.
- Ctrl-C (0x03 on QEMU's stdin) in `sh` ends a runaway pipeline, prints a message and the prompt
  comes back.
"""
from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path
from typing import List

import pytest

from harness.tests.kboot import REPO, boot, build_config, where

from harness.tests.test_workloads import CONFIGS as WORKLOAD_CONFIGS

LOGS = REPO / "build" / "test-logs" / "kernel-bugs"

# test_workloads.py's paging configurations, by the same names: both share one build each.
CONFIGS = {name: cfg for name, cfg in WORKLOAD_CONFIGS.items() if name.endswith("-paging")}


def kernel(name: str) -> Path:
    scheme, options = CONFIGS[name]
    return build_config(name, scheme, options, LOGS)


# ---------------------------------------------------------------- ticks to nanoseconds (host)
CASES = [
    (0, 10_000_000), (1, 10_000_000), (10_000_000, 10_000_000), (123_456_789_012, 10_000_000),
    (1, 24_000_000), (3, 24_000_000), (24_000_000, 24_000_000), (86_400 * 24_000_000 + 7, 24_000_000),
    (1, 1_000_000_000), (1, 2_000_000_000), (3, 2_000_000_000), (2_000_000_001, 2_000_000_000),
    (2**63, 2_000_000_000), (2**64 - 1, 24_000_000), (2**64 - 1, 10_000_000_000), (999_999_999, 3_579_545),
]


def exact_ns(ticks: int, hz: int) -> int:
    return min(ticks * 1_000_000_000 // hz, 2**64 - 1)


def test_ticks_to_ns_is_exact(tmp_path: Path) -> None:
    src = tmp_path / "t.cpp"
    lines = ['#include "lib/time.hpp"', "#include <cstdio>", "int main() {"]
    lines += [f"  printf(\"%llu\\n\", (unsigned long long)ticks_to_ns({t}ull, {hz}ull));" for t, hz in CASES]
    lines += ["  return 0;", "}"]
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "t"
    build = subprocess.run(["g++", "-std=c++20", "-O2", "-Wall", "-Werror", f"-I{REPO / 'kernel'}", str(src), "-o", str(exe)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    got = [int(x) for x in subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()]
    want = [exact_ns(t, hz) for t, hz in CASES]
    assert got == want


# ---------------------------------------------------------------- bounds under -icount
@pytest.mark.kernel
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_bounds_under_icount(name: str) -> None:
    tests = "console_enomem console_write_preempt huge_untouched_area heap_returns_frames kill run_queue"
    log = LOGS / name / "usertests-icount.log"
    rc, out, cmd = boot(kernel(name), f"init=usertests --icount {tests}", log, icount=True)
    assert rc == 0 and ", 0 failed" in out, f"usertests --icount failed in {name}{where(cmd, log)}"
    assert "huge_untouched_area: fork" in out and "instructions" in out, f"no instruction counts{where(cmd, log)}"
    assert "console_write_preempt: a 1048576-byte write took" in out, where(cmd, log)


# ---------------------------------------------------------------- Ctrl-C in sh
def _read_until(proc: subprocess.Popen, seen: bytearray, want: bytes, deadline: float, start: int = 0) -> bool:
    """Read the console into `seen` until `want` appears at or after offset `start`."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    while seen.find(want, start) < 0:
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            return False
        ready, _, _ = select.select([fd], [], [], min(left, 1.0))
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                return False
            seen += chunk
    return True


@pytest.mark.kernel
def test_ctrl_c_ends_the_foreground_job() -> None:
    """`gen 1000000000 | wc` would run for hours; 0x03 on the console ends both stages, sh says
    so and prompts again, and the shell still works (`exit 5` ends QEMU with status 5)."""
    kernel_path = build_config("s2-eager", 2, [], LOGS)
    log = LOGS / "s2-eager" / "ctrl-c.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd: List[str] = ["qemu-system-riscv64", "-machine", "virt", "-nographic", "-bios", "default", "-m", "128M",
                      "-kernel", str(kernel_path), "-append", "init=sh"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO)
    assert proc.stdin is not None
    seen = bytearray()
    try:
        deadline = time.monotonic() + 120
        assert _read_until(proc, seen, b"$ ", deadline), "no first prompt"
        mark = len(seen)
        proc.stdin.write(b"gen 1000000000 | wc\n")
        proc.stdin.flush()
        # The pipeline is running once gen's output stops the echo; give it a moment to start.
        assert _read_until(proc, seen, b"gen 1000000000 | wc", deadline, mark), "the command was not echoed"
        time.sleep(1.0)
        assert seen.find(b"$ ", mark) < 0, "the pipeline ended by itself"
        proc.stdin.write(b"\x03")
        proc.stdin.flush()
        assert _read_until(proc, seen, b"sh: interrupted", deadline), "no interrupt message"
        after = seen.find(b"sh: interrupted", mark)
        assert _read_until(proc, seen, b"$ ", deadline, after), "no prompt after Ctrl-C"
        proc.stdin.write(b"exit 5\n")
        proc.stdin.flush()
        rc = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.write_bytes(bytes(seen))
    assert rc == 5, f"the shell did not exit with 5 after Ctrl-C (QEMU status {rc})\n  log: {log}"
