#!/usr/bin/python3 -S
"""A stand-in for qemu-system-riscv64 used only by the harness's own tests: it reads the
fake kernel.elf (which the fake Makefile fills with the variant's .config), the -append command
line and -icount, and prints console output in the benchmarks' format. With -plugin
...,preset=P,asid=A,out=FILE it also writes a TLB-model report (invented counts in the plugin's
JSON format, one region per @bench line, regions 30/31 for kernel_probe) to FILE. A benchmark
program without a case of its own prints the number of lines its //! declaration states. Behaviour
switches for error paths come from FAKE_QEMU_MODE (timeout, bench-error, garbage,
tlb-mismatch, tlb-no-report)."""
import json
import os
import random
import re
import sys
import time


def arg(name, argv):
    return argv[argv.index(name) + 1] if name in argv else None


def main(argv):
    kernel = arg("-kernel", argv)
    append = arg("-append", argv) or ""
    icount = "-icount" in argv
    config = open(kernel).read()
    found = re.search(r"CONFIG_SCHEME=(\d)", config)
    assert found, "fake kernel.elf without CONFIG_SCHEME"
    scheme = int(found.group(1))
    asid = "CONFIG_ASID=y" in config
    seed = re.search(r"(?:^|\s)kaslr_seed=(\d+)", append)
    seed = int(seed.group(1)) if seed else None
    m = re.search(r"(?:^|\s)init=(\S+)\s*(.*)$", append)
    assert m, "fake QEMU needs -append init=..."
    prog, args = m.group(1), m.group(2).split()
    mode = os.environ.get("FAKE_QEMU_MODE", "")
    print("OpenSBI (fake)\r")
    print(f"sv39lab: scheme {scheme}, asid {'on' if asid else 'off'}, cmdline {append}\r")
    if mode == "timeout":
        sys.stdout.flush()
        time.sleep(600)
    rnd = random.Random(None if not icount else 1)
    jitter = (lambda: 1.0) if icount else (lambda: rnd.uniform(0.95, 1.05))
    base = {1: 420, 2: 180, 3: 183}[scheme]
    satp = 2 if scheme == 1 else 0
    sfence = 0 if asid else satp
    printed = []  # (bench, params, iters, insns) of every @bench line

    def bench(name, params, insns, satp_=satp, sfence_=sfence, switches=0):
        printed.append((name, dict(params), 10, insns))
        obj = ('{"bench": "%s", "params": {%s}, "iters": 10, "ns_per_op": %.1f, '
               '"insns_per_op": %.1f, "satp_per_op": %d, "sfence_per_op": %d, '
               '"traps_per_op": 1, "switches_per_op": %d, "check": "ok"}'
               % (name, ", ".join('"%s": %s' % (k, json.dumps(v)) for k, v in params.items()),
                  insns * 2.5 * jitter(), insns, satp_, sfence_, switches))
        print("@bench " + obj + "\r")

    plugin = arg("-plugin", argv)
    try:
        return run_prog(prog, args, mode, scheme, base, satp, sfence, bench, icount, seed, config)
    finally:
        if plugin:
            write_report(plugin, prog, scheme, printed, mode)


def ilog2(x):
    return max(0, x.bit_length() - 1)


def region_of(name, params):
    # An independent re-statement of user/bench/bench.hpp's region table (the fake's own).
    if name == "bench_null":
        return 1
    if name == "bench_fork" and "touched_kb" in params:
        return 50 + ilog2(params["touched_kb"] // 4)
    if name == "bench_pipe":
        if params["mode"] == "lat":
            return 600
        if params["mode"] == "bw":
            return 601 + ilog2(params["size"])
        ws = params["ws_kb"]
        return 620 + 8 * (0 if ws == 0 else min(6, 1 + ilog2(ws))) + params["procs"] - 1
    if name == "bench_app":
        return 700 if params["workload"] == "pipeline" else 701 + ilog2(params["kv_kb"] // 256)
    if name == "bench_fault":
        if params["mode"] == "protfault":
            return 760
        return {"first_touch": 720, "cow": 740}[params["mode"]] + ilog2(params["kb"] // 4)
    if name == "bench_mix":
        return 800 + 8 * ilog2(params["ws_kb"] // 4) + len(str(params["every"])) - 1
    if name in ("bench_fork", "bench_exec", "bench_timer"):
        return {"bench_fork": 20, "bench_exec": 21, "bench_timer": 22}[name]
    if name == "bench_copy":
        return 100 + ilog2(params["size"])
    if name == "bench_tlb":
        return 200 + ilog2(params["pages"])
    if name == "bench_mmap":
        return 300 + ilog2(params["pages"])
    if name == "bench_ctx":
        ws = params["ws_kb"]
        bucket = 0 if ws == 0 else min(15, 1 + ilog2(ws))
        return 400 + 8 * bucket + min(8, params["procs"]) - 1
    raise ValueError(name)


ZERO = ("insns l1i_misses l1d_misses l2_hits l2_misses walk_refs l1i_misses_after_flush "
        "l1d_misses_after_flush flushes user_hits_on_kernel_entries user_kernel_probes").split()


def counters(**kw):
    c = {k: 0 for k in ZERO}
    c.update(kw)
    return c


def add(a, b):
    return {k: a.get(k, 0) + b.get(k, 0) for k in set(a) | set(b)}


def write_report(plugin, prog, scheme, printed, mode):
    opts = dict(kv.split("=", 1) for kv in plugin.split(",")[1:])
    if mode == "tlb-no-report":
        return
    if "asid" not in opts:  # asid_bits=N: the model's exact ASID width (0: none)
        opts["asid"] = "on" if int(opts["asid_bits"]) > 0 else "off"
    polluting = scheme == 1 and opts["asid"] == "off"
    regions = {}
    for name, params, iters, insns in printed:
        # invented: a polluting variant loses 2 user ITLB entries and 11 kernel ones per op
        u = counters(insns=iters * 20, l1i_misses=iters * 2 if polluting else 0)
        k = counters(insns=iters * int(insns - 20), l1d_misses=iters * 11 if polluting else 0)
        for c in (u, k):
            misses = c["l1i_misses"] + c["l1d_misses"]
            c.update(l2_hits=misses // 4, l2_misses=misses - misses // 4,
                     walk_refs=3 * (misses - misses // 4), l1i_misses_after_flush=c["l1i_misses"],
                     l1d_misses_after_flush=c["l1d_misses"], flushes=iters * 2 if polluting else 0)
        total = add(u, k)
        regions[str(region_of(name, params))] = {"name": str(region_of(name, params)),
                                                 "insns": total["insns"], "total": total,
                                                 "U": u, "S": k, "M": counters(),
                                                 "bare": counters()}
    if prog == "kernel_probe":
        hits = {1: (0, 0), 2: (1, 1), 3: (1, 0)}[scheme]
        for rid, h in zip(("30", "31"), hits):
            u = counters(insns=9, user_kernel_probes=1, user_hits_on_kernel_entries=h)
            k = counters(insns=16000)
            regions[rid] = {"name": rid, "insns": 16009, "total": add(u, k), "U": u, "S": k,
                            "M": counters(), "bare": counters()}
    bad = 3 if mode == "tlb-mismatch" else 0
    l2 = None if opts["preset"] == "u74" else {"entries": 128, "ways": 1, "description": "x"}
    rep = {"format": "sv39lab-tlbmodel/1", "status": "mismatch" if bad else "ok",
           "mismatches": bad, "_comment": "FAKE report written by harness/tests/fakes/fake_qemu.py",
           "config": {"preset": opts["preset"], "asid": opts["asid"], "l2": l2,
                      **({"asid_bits": int(opts["asid_bits"])} if "asid_bits" in opts else {})},
           "regions": regions}
    with open(opts["out"], "w") as f:
        json.dump(rep, f)


def run_prog(prog, args, mode, scheme, base, satp, sfence, bench, icount, seed=None, config=""):
    if mode == "bench-error" and prog.startswith("bench_"):
        print("@bench-error copy mismatch at byte 12\r")
        return 3
    if mode == "garbage" and prog.startswith("bench_"):
        print('@bench {"bench": "x", oops\r')
        return 0
    if prog == "bench_null":
        bench(prog, {}, base)
        # scheme 3: the kernel page-table pages depend on the slot (here: on the seed)
        kpt = (1 + (seed or 0) % 2) if scheme == 3 else 0
        print('@mem {"pt_pages": %d, "pt_pages_kernel": %d}\r'
              % ({1: 5, 2: 4, 3: 4 + kpt}[scheme], kpt))
    elif prog == "bench_copy":
        for k in range(3, 17):
            bench(prog, {"size": 2 ** k}, base + 2 ** k / 4)
    elif prog == "bench_ctx":
        procs = int(args[1])
        for ws in args[2:]:
            bench(prog, {"procs": 1, "ws_kb": int(ws)}, 150 + int(ws) * 10, 0, 0, 0)
            bench(prog, {"procs": procs, "ws_kb": int(ws)},
                  {1: 1100, 2: 650, 3: 760}[scheme] + int(ws) * 10, 1 + satp, sfence, 1)
    elif prog == "bench_tlb":
        for pages in (2 ** k for k in range(11)):
            bench(prog, {"pages": pages}, base + pages * 40)
    elif prog == "bench_timer" and not icount:
        # Like the real one: without -icount, rdinstret reads host clock ticks, and the
        # program's "fewer instructions than the spin" check fails by chance (here: always).
        print("@bench-error bench_timer: 1000 instructions retired, fewer than the spin's "
              "200000003\r")
        return 1
    elif prog == "bench_fork" and len(args) > 1:
        for kb in map(int, args[1:]):  # eager copy: per page of the parent; COW: much less
            per_page = 300 if "CONFIG_FORK_COW=y" in config else 3000
            bench(prog, {"touched_kb": kb}, 40000 + per_page * kb // 4, 1, 3, 1)
    elif prog == "bench_pipe":
        bench(prog, {"mode": "lat", "size": 1}, {1: 5200, 2: 4800, 3: 4900}[scheme], 1, 0, 1)
        for size in map(int, args[1:]):
            bench(prog, {"mode": "bw", "size": size}, 600 + size * 2)
        for procs in (2, 4, 8):
            for ws in (0, 16, 64):
                bench(prog, {"mode": "ctx", "procs": procs, "ws_kb": ws},
                      {1: 3000, 2: 2600, 3: 2700}[scheme] + 50 * ws + 40 * procs, 1, 0, 1)
    elif prog == "bench_fault":
        demand, cow = "CONFIG_MEMORY_DEMAND=y" in config, "CONFIG_FORK_COW=y" in config
        kbs = list(map(int, args[1:]))
        for kb in kbs:
            bench(prog, {"mode": "first_touch", "kb": kb}, 2000 + (300 if demand else 0))
        for kb in kbs:
            if kb <= 16384:
                bench(prog, {"mode": "cow", "kb": kb}, 4500 if cow else 900)
        bench(prog, {"mode": "protfault"}, 45000, 1, 3, 1)
    elif prog == "bench_mix":
        for ws in map(int, args[1:]):
            for e in range(6):
                bench(prog, {"ws_kb": ws, "every": 10 ** e}, 10 + base / 10 ** e)
    elif prog == "bench_lebench":
        for i, case in enumerate(("getpid getppid nosys yield_alone get_time sleep_0 stats "
                                  "programs diag write_bad_fd pipe_rw_1 pipe_rw_4096 pipe_close "
                                  "dup2_close echo_8 echo_65536 mmap_munmap_1 sbrk_1 "
                                  "mmap_munmap_256 sbrk_256 waitpid_nohang_none "
                                  "fork_exit_wait fork_exec_wait").split()):
            bench(prog, {"case": case}, base + 100 * i)
    elif prog == "bench_app":
        bench(prog, {"workload": "pipeline", "lines": 2000}, 1800 + base)
        for kb in (256, 1024):
            bench(prog, {"workload": "kv", "kv_kb": kb}, 9000 + 3 * base, 1, 0, 1)
    elif prog in ("bench_fork", "bench_exec", "bench_mmap", "bench_timer"):
        bench(prog, {}, {1: 50000, 2: 40000, 3: 46000}[scheme])
    elif prog == "kaslr_probe":
        n = int(args[0])
        for i in range(n):
            k = (i * 40503 + os.getpid()) % 130304  # distinct for i < 64
            slot = 0xffffffc080000000 if scheme != 3 else 0xffffffc000000000 + k * 0x200000
            print(f"@slot {slot:#x}\r")
        if scheme == 3:
            print('@kaslr {"slots": 130304, "entropy_bits": 16.99}\r')
    elif prog == "usertests":
        print("usertests: ALL OK\r")
    elif prog == "kernel_probe":
        print('@probe {"parent_kernel_addr":"0xffffffc00023d010"}\r')
    elif declared(prog):
        # any other benchmark: as many lines as its //! declaration says it prints
        for name, table in declared(prog).items():
            quick = [str(a) for a in table.get("quick", [])]
            full_lines = table.get("lines", 1)
            n = table.get("quick_lines", full_lines) if args == quick else full_lines
            for i in range(n):
                bench(name, {"i": i} if n > 1 else {}, base + 10 * i)
    else:
        print(f"init: exec {prog}: no such program\r")
        return 1
    return 0


def declared(prog):
    """The //! declaration (harness/benchspec.py) of the benchmark program `prog` in the
    repository this fake belongs to: {benchmark name: table}, {} when there is none."""
    import tomllib
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
    for path in (os.path.join(root, "user", "bench", prog + ".cpp"),
                 os.path.join(root, "user", "bench", prog, "main.cpp")):
        if os.path.isfile(path):
            with open(path) as fh:
                text = "\n".join(ln.strip()[3:].removeprefix(" ") for ln in fh
                                 if ln.strip().startswith("//!"))
            return {k: v for k, v in tomllib.loads(text).items()
                    if isinstance(v, dict) and v.get("program", prog) == prog}
    return {}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
