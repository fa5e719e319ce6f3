"""The harness's QEMU runs as dask.distributed tasks (docs/harness.md "Distributed runs").

One task is one QEMU boot. The client (the harness process) builds the kernels and the
TLB-model plugin on its own machine, ships each input file once per content (keyed by its
SHA-256; a worker keeps it for the whole run) and submits `execute_boot`. The worker lays the
inputs out in a private directory shaped like the repository (a relative path in the command
stays valid), runs QEMU there under the job's timeout and returns the console and every output
file as bytes. The client writes them where a local run would have. Nothing lives only on a
worker: a worker that dies loses only the boot it was running, which is submitted again (at
most RETRIES times, each retry stated on stderr and in the engine's events).

Engines: a LocalCluster of N single-threaded worker processes (the default), or an existing
cluster (`--scheduler tcp://HOST:PORT`). Before anything is submitted, every worker must run
the same harness (git commit and source hash), QEMU and cross compiler as the client
(`check_workers`); a worker that differs is named and nothing runs.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .errors import QemuError, UserError
from .qemu import RunResult, allow_runs, kill_running, run_qemu

# How often a boot is submitted again after the worker running it died.
RETRIES = 2
# How long to wait for the first worker of an existing cluster.
WORKER_WAIT_SECONDS = 30.0
COMPILER = "riscv64-linux-gnu-g++"
# The identity fields that must be equal on the client and on every worker.
IDENTITY_KEYS = ("commit", "harness_sources", "qemu", "compiler")


# ------------------------------------------------------------------ what a worker runs

@dataclass(frozen=True)
class InputFile:
    token: str   # the path exactly as the command names it (relative to cwd, or absolute)
    sha: str     # SHA-256 of its content: the key of the shipped bytes


@dataclass(frozen=True)
class BootJob:
    variant: str
    command: Tuple[str, ...]
    inputs: Tuple[InputFile, ...]
    outputs: Tuple[str, ...]     # paths (as in the command) of files QEMU writes
    timeout: float


@dataclass
class BootOutcome:
    exit_status: int
    timed_out: bool
    console: bytes
    outputs: Dict[str, Optional[bytes]]   # token -> content; None when QEMU did not write it
    seconds: float
    worker: str
    error: Optional[str] = None           # the run could not start (the message)


# A worker's files older than this are removed when it starts a boot: job directories left by
# a worker that was killed, blobs of kernels no run has used for a week.
STALE_JOB_SECONDS = 6 * 3600
STALE_BLOB_SECONDS = 7 * 86400
_pruned = False


def _worker_root() -> Path:
    global _pruned
    root = Path(tempfile.gettempdir()) / f"sv39lab-dask-{os.getuid()}"
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    if not _pruned:  # once per worker process
        _pruned = True
        now = time.time()
        for p in list(root.glob("job-*")) + list((root / "blobs").iterdir()):
            try:
                age = now - p.stat().st_mtime
                if p.is_dir() and age > STALE_JOB_SECONDS:
                    shutil.rmtree(p, ignore_errors=True)
                elif p.is_file() and age > STALE_BLOB_SECONDS:
                    p.unlink()
            except OSError:
                pass
    return root


def _blob_file(root: Path, sha: str, data: bytes) -> Path:
    """The shipped bytes as a file in the worker's cache (written once per content)."""
    path = root / "blobs" / sha
    if path.is_file():
        os.utime(path)  # its age is the time since its last use
    else:
        tmp = path.with_name(f"{sha}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return path


def _inside(token: str) -> bool:
    """A path that can be laid out under the job directory unchanged."""
    p = Path(token)
    return not p.is_absolute() and ".." not in p.parts


def execute_boot(job: BootJob, blobs: Dict[str, bytes]) -> BootOutcome:
    """Run on a worker: one QEMU boot in a private directory; everything comes back as data.
    Never raises for a failed run (a dask exception would lose the console)."""
    where = f"{socket.gethostname()}:{os.getpid()}"
    root = _worker_root()
    with tempfile.TemporaryDirectory(dir=root, prefix="job-") as d:
        jobdir = Path(d)
        rename: Dict[str, str] = {}   # absolute (or ..) paths of the command -> job paths

        def place(token: str, kind: str, i: int) -> Path:
            if _inside(token):
                p = jobdir / token
            else:
                p = jobdir / kind / f"{i}-{Path(token).name}"
                rename[token] = str(p)
            p.parent.mkdir(parents=True, exist_ok=True)
            return p

        for i, f in enumerate(job.inputs):
            target = place(f.token, "in", i)
            blob = _blob_file(root, f.sha, blobs[f.sha])
            try:
                os.link(blob, target)
            except OSError:
                shutil.copyfile(blob, target)
        outs = {token: place(token, "out", i) for i, token in enumerate(job.outputs)}
        command = list(job.command)
        for old, new in rename.items():
            command = [a.replace(old, new) for a in command]
        log = jobdir / "console.log"
        try:
            res = run_qemu(command, variant=job.variant, log=log, timeout=job.timeout,
                           cwd=jobdir, check=False)
        except QemuError as exc:  # QEMU could not start
            return BootOutcome(-1, False, b"", {}, 0.0, where, error=str(exc).splitlines()[0])
        return BootOutcome(
            exit_status=res.exit_status, timed_out=res.timed_out, console=log.read_bytes(),
            outputs={t: (p.read_bytes() if p.is_file() else None) for t, p in outs.items()},
            seconds=res.seconds, worker=where)


def _stop_worker_runs() -> int:
    """Run on every worker on Ctrl-C: kill its QEMU process groups, then accept runs again
    (a worker of an existing cluster serves later sweeps)."""
    n = kill_running()
    allow_runs()
    return n


# ------------------------------------------------------------------ identity of a machine

def identity(qemu: str, compiler: str = COMPILER) -> Dict[str, Any]:
    """What must agree between the client and a worker: the harness's git commit and source
    hash (the code a worker runs), QEMU's and the compiler's versions."""
    return _probe(qemu, compiler)


def _probe(qemu: str, compiler: str) -> Dict[str, Any]:
    # Self-contained (only standard modules): it is also shipped by value to workers that may
    # not be able to import the harness at all, so that they can be named in the refusal.
    import hashlib as _h
    import importlib.util as _iu
    import socket as _s
    import subprocess as _sp
    from pathlib import Path as _P

    def first_line(cmd: List[str], cwd: Optional[str] = None) -> Optional[str]:
        try:
            p = _sp.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=30, check=False)
        except (OSError, _sp.SubprocessError):
            return None
        lines = p.stdout.strip().splitlines()
        return lines[0] if p.returncode == 0 and lines else None

    out: Dict[str, Any] = {"host": _s.gethostname(), "qemu": first_line([qemu, "--version"]),
                           "compiler": first_line([compiler, "--version"])}
    spec = _iu.find_spec("harness")
    if spec is None or spec.origin is None:
        out.update(harness=None, commit=None, harness_sources=None,
                   error="cannot import the harness (start the worker with PYTHONPATH set to "
                         "an sv39lab checkout)")
        return out
    pkg = _P(spec.origin).resolve().parent
    digest = _h.sha256()
    for f in sorted(pkg.glob("*.py")):
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    out.update(harness=str(pkg), commit=first_line(["git", "rev-parse", "HEAD"], str(pkg)),
               harness_sources=digest.hexdigest()[:16], error=None)
    return out


def identity_mismatches(client: Dict[str, Any],
                        workers: Dict[str, Dict[str, Any]]) -> List[str]:
    """One line per worker that differs from the client (empty: all agree)."""
    problems = []
    for addr, ident in sorted(workers.items()):
        if ident.get("error"):
            problems.append(f"worker {addr} ({ident.get('host')}): {ident['error']}")
            continue
        diffs = [f"{k} {ident.get(k)!r} (client: {client.get(k)!r})" for k in IDENTITY_KEYS
                 if ident.get(k) != client.get(k)]
        if diffs:
            problems.append(f"worker {addr} ({ident.get('host')}, harness at "
                            f"{ident.get('harness')}): " + "; ".join(diffs))
    return problems


# ------------------------------------------------------------------ the client's engine

def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise UserError("dask.distributed is not installed (Debian: python3-distributed; "
                        "scripts/install-deps.sh installs it)") from None
    return distributed


@dataclass
class EngineEvent:
    what: str          # "retry" or "lost"
    variant: str
    command: str
    detail: str


@dataclass
class Engine:
    """Submits boots to a dask cluster and turns their outcomes into RunResults, as if run
    here (console log and output files written on this machine)."""
    client: Any
    cluster: Any = None            # the LocalCluster this engine started (closed by stop)
    scheduler: str = "local"
    say: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr)
    events: List[EngineEvent] = field(default_factory=list)
    _shipped: Dict[Tuple[str, int, int], Tuple[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # set by interrupt(): no boot is submitted (or resubmitted) any more
    _stopping: threading.Event = field(default_factory=threading.Event)
    _pending: set = field(default_factory=set)

    @classmethod
    def start(cls, scheduler: Optional[str], workers: int, *, qemu: str,
              say: Optional[Callable[[str], None]] = None) -> "Engine":
        """A LocalCluster of `workers` single-threaded processes (scheduler None), or a client
        of the cluster at `scheduler`; either way the workers' identity is checked first."""
        _import_distributed()
        import dask
        from distributed import Client, LocalCluster
        cluster = None
        if scheduler is None:
            # A dead worker's task is reported to us at once (we resubmit it and say so)
            # instead of being rescheduled silently by the scheduler.
            dask.config.set({"distributed.scheduler.allowed-failures": 0})
            import logging
            import signal
            # The workers ignore SIGINT: a terminal's Ctrl-C reaches the whole foreground
            # process group, and a worker killed by it would be a "died" boot (a retry and a
            # page of tracebacks). The client stops their QEMUs itself (interrupt()).
            # the workers' own INFO lines (e.g. a stale worker directory of another run being
            # purged) are not the harness's output; their errors still show
            os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
            main = threading.current_thread() is threading.main_thread()
            old = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
            try:
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR,
                                       # no dashboard; its HTTP server (health, metrics) on a
                                       # free port, not 8787, which another cluster may hold
                                       scheduler_kwargs={"dashboard_address": ":0"})
            finally:
                if main:
                    signal.signal(signal.SIGINT, old)
            client = Client(cluster)
        else:
            try:
                client = Client(scheduler, timeout=WORKER_WAIT_SECONDS)
            except Exception as exc:  # OSError, TimeoutError, or distributed's own
                raise UserError(f"--scheduler {scheduler}: cannot connect "
                                f"({type(exc).__name__}: {exc})") from None
        engine = cls(client=client, cluster=cluster, scheduler=scheduler or "local")
        if say is not None:
            engine.say = say
        try:
            engine.check_workers(qemu)
        except BaseException:
            engine.stop()
            raise
        return engine

    def check_workers(self, qemu: str) -> Dict[str, Dict[str, Any]]:
        """Refuse (UserError) unless every worker matches the client's identity."""
        try:
            self.client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
        except (TimeoutError, OSError):
            raise UserError(f"scheduler {self.scheduler}: no worker connected within "
                            f"{WORKER_WAIT_SECONDS:g} s") from None
        mine = identity(qemu)
        theirs = self.client.run(_by_value(_probe), qemu, COMPILER)
        problems = identity_mismatches(mine, theirs)
        if problems:
            raise UserError(f"scheduler {self.scheduler}: refusing to submit any run; "
                            f"{len(problems)} of {len(theirs)} worker(s) differ from this "
                            f"client (commit {mine.get('commit')}, harness sources "
                            f"{mine.get('harness_sources')}):\n  " + "\n  ".join(problems))
        return theirs

    @property
    def slots(self) -> int:
        """Boots that can run at once: the cluster's worker threads."""
        return max(1, sum(self.client.nthreads().values()))

    def ship(self, path: Path, *, again: bool = False) -> Tuple[str, Any]:
        """(sha, future) of a file's bytes on the cluster, sent once per content (to one
        worker; the others fetch it from a peer when they first need it). again=True: send it
        anew under a new key, after the cluster lost it with a worker."""
        st = path.stat()
        key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
        with self._lock:
            if again or key not in self._shipped:
                data = path.read_bytes()
                sha = hashlib.sha256(data).hexdigest()
                self._shipped[key] = (sha, self.client.scatter(data, hash=not again))
            return self._shipped[key]

    def run(self, command: Sequence[str], *, variant: str, log: Path, timeout: float,
            cwd: Path, check: bool = True, inputs: Sequence[str] = (),
            outputs: Sequence[str] = ()) -> RunResult:
        """One boot on the cluster; the same contract as qemu.run_qemu. `inputs` and `outputs`
        are paths as the command names them (relative to cwd or absolute)."""
        from concurrent.futures import CancelledError

        from distributed import KilledWorker
        cmd = [str(c) for c in command]
        shown = " ".join(cmd)
        for attempt in range(RETRIES + 1):
            if self._stopping.is_set():
                raise QemuError("not started: the harness is stopping (interrupted)",
                                variant=variant, command=cmd, log=log)
            refs, blobs = [], {}
            for token in inputs:
                # after a loss the inputs are sent again: a dead worker may have held the
                # only copy a new worker could fetch
                try:
                    sha, data = self.ship(Path(cwd) / token, again=attempt > 0)
                except OSError as exc:
                    raise QemuError(f"cannot ship the input {token}: {exc.strerror or exc}",
                                    variant=variant, command=cmd, log=log) from None
                refs.append(InputFile(token=token, sha=sha))
                blobs[sha] = data
            job = BootJob(variant=variant, command=tuple(cmd), inputs=tuple(refs),
                          outputs=tuple(str(o) for o in outputs), timeout=timeout)
            fut = self.client.submit(execute_boot, job, blobs, pure=False,
                                     key=f"boot-{variant}-{uuid.uuid4().hex[:12]}")
            with self._lock:
                self._pending.add(fut)
            try:
                outcome: BootOutcome = fut.result()
                break
            # KilledWorker: the worker died running it; CancelledError: the scheduler dropped
            # it with the data it needed (lost with a worker)
            except (KilledWorker, CancelledError) as exc:
                exc = exc if str(exc) else type(exc)(type(exc).__name__)
                if self._stopping.is_set():  # cancelled by interrupt(): never retried
                    raise QemuError("stopped: the harness was interrupted", variant=variant,
                                    command=cmd, log=log) from None
                if attempt == RETRIES:
                    self.events.append(EngineEvent("lost", variant, shown, str(exc)))
                    raise QemuError(f"the worker running this boot died {RETRIES + 1} times "
                                    f"({exc}); not retried again", variant=variant,
                                    command=cmd, log=log) from None
                self.events.append(EngineEvent("retry", variant, shown, str(exc)))
                self.say(f"engine: the worker running a boot of {variant} died; "
                         f"submitting it again (retry {attempt + 1} of {RETRIES}): {shown}")
        with self._lock:
            self._pending.discard(fut)
        if outcome.error is not None:
            raise QemuError(f"on worker {outcome.worker}: {outcome.error}", variant=variant,
                            command=cmd, log=log)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_bytes(outcome.console)
        for token, data in outcome.outputs.items():
            if data is not None:
                dest = Path(token) if Path(token).is_absolute() else Path(cwd) / token
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
        res = RunResult(variant=variant, command=cmd, log=log,
                        exit_status=outcome.exit_status, timed_out=outcome.timed_out,
                        console=outcome.console.decode("utf-8", errors="replace"),
                        seconds=outcome.seconds)
        return res.check() if check else res

    def interrupt(self) -> int:
        """Ctrl-C: submit nothing more, cancel the boots not yet started, kill every worker's
        running QEMU; returns how many process groups the workers killed."""
        self._stopping.set()
        with self._lock:
            pending = list(self._pending)
        try:
            # Cancel the boots not yet started first, then kill the running ones: a boot queued
            # on a worker behind a running one would otherwise start once the kill lets runs
            # in again, and hang to its timeout unobserved. A boot that started while the
            # cancellation travelled is caught by the second kill.
            self.client.cancel(pending)
            killed = self.client.run(_stop_worker_runs)
            again = self.client.run(_stop_worker_runs)
            return sum(int(n) for n in killed.values()) + sum(int(n) for n in again.values())
        except Exception:  # the cluster may already be gone; nothing more to stop
            return 0

    def describe(self) -> Dict[str, Any]:
        """For metadata.json: which engine, how many workers, what had to be retried."""
        try:
            workers = len(self.client.nthreads())
        except Exception:
            workers = None
        return {"engine": "dask.distributed", "scheduler": self.scheduler, "workers": workers,
                "slots": self.slots if workers else None, "retries_allowed": RETRIES,
                "events": [e.__dict__ for e in self.events]}

    def stop(self) -> None:
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _by_value(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A copy of a self-contained function that cloudpickle ships by value (it pickles
    functions of `__main__` by value), so a worker that cannot import the harness still runs
    it and is named in the refusal."""
    import types
    copy = types.FunctionType(fn.__code__, {"__builtins__": __builtins__}, fn.__name__,
                              fn.__defaults__, fn.__closure__)
    copy.__module__ = "__main__"
    copy.__qualname__ = fn.__name__
    return copy


# ------------------------------------------------------------------ engine overhead

def measure_overhead(engine: Engine, payload: Path, n: int = 40) -> Dict[str, float]:
    """Per-task cost of the engine: n boots of `true` (a command that does nothing) with
    `payload` as an input, through the engine and directly, one at a time."""
    with tempfile.TemporaryDirectory() as d:
        cwd = Path(d)
        shutil.copyfile(payload, cwd / "payload")
        log = cwd / "log"
        engine.run(["true"], variant="overhead", log=log, timeout=30, cwd=cwd,
                   inputs=["payload"])  # ship the payload once, as a real run does
        t0 = time.monotonic()
        for _ in range(n):
            engine.run(["true"], variant="overhead", log=log, timeout=30, cwd=cwd,
                       inputs=["payload"])
        through = (time.monotonic() - t0) / n
        t0 = time.monotonic()
        for _ in range(n):
            run_qemu(["true"], variant="overhead", log=log, timeout=30, cwd=cwd)
        direct = (time.monotonic() - t0) / n
    return {"through_engine_ms": through * 1e3, "direct_ms": direct * 1e3,
            "overhead_ms": (through - direct) * 1e3, "tasks": float(n)}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`python3 -m harness.dist overhead [--scheduler tcp://H:P] [-n N] [--payload FILE]`"""
    import argparse
    p = argparse.ArgumentParser(prog="python3 -m harness.dist")
    p.add_argument("what", choices=["overhead"])
    p.add_argument("--scheduler", default=None)
    p.add_argument("-j", "--jobs", type=int, default=2)
    p.add_argument("-n", type=int, default=40)
    p.add_argument("--payload", type=Path,
                   default=Path(__file__).resolve().parent.parent / "build" / "variants"
                   / "s2-asid" / "kernel.elf")
    p.add_argument("--qemu", default="qemu-system-riscv64")
    args = p.parse_args(argv)
    if not args.payload.is_file():
        print(f"no payload {args.payload} (build s2-asid or give --payload)", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    with Engine.start(args.scheduler, args.jobs, qemu=args.qemu) as engine:
        started = time.monotonic() - t0
        r = measure_overhead(engine, args.payload, args.n)
    print(f"engine {args.scheduler or 'LocalCluster'}: started in {started:.2f} s; "
          f"{int(r['tasks'])} tasks of `true` with a {args.payload.stat().st_size} byte input: "
          f"{r['through_engine_ms']:.1f} ms each through the engine, {r['direct_ms']:.1f} ms "
          f"directly: overhead {r['overhead_ms']:.1f} ms per task")
    return 0


if __name__ == "__main__":
    sys.exit(main())
