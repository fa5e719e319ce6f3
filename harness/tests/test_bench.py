"""`pytest -m bench`: the measurement matrix as tests. One test per variant x benchmark (the
icount run, the wall-time repetitions and, for the TLB benchmarks, the TLB-model runs of every
preset), one per scheme-2/3 variant for the kaslr probe and one per variant x preset for the
TLB probe; each asserts the deterministic facts of its runs. Select with -k as usual
(`pytest -m bench -k 's2-asid and bench_null'`).

At the end of the session the rows and facts go through the same code as `harness reproduce`
(measure.run_task / record_result / record_failure, then cli.publish: the CSV, facts.json,
metadata.json, the plots and comparison.md) into build/results, replaced as a whole; never
results/. With pytest-xdist every worker writes its part and the last one to finish publishes
the union.

Environment: SV39LAB_BENCH_QUICK=1 uses the --quick counts, SV39LAB_BENCH_REPS=N the wall-time
repetitions (default 5, quick 2).
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest

from harness.benchspec import (BENCHES, runs_in, KASLR_SEEDS, KASLR_SEEDS_QUICK, TLB_BENCH_BY_NAME,
                               TLB_PRESETS_DEFAULT)
from harness.build import BuildResult, build_variant, variant_dir
from harness.cli import options_dict, publish
from harness.errors import HarnessError
from harness.measure import (RunOptions, Task, record_failure, record_result, run_task,
                             static_facts)
from harness.outputs import scratch_results
from harness.tidy import make_frame
from harness.tlb import PLUGIN, build_plugin, plugin_facts
from harness.variants import ALL_VARIANTS, Variant, variant_by_name

pytestmark = pytest.mark.bench

REPO = Path(__file__).resolve().parents[2]
QUICK = os.environ.get("SV39LAB_BENCH_QUICK", "") not in ("", "0")
REPS = int(os.environ.get("SV39LAB_BENCH_REPS", "2" if QUICK else "5"))
PRESETS = list(TLB_PRESETS_DEFAULT)
SEEDS = KASLR_SEEDS_QUICK if QUICK else KASLR_SEEDS
SATP_PER_NULL = {1: 2, 2: 0, 3: 0}
# kernel_probe: (own-slot hit, other-process hit) by scheme
PROBE = {1: (False, False), 2: (True, True), 3: (True, False)}
CTX_LINES = 2  # bench_ctx prints a 1-process and a 2-process line per working set


class BenchSession:
    """The rows and facts of this pytest process; published at the end of the session."""

    def __init__(self, config: pytest.Config) -> None:
        worker = getattr(config, "workerinput", None)
        self.uid = worker["testrunuid"] if worker else uuid.uuid4().hex[:12]
        self.worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))  # metadata
        self.target = scratch_results(REPO)
        self.stage = REPO / "build" / f".results.staging-bench-{self.uid}"
        self.stage.mkdir(parents=True, exist_ok=True)
        # the workers that use the matrix register here; the last of them to finish publishes
        self.parts = REPO / "build" / f".bench-parts-{self.uid}"
        (self.parts / "started").mkdir(parents=True, exist_ok=True)
        (self.parts / "started" / self.worker).touch()
        self.opts = RunOptions(repo=REPO, results=self.stage, quick=QUICK, reps=REPS,
                               progress=False, kaslr_seeds=tuple(SEEDS))
        self.builds: Dict[str, BuildResult] = {}
        self.facts: Dict[str, Any] = {"variants": {}}
        self.rows: List[Dict[str, Any]] = []
        self.plugin: Any = None
        self.start = time.monotonic()

    def variant(self, name: str) -> Variant:
        if name not in self.builds:
            self.builds[name] = build_variant(variant_by_name(name), REPO, self.stage / "logs")
        b = self.builds[name]
        if not b.ok:
            pytest.fail(f"build of {name} failed: {b.error}\n  command: "
                        f"{b.commands[-1] if b.commands else 'make'}\n  log:     {b.log}",
                        pytrace=False)
        return b.variant

    def tlb(self) -> None:
        if self.plugin is None:
            self.plugin = build_plugin(REPO, self.stage / "logs")
        if not self.plugin.ok:
            pytest.fail(f"TLB-model plugin not built: {self.plugin.error}\n  command: "
                        f"{self.plugin.command}\n  log:     {self.plugin.log}", pytrace=False)

    def run(self, task: Task) -> Any:
        try:
            result = run_task(task, self.opts)
        except HarnessError as exc:
            record_failure(task, exc, self.opts, self.facts)
            pytest.fail(str(exc), pytrace=False)
        record_result(task, result, self.facts, self.rows)
        return result

    # ------------------------------------------------------------ the end of the session
    def part(self) -> Dict[str, Any]:
        return {"rows": self.rows, "facts": self.facts,
                "builds": {n: {"ok": b.ok, "log": str(b.log), "error": b.error,
                               "commands": b.commands} for n, b in self.builds.items()},
                "plugin": None if self.plugin is None else self.plugin.ok,
                "elapsed": time.monotonic() - self.start}

    def finish(self) -> None:
        with open(self.parts / "lock", "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            (self.parts / f"{self.worker}.json").write_text(json.dumps(self.part()))
            done = sorted(self.parts.glob("*.json"))
            started = {p.name for p in (self.parts / "started").iterdir()}
            if not started <= {p.stem for p in done}:
                return  # a worker that ran bench tests is still running: it publishes
            merged = [json.loads(p.read_text()) for p in done]
            self.publish(merged)
            shutil.rmtree(self.parts, ignore_errors=True)

    def publish(self, parts: List[Dict[str, Any]]) -> None:
        builds: Dict[str, BuildResult] = {}
        recorded: Dict[str, Dict[str, Any]] = {}
        rows: List[Dict[str, Any]] = []
        for part in parts:
            rows += part["rows"]
            for name, b in part["builds"].items():
                v = variant_by_name(name)
                builds[name] = BuildResult(variant=v, ok=b["ok"], build_dir=REPO / variant_dir(v),
                                           kernel=REPO / variant_dir(v) / "kernel.elf",
                                           log=Path(b["log"]), commands=b["commands"],
                                           error=b["error"])
            for name, vf in part["facts"]["variants"].items():
                r = recorded.setdefault(name, {"tlb_probe": {}, "run_failures": []})
                r["tlb_probe"].update(vf.get("tlb_probe") or {})
                r["run_failures"] += vf.get("run_failures") or []
                if vf.get("kaslr"):
                    r["kaslr"] = vf["kaslr"]
        if not builds:
            return
        variants = [v for v in ALL_VARIANTS if v.name in builds]
        facts = static_facts([builds[v.name] for v in variants], variants, REPO)
        for name, r in recorded.items():
            facts["variants"].setdefault(name, {}).update(r)
        plugin_ok = [p["plugin"] for p in parts if p["plugin"] is not None]
        plugin = None
        if plugin_ok:
            plugin = build_plugin(REPO, self.stage / "logs") if all(plugin_ok) else None
        facts["tlbmodel"] = plugin_facts(plugin, PRESETS if plugin_ok else [],
                                         enabled=bool(plugin_ok), repo=REPO)
        benches = sorted({r["bench"] for r in rows})
        specs = [b for b in BENCHES if b.prog in benches]
        options = options_dict(quick=QUICK, reps=REPS, timeout=self.opts.timeout, workers=self.workers,
                               make_jobs=2, benches=specs, variants=variants,
                               kaslr=any("kaslr" in r for r in recorded.values()),
                               complete=False, tlb_presets=PRESETS if plugin_ok else [],
                               plugin=plugin,
                               tlb_benches=[TLB_BENCH_BY_NAME[b.name] for b in specs
                                            if b.name in TLB_BENCH_BY_NAME],
                               kaslr_seeds=SEEDS)
        options["runner"] = "pytest -m bench"
        publish(REPO, self.stage, self.target, make_frame(rows), facts,
                argv=["pytest", "-m", "bench"], qemu=self.opts.qemu,
                built=[v.name for v in variants if builds[v.name].ok],
                missing={n: str(b.log) for n, b in builds.items() if not b.ok},
                elapsed=max(p["elapsed"] for p in parts), options=options, report=True)


@pytest.fixture(scope="session")
def bench_session(request: pytest.FixtureRequest) -> Any:
    s = BenchSession(request.config)
    yield s
    s.finish()


def _icount(rows: List[Dict[str, Any]], metric: str) -> List[Dict[str, Any]]:
    return [r for r in rows if r["mode"] == "icount" and r["metric"] == metric]


# Only the pairs the matrix runs: the -dc variants run only the paging benchmarks.
BENCH_PAIRS = [(v.name, b) for v in ALL_VARIANTS for b in BENCHES if runs_in(b, v)]


@pytest.mark.parametrize("name,spec", BENCH_PAIRS, ids=[f"{n}-{b.name}" for n, b in BENCH_PAIRS])
def test_bench(bench_session: BenchSession, name: str, spec: Any) -> None:
    v = bench_session.variant(name)
    rows = bench_session.run(Task("bench", v, spec))  # the icount run(s)
    if spec.wall:
        rows = rows + bench_session.run(Task("wall", v, spec))
    lines = _icount(rows, "insns_per_op")
    runs = len(SEEDS) if v.scheme == 3 else 1  # scheme 3: one icount run per kaslr seed
    assert {r["kaslr_seed"] for r in lines} == (set(SEEDS) if v.scheme == 3 else {None})
    assert len(lines) >= spec.expected_lines(QUICK) * runs
    assert all(r["value"] > 0 for r in lines)
    assert all(r["value"] >= 1 for r in _icount(rows, "iters"))
    wall = [r for r in rows if r["mode"] == "wall"]
    assert {r["metric"] for r in wall} <= {"ns_per_op"}  # wall runs: time only
    assert len(wall) == len(lines) // runs * spec.wall_runs(REPS)
    if spec.name == "bench_null":
        assert {r["value"] for r in _icount(rows, "satp_per_op")} == {SATP_PER_NULL[v.scheme]}
        assert {r["value"] for r in _icount(rows, "traps_per_op")} == {1}
        sfence = {r["value"] for r in _icount(rows, "sfence_per_op")}
        assert sfence == {0} if (v.scheme != 1 or v.asid) else min(sfence) >= 1
    if spec.name == "bench_ctx":
        assert len(lines) % CTX_LINES == 0
    tlb = TLB_BENCH_BY_NAME.get(spec.name)
    if tlb is not None:
        bench_session.tlb()
        for preset in PRESETS:
            trows = bench_session.run(Task("tlb", v, tlb, preset))
            assert {r["preset"] for r in trows} == {preset}
            assert len({r["params"] for r in trows}) >= tlb.expected_lines(QUICK)
            assert len({r["kaslr_seed"] for r in trows}) == runs


@pytest.mark.parametrize("name", [v.name for v in ALL_VARIANTS if v.scheme in (2, 3)])
def test_kaslr_probe(bench_session: BenchSession, name: str) -> None:
    v = bench_session.variant(name)
    f = bench_session.run(Task("kaslr", v))
    assert f["distinct"] == (f["processes"] if v.scheme == 3 else 1)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("name", [v.name for v in ALL_VARIANTS])
def test_tlb_probe(bench_session: BenchSession, name: str, preset: str) -> None:
    v = bench_session.variant(name)
    bench_session.tlb()
    assert (REPO / PLUGIN).is_file()
    f = bench_session.run(Task("tlb-probe", v, None, preset))
    assert (f["probe_own_slot_hit"], f["probe_other_process_hit"]) == PROBE[v.scheme]
