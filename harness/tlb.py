"""The TLB-model runs (tlbmodel/, docs/tlbmodel.md; docs/harness.md "TLB model").

Pure logic only (no QEMU here; harness/measure.py boots): building the plugin, its command-line
argument, the benchmarks' region ids, and turning a plugin report (JSON) plus the run's
`@bench` lines into tidy rows (mode ``tlb``) and the `kernel_probe` into facts.

The per-op metrics of one `@bench` line are its region's counters divided by the line's
`iters` (bench_ctx: iters = passes × processes = switch ops, the same divisor as its
insns_per_op):

  tlb_insns_per_op               region instructions (every mode)
  tlb_l1i_misses_per_op          L1 ITLB misses (every mode)
  tlb_l1d_misses_per_op          L1 DTLB misses
  tlb_l2_hits_per_op             L2 TLB hits (only when the preset has an L2)
  tlb_l2_misses_per_op           L2 TLB misses (only when the preset has an L2)
  tlb_walk_refs_per_op           page-walk memory references
  tlb_misses_after_flush_per_op  L1 I + D misses that refill a translation a flush removed
  tlb_flushes_per_op             flushes (sfence.vma of every kind + satp flushes)
  tlb_user_misses_per_op         U-mode L1 I + D misses: the user's TLB state lost to the trap
  tlb_user_l1d_misses_per_op     U-mode L1 D misses alone (bench_tlb's pages)
  tlb_kernel_misses_per_op       S-mode L1 I + D misses
  tlb_model_cycles_per_op        the plugin's per-preset cost model (docs/tlbmodel.md "Cost
                                 model"; only when the report has it), never measured time;
                                 the one cost model, harness/report/costmodel.py, recomputes
                                 it from the counted events below

ASID widths: every preset is a real core with its own ASID width (PRESETS). A TLB-model run
boots the kernel with `asid_bits=<width>` (kernel_bootargs) and the model with the same width
(run_config), so kernel and model agree on what the core offers. A combination that no core
has (ASIDs on a core without any) is *hypothetical* and labelled so (run_label).
"""
from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .parse import ConsoleOutput
from .tidy import make_row
from .variants import Variant

PLUGIN_DIR = Path("build") / "tlbmodel"           # relative to the repository root
PLUGIN = PLUGIN_DIR / "libtlbmodel.so"
PLUGIN_LOCK = Path("build") / "tlbmodel.lock"
REPORT_PY = Path(__file__).resolve().parent.parent / "tlbmodel" / "report.py"

# ------------------------------------------------------------------ the presets

@dataclass(frozen=True)
class PresetInfo:
    """One preset of the plugin, as the plugin defines it (tlbmodel/src/presets.cpp, printed by
    `make -C tlbmodel presets`; docs/tlbmodel.md "Presets", with a source or an "assumption"
    mark for every number). asid_bits is the core's ASID width; l1i/l1d: the L1 entries (None:
    unbounded); satp_write: the cost model's cycles per satp write (docs/tlbmodel.md "Cost
    model": an assumption)."""
    name: str
    core: str
    asid_bits: int
    text: str
    l1i: Optional[int] = None
    l1d: Optional[int] = None
    satp_write: float = 0.0


PRESETS_JSON = PLUGIN_DIR / "presets.json"
_REPO = Path(__file__).resolve().parent.parent


def load_presets(repo: Path = _REPO, *, make: str = "make") -> Dict[str, PresetInfo]:
    """The plugin's presets: `make -C tlbmodel O=build/tlbmodel presets` (a host program built
    from the plugin's own preset definitions; no QEMU needed, nothing to do when up to date)
    writes build/tlbmodel/presets.json, read here. Serialised by the plugin build's flock."""
    import fcntl
    import json
    import subprocess

    lock = repo / PLUGIN_LOCK
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as lk:
        fcntl.flock(lk.fileno(), fcntl.LOCK_EX)
        p = subprocess.run([make, "-s", "-C", str(repo / "tlbmodel"), f"O={PLUGIN_DIR}", "presets"],
                           cwd=repo, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"cannot list the TLB-model presets (make presets: status "
                           f"{p.returncode}):\n{p.stdout}{p.stderr}")
    data = json.loads((repo / PRESETS_JSON).read_text())

    def entries(g: Optional[Dict[str, Any]]) -> Optional[int]:
        return g["entries"] if g and g["entries"] != "infinite" else None

    return {d["name"]: PresetInfo(d["name"], d["core"], int(d["asid_bits"]), d["text"],
                                  entries(d["l1i"]), entries(d["l1d"]),
                                  float(d["cost_model"]["satp_write"]))
            for d in data["presets"]}


PRESETS: Dict[str, PresetInfo] = load_presets()

# The presets' geometry, for titles (cli choices, tables, plots).
PRESET_TEXT = {name: p.text for name, p in PRESETS.items()}

# The widest ASID the model and QEMU's virt CPU implement.
MAX_ASID_BITS = 16


def preset_text(preset: str) -> str:
    return f"{preset}: {PRESET_TEXT[preset]}" if preset in PRESET_TEXT else preset


def preset_asid_bits(preset: str) -> int:
    """The ASID width of the preset's core (0: none)."""
    try:
        return PRESETS[preset].asid_bits
    except KeyError:
        raise ValueError(f"unknown TLB-model preset {preset!r} (known: "
                         f"{', '.join(PRESETS)})") from None


@dataclass(frozen=True)
class TlbRunConfig:
    """What a TLB-model run of one variant under one preset uses.

    kernel_asid_bits  the kernel's cap, `asid_bits=N` on its command line (the core's width)
    model_asid_bits   the model's ASID width (0 for a variant built without ASIDs)
    asid              the plugin's asid= (on/off), as the report's config.asid says
    hypothetical      no core has this combination (ASIDs asked of a core without any while
                      the kernel is not capped)"""
    preset: str
    kernel_asid_bits: Optional[int]
    model_asid_bits: int
    asid: str
    hypothetical: bool

    @property
    def bootargs(self) -> List[str]:
        return [] if self.kernel_asid_bits is None else [f"asid_bits={self.kernel_asid_bits}"]


def run_config(variant: Variant, preset: str, *, cap_kernel: bool = True) -> TlbRunConfig:
    """The configuration of a TLB-model run. With cap_kernel (the default) the kernel gets
    `asid_bits=<the core's width>` and the model the same width: a real core. Without it (a
    kernel that is not capped) an ASID variant on a core without ASIDs runs with 16 bits in
    the model, a hypothetical combination."""
    core = preset_asid_bits(preset)
    if not variant.asid:
        bits = 0
        hypo = False
    elif cap_kernel:
        bits = core
        hypo = False
    else:
        bits = core or MAX_ASID_BITS
        hypo = core == 0
    return TlbRunConfig(preset=preset, kernel_asid_bits=core if cap_kernel else None,
                        model_asid_bits=bits, asid="on" if bits else "off", hypothetical=hypo)


def run_label(variant: Variant, preset: str, *, cap_kernel: bool = True) -> str:
    """`preset` for a real core, `preset (hypothetical: ...)` for a combination no core has."""
    rc = run_config(variant, preset, cap_kernel=cap_kernel)
    if rc.hypothetical:
        return (f"{preset} (hypothetical: {rc.model_asid_bits} ASID bits on "
                f"{PRESETS[preset].core}, which has none)")
    return preset


def report_is_hypothetical(report: Mapping[str, Any]) -> bool:
    """The plugin's own label: config.hypothetical == "yes"."""
    return (report.get("config") or {}).get("hypothetical") == "yes"


def with_bootargs(cmd: Sequence[str], bootargs: Sequence[str]) -> List[str]:
    """A QEMU command line (harness.qemu.qemu_command) with `bootargs` put before `init=` in
    its -append value: the kernel reads options such as asid_bits=N only before init=."""
    out = list(cmd)
    if not bootargs:
        return out
    try:
        i = len(out) - 1 - out[::-1].index("-append")
    except ValueError:
        raise ValueError("the command has no -append") from None
    if i + 1 >= len(out):
        raise ValueError("-append without a value")
    out[i + 1] = " ".join([*bootargs, out[i + 1]])
    return out


# ------------------------------------------------------------------ region ids

def _ilog2(x: int) -> int:
    """floor(log2(x)) for x >= 1, as bench.hpp's ilog2."""
    n = 0
    while x > 1:
        x >>= 1
        n += 1
    return n


def region_id(bench: str, params: Mapping[str, int]) -> Optional[int]:
    """The TLB-model region id of one `@bench` line. Mirrors the id table at the top of
    user/bench/bench.hpp ("TLB-model region ids") and the region_for() of bench_ctx.cpp; keep
    the two in step. None for a benchmark without a region."""
    if bench == "bench_null":
        return 1
    if bench == "bench_fork":
        if "touched_kb" in params:
            return 50 + _ilog2(max(1, int(params["touched_kb"]) // 4))
        return 20
    if bench == "bench_exec":
        return 21
    if bench == "bench_timer":
        return 22
    if bench == "bench_copy" and "size" in params:
        return 100 + _ilog2(max(1, params["size"]))
    if bench == "bench_tlb" and "pages" in params:
        return 200 + _ilog2(max(1, params["pages"]))
    if bench == "bench_mmap" and "pages" in params:
        return 300 + _ilog2(max(1, params["pages"]))
    if bench == "bench_ctx" and "procs" in params and "ws_kb" in params:
        ws, procs = params["ws_kb"], params["procs"]
        bucket = 0 if ws == 0 else min(15, 1 + _ilog2(ws))
        p = min(8, max(1, procs))
        return 400 + 8 * bucket + p - 1
    mode = params.get("mode")
    if bench == "bench_pipe":
        if mode == "lat":
            return 600
        if mode == "bw" and "size" in params:
            return 601 + _ilog2(max(1, int(params["size"])))
        if mode == "ctx" and "procs" in params and "ws_kb" in params:
            ws, procs = int(params["ws_kb"]), int(params["procs"])
            bucket = 0 if ws == 0 else min(6, 1 + _ilog2(ws))
            return 620 + 8 * bucket + min(8, max(1, procs)) - 1
    if bench == "bench_app":
        if params.get("workload") == "pipeline":
            return 700
        if params.get("workload") == "kv" and "kv_kb" in params:
            return 701 + _ilog2(max(1, int(params["kv_kb"]) // 256))
    if bench == "bench_fault":
        if mode == "protfault":
            return 760
        if mode in ("first_touch", "cow") and "kb" in params:
            return (720 if mode == "first_touch" else 740) + _ilog2(max(1, int(params["kb"]) // 4))
    if bench == "bench_mix" and "ws_kb" in params and "every" in params:
        decade, n = 0, int(params["every"])
        while n >= 10:
            n //= 10
            decade += 1
        return 800 + 8 * _ilog2(max(1, int(params["ws_kb"]) // 4)) + decade
    # the multi-hart benchmarks (issue 17)
    if bench == "bench_getpid_harts" and "harts" in params:
        return 1100 + int(params["harts"]) - 1
    if bench == "bench_shootdown" and "pages" in params and "remote" in params:
        pages = int(params["pages"])
        return 1120 + 8 * (2 if pages >= 256 else 1 if pages >= 16 else 0) + int(params["remote"])
    if bench == "bench_pingpong_harts":
        return 1151 if params.get("placement") == "cross" else 1150
    if bench == "bench_storm":
        return 1160
    if bench == "bench_kv_harts" and "clients" in params:
        return 1170 + int(params["clients"]) - 1
    return None


# ------------------------------------------------------------------ TLB-loading workloads

@dataclass(frozen=True)
class TlbWorkload:
    """A TLB-model measurement whose footprint can exceed an L1: the table's TLB and
    performance rows and the crossover maps (harness/crossover.py) use these. params: the
    candidate `params` strings, the first present wins (--quick runs fewer sizes)."""
    key: str
    title: str
    bench: str
    params: Tuple[str, ...]
    per: str


TLB_WORKLOADS: List[TlbWorkload] = [
    TlbWorkload("tlb64", "bench_tlb K=64 (null call + 64 pages)", "bench_tlb",
                ("pages=64",), "iteration"),
    TlbWorkload("ctx16", "bench_ctx 2 procs × 16 KiB (whole yield)", "bench_ctx",
                ("procs=2,ws_kb=16",), "switch"),
    TlbWorkload("pipectx", "bench_pipe ctx 8 procs × 64 KiB", "bench_pipe",
                ("mode=ctx,procs=8,ws_kb=64", "mode=ctx,procs=8,ws_kb=16"), "switch"),
    TlbWorkload("mix10", "bench_mix 256 KiB, a syscall every 10 accesses", "bench_mix",
                ("every=10,ws_kb=256", "every=10,ws_kb=64"), "access"),
    TlbWorkload("mix1000", "bench_mix 256 KiB, a syscall every 1000 accesses", "bench_mix",
                ("every=1000,ws_kb=256", "every=1000,ws_kb=64"), "access"),
    TlbWorkload("kv", "bench_app kv 1 MiB (per request)", "bench_app",
                ("kv_kb=1024,workload=kv", "kv_kb=256,workload=kv"), "request"),
]


def footprint_pages(bench: str, params: Mapping[str, Any]) -> Optional[int]:
    """User data pages one measured operation's loop touches, from its parameters (code,
    stack and kernel pages come on top): bench_tlb K; bench_ctx / bench_pipe ctx procs ×
    ws/4 KiB; bench_mix ws/4 KiB; bench_app kv table/4 KiB. None: not known."""
    def i(k: str) -> int:
        return int(params[k])
    try:
        if bench == "bench_tlb":
            return i("pages")
        if bench in ("bench_ctx", "bench_pipe") and "procs" in params and "ws_kb" in params:
            return i("procs") * max(1, i("ws_kb") // 4) if i("ws_kb") else 0
        if bench == "bench_mix":
            return max(1, i("ws_kb") // 4)
        if bench == "bench_app" and "kv_kb" in params:
            return max(1, i("kv_kb") // 4)
    except (KeyError, ValueError, TypeError):
        return None
    return None


def exceeds_l1(preset: str, pages: Optional[int]) -> bool:
    """Whether a footprint of `pages` user pages exceeds the preset's L1 DTLB (an unbounded
    L1 is never exceeded)."""
    p = PRESETS.get(preset)
    return bool(p and p.l1d is not None and pages is not None and pages > p.l1d)


# kernel_probe's regions (user/kernel_probe.cpp)
PROBE_OWN_REGION = 30      # a child loads kernel data at the VA its own table maps it
PROBE_OTHER_REGION = 31    # a child loads the same data at the parent's (another process's) VA


# ------------------------------------------------------------------ the report

class TlbReportError(Exception):
    """A report that is missing, malformed, of a wrong run, has mismatches, or lacks a region."""


_report_module: Optional[ModuleType] = None


def report_module() -> ModuleType:
    """tlbmodel/report.py of this repository, imported by path."""
    global _report_module
    if _report_module is None:
        spec = importlib.util.spec_from_file_location("sv39lab_tlbmodel_report", REPORT_PY)
        if spec is None or spec.loader is None:
            raise TlbReportError(f"cannot import {REPORT_PY}")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        _report_module = mod
    return _report_module


def load_report(path: Path, *, preset: Optional[str] = None,
                asid: Optional[str] = None, asid_bits: Optional[int] = None) -> Dict[str, Any]:
    """report.load(path) (raises on a missing or malformed report, on mismatches > 0 or a
    status other than ok), and the run's configuration checked against what was asked for."""
    rm = report_module()
    try:
        rep = rm.load(str(path))
    except rm.ReportError as exc:
        raise TlbReportError(str(exc)) from None
    cfg = rep.get("config") or {}
    if preset is not None and cfg.get("preset") != preset:
        raise TlbReportError(f"{path}: report of preset {cfg.get('preset')!r}, expected "
                             f"{preset!r}")
    if asid is not None and cfg.get("asid") != asid:
        raise TlbReportError(f"{path}: report with asid={cfg.get('asid')!r}, expected {asid!r}")
    if asid_bits is not None and cfg.get("asid_bits") != asid_bits:
        raise TlbReportError(f"{path}: report with asid_bits={cfg.get('asid_bits')!r}, "
                             f"expected {asid_bits}")
    if not isinstance(rep.get("regions"), dict):
        raise TlbReportError(f"{path}: report without regions")
    return rep


def asid_arg(variant: Variant) -> str:
    """The model's asid= for a variant: s*-asid -> on, s*-noasid -> off."""
    return "on" if variant.asid else "off"


def lru_profile_supported() -> bool:
    """Whether this repository's TLB model can profile LRU stack distances in one run (the
    plugin's `lru_profile=on` and tlbmodel/report.py's `lru_misses`; both land together)."""
    try:
        return callable(getattr(report_module(), "lru_misses", None))
    except Exception:  # noqa: BLE001 - a broken report.py fails the run elsewhere
        return False


def plugin_arg(plugin: str, *, preset: str, asid: str, out: str,
               asid_bits: Optional[int] = None, lru_profile: Optional[bool] = None) -> str:
    """The -plugin value. With asid_bits (run_config(...).model_asid_bits) the model's ASID
    width is given exactly; without, asid=on means the core's width (16 on a core without
    ASIDs: hypothetical, and the report says so). lru_profile: add `lru_profile=on` (the L1
    misses of every fully associative LRU size from this one run); None = when supported."""
    for what, v in (("plugin path", plugin), ("preset", preset), ("report path", out)):
        if "," in v:
            raise ValueError(f"the {what} {v!r} contains a comma (QEMU's -plugin separator)")
    if lru_profile is None:
        lru_profile = lru_profile_supported()
    lru = ",lru_profile=on" if lru_profile else ""
    if asid_bits is None:
        return f"{plugin},preset={preset},asid={asid}{lru},out={out}"
    if not 0 <= asid_bits <= MAX_ASID_BITS or (asid == "on") != (asid_bits > 0):
        raise ValueError(f"asid={asid} with asid_bits={asid_bits}")
    return f"{plugin},preset={preset},asid_bits={asid_bits}{lru},out={out}"


def _counter(c: Mapping[str, Any], key: str, where: str) -> float:
    try:
        return float(c[key])
    except (KeyError, TypeError, ValueError):
        raise TlbReportError(f"{where}: no numeric counter {key!r}") from None


def op_metrics(region: Mapping[str, Any], iters: float, *, has_l2: bool,
               where: str = "region") -> Dict[str, float]:
    """The per-op metrics of one region (see the module docstring)."""
    if not iters or iters <= 0:
        raise TlbReportError(f"{where}: iters = {iters}, cannot divide")
    try:
        t, u, s = region["total"], region["U"], region["S"]
    except (KeyError, TypeError):
        raise TlbReportError(f"{where}: region lacks total/U/S counters") from None

    def c(counters: Mapping[str, Any], key: str) -> float:
        return _counter(counters, key, where)

    insns = float(region["insns"]) if "insns" in region else c(t, "insns")
    out = {
        "tlb_insns_per_op": insns / iters,
        "tlb_l1i_misses_per_op": c(t, "l1i_misses") / iters,
        "tlb_l1d_misses_per_op": c(t, "l1d_misses") / iters,
        "tlb_walk_refs_per_op": c(t, "walk_refs") / iters,
        "tlb_misses_after_flush_per_op":
            (c(t, "l1i_misses_after_flush") + c(t, "l1d_misses_after_flush")) / iters,
        "tlb_flushes_per_op": c(t, "flushes") / iters,
        "tlb_user_misses_per_op": (c(u, "l1i_misses") + c(u, "l1d_misses")) / iters,
        "tlb_user_l1d_misses_per_op": c(u, "l1d_misses") / iters,
        "tlb_kernel_misses_per_op": (c(s, "l1i_misses") + c(s, "l1d_misses")) / iters,
    }
    if "model_cycles" in t:
        out["tlb_model_cycles_per_op"] = c(t, "model_cycles") / iters
    # The cost model's events (docs/tlbmodel.md "Cost model"), so that a cost constant can be
    # swept without a new run (harness.tlb.sweep_cycles); absent from older reports.
    for metric, keys in EVENT_METRICS.items():
        if all(k in t for k in keys):
            out[metric] = sum(c(t, k) for k in keys) / iters
    if has_l2:
        out["tlb_l2_hits_per_op"] = c(t, "l2_hits") / iters
        out["tlb_l2_misses_per_op"] = c(t, "l2_misses") / iters
    return out


EVENT_METRICS: Dict[str, Tuple[str, ...]] = {
    "tlb_satp_writes_per_op": ("satp_writes",),
    "tlb_sfences_per_op": ("sfence_all", "sfence_asid", "sfence_va", "sfence_va_asid"),
    "tlb_traps_per_op": ("traps_from_u",),
    "tlb_srets_per_op": ("srets",),
    "tlb_walk_cache_hits_per_op": ("walk_cache_hits",),
}

# The fully associative LRU L1 sizes whose misses are taken from a report with an LRU
# profile (lru_profile=on): the axis of the crossover maps. The presets' own sizes are in it.
LRU_SIZES = (4, 8, 10, 16, 24, 32, 40, 48, 64, 128, 256)


def lru_metric(side: str, entries: int) -> str:
    """The tidy metric of the misses per op of a fully associative LRU L1 of `entries`."""
    return f"tlb_lru_l1{side}_misses_e{entries}_per_op"


def _lru_misses(rep: Mapping[str, Any], rid: int, side: str, entries: int) -> Optional[float]:
    """tlbmodel/report.py's lru_misses(rep, region, side, entries) when the report has an LRU
    profile; None otherwise (no profile, an older report.py, another spelling of an argument)."""
    fn = getattr(report_module(), "lru_misses", None)
    if fn is None:
        return None
    for region in (rid, str(rid)):
        for s in (f"l1{side}", side):
            try:
                v = fn(rep, region, s, entries)
            except Exception:  # noqa: BLE001 - no profile in this report, or other spellings
                continue
            if v is not None:
                return float(v)
    return None


def lru_rows_wanted(bench: str, params: Mapping[str, Any]) -> bool:
    """Whether a line is one of the crossover workloads (TLB_WORKLOADS): only those get the
    per-size LRU rows, to keep the CSV small."""
    from .tidy import params_string
    key = params_string(params)
    return any(w.bench == bench and key in w.params for w in TLB_WORKLOADS)


def rows_from_report(variant: Variant, preset: str, out: ConsoleOutput,
                     report: Mapping[str, Any], *, where: str = "report"
                     ) -> List[Dict[str, Any]]:
    """Tidy rows (mode tlb) for every `@bench` line of a TLB run: its region's counters per op,
    and iters. Raises TlbReportError when a line has no region id or its region is absent."""
    rows: List[Dict[str, Any]] = []
    has_l2 = bool((report.get("config") or {}).get("l2"))
    regions = report["regions"]
    for rec in out.benches:
        rid = region_id(rec.bench, rec.params)
        if rid is None:
            raise TlbReportError(f"{where}: {rec.bench} {rec.params} has no region id "
                                 f"(user/bench/bench.hpp)")
        region = regions.get(str(rid))
        if region is None:
            raise TlbReportError(f"{where}: region {rid} of {rec.bench} {rec.params} is not in "
                                 f"the report (the benchmark did not mark its loop?)")
        iters = rec.values.get("iters", 0.0)
        metrics = op_metrics(region, iters, has_l2=has_l2,
                             where=f"{where}: region {rid} ({rec.bench} {rec.params})")
        metrics = {"iters": iters, **metrics}
        if lru_rows_wanted(rec.bench, rec.params):
            for side in ("i", "d"):
                for n in LRU_SIZES:
                    m = _lru_misses(report, rid, side, n)
                    if m is not None and iters:
                        metrics[lru_metric(side, n)] = m / iters
        for metric, value in metrics.items():
            rows.append(make_row(variant, rec.bench, rec.params, mode="tlb", metric=metric,
                                 value=value, preset=preset))
    return rows


def probe_facts(report: Mapping[str, Any], *, where: str = "report") -> Dict[str, Any]:
    """kernel_probe's result: did a U-mode load of a kernel-half address find a translation
    (an entry without the U bit) in region 30 (own slot) and 31 (another process's slot)."""
    out: Dict[str, Any] = {}
    for rid, name in ((PROBE_OWN_REGION, "own_slot"), (PROBE_OTHER_REGION, "other_process")):
        region = report["regions"].get(str(rid))
        if region is None:
            raise TlbReportError(f"{where}: region {rid} ({name} probe) is not in the report")
        u = region.get("U")
        if not isinstance(u, Mapping):
            raise TlbReportError(f"{where}: region {rid} lacks U-mode counters")
        hits = _counter(u, "user_hits_on_kernel_entries", f"{where}: region {rid} U")
        probes = _counter(u, "user_kernel_probes", f"{where}: region {rid} U")
        if probes < 1:
            raise TlbReportError(f"{where}: region {rid} ({name}) saw no user access to the "
                                 f"kernel half: the probe did not run as intended")
        out[f"probe_{name}_hit"] = hits > 0
        out[f"{name}_hits_on_kernel_entries"] = int(hits)
        out[f"{name}_probes"] = int(probes)
    return out


# ------------------------------------------------------------------ building the plugin

@dataclass
class PluginBuild:
    ok: bool
    command: str
    log: Path
    plugin: Path              # absolute
    error: Optional[str] = None
    seconds: float = 0.0


def plugin_build_command(make: str = "make") -> List[str]:
    return [make, "-C", "tlbmodel", f"O={PLUGIN_DIR}"]


def build_plugin(repo: Path, log_dir: Path, *, make: str = "make") -> PluginBuild:
    """`make -C tlbmodel O=build/tlbmodel` from the repository root, logged to
    LOG_DIR/build-tlbmodel.log; serialised by an flock on build/tlbmodel.lock (pytest-xdist).
    Never raises for a failed build: ok=False with the reason and the log."""
    import fcntl

    from .build import _run_logged
    from .errors import format_command

    repo = repo.resolve()
    log = log_dir / "build-tlbmodel.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = plugin_build_command(make)
    res = PluginBuild(ok=False, command=format_command(cmd), log=log, plugin=repo / PLUGIN)
    start = time.monotonic()
    lock = repo / PLUGIN_LOCK
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as lk, open(log, "w") as out:
        fcntl.flock(lk.fileno(), fcntl.LOCK_EX)
        try:
            out.write(f"# harness build of the TLB-model plugin in {repo}\n")
            rc = _run_logged(cmd, repo, out)
        finally:
            fcntl.flock(lk.fileno(), fcntl.LOCK_UN)
    res.seconds = time.monotonic() - start
    if rc != 0:
        res.error = f"make failed with status {rc}"
    elif not res.plugin.is_file():
        res.error = f"make succeeded but {PLUGIN} does not exist"
    else:
        res.ok = True
    return res


def plugin_facts(build: Optional[PluginBuild], presets: List[str], *, enabled: bool,
                 repo: Path) -> Dict[str, Any]:
    """facts["tlbmodel"]: whether TLB runs happened, the plugin build and the cycle model."""
    def rel(p: Path) -> str:
        try:
            return str(p.resolve().relative_to(repo.resolve()))
        except ValueError:
            return str(p)

    f: Dict[str, Any] = {"enabled": enabled, "presets": list(presets),
                         "plugin": str(PLUGIN), "cycle_model": dict(CYCLE_MODEL),
                         "built": None, "build_command": None, "build_log": None,
                         "build_error": None}
    if build is not None:
        f.update(built=build.ok, build_command=build.command, build_log=rel(build.log),
                 build_error=build.error)
    return f


# The one cost model (harness/report/costmodel.py); these names stay for the plots and cli.
# Imported last: costmodel needs nothing from this module, and everything above is defined.
from .report import costmodel as _costmodel  # noqa: E402

CYCLE_MODEL_TEXT = _costmodel.TEXT
CYCLE_MODEL_SHORT = _costmodel.SHORT
CYCLE_MODEL = _costmodel.as_dict()
