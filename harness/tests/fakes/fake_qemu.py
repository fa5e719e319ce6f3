#!/usr/bin/python3
"""A stand-in for qemu-system-riscv64 used only by the harness's own tests: it reads the
fake kernel.elf (which the fake Makefile fills with the variant's .config), the -append command
line and -icount, and prints console output in the benchmarks' format. Behaviour switches for
error paths come from FAKE_QEMU_MODE (timeout, bench-error, garbage)."""
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
    m = re.match(r"init=(\S+)\s*(.*)$", append)
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

    def bench(name, params, insns, satp_=satp, sfence_=sfence, switches=0):
        obj = ('{"bench": "%s", "params": {%s}, "iters": 10, "ns_per_op": %.1f, '
               '"insns_per_op": %.1f, "satp_per_op": %d, "sfence_per_op": %d, '
               '"traps_per_op": 1, "switches_per_op": %d, "check": "ok"}'
               % (name, ", ".join('"%s": %d' % kv for kv in params.items()),
                  insns * 2.5 * jitter(), insns, satp_, sfence_, switches))
        print("@bench " + obj + "\r")

    if mode == "bench-error" and prog.startswith("bench_"):
        print("@bench-error copy mismatch at byte 12\r")
        return 3
    if mode == "garbage" and prog.startswith("bench_"):
        print('@bench {"bench": "x", oops\r')
        return 0
    if prog == "bench_null":
        bench(prog, {}, base)
        print('@mem {"pt_pages": %d, "pt_pages_kernel": %d}\r'
              % ({1: 5, 2: 4, 3: 6}[scheme], 2 if scheme == 3 else 0))
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
        for pages in (1, 8, 64):
            bench(prog, {"pages": pages}, base + pages * 40)
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
    else:
        print(f"init: exec {prog}: no such program\r")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
