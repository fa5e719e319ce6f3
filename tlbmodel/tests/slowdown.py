#!/usr/bin/python3
"""Measures the TLB-model plugin's slowdown against plain QEMU on loop-heavy guest runs.

    /usr/bin/python3 tlbmodel/tests/slowdown.py [--repeat N] [--passes P] [--sweep]

Each configuration runs N times, in rounds that interleave the configurations; the best time counts (CPU time of QEMU, user + system, which
a busy machine disturbs less than wall time; --wall for wall time). "net" subtracts a boot-only run
(OpenSBI + the guest's setup, same plugin arguments) from both sides, so it shows the cost
per guest instruction of the measured loop; "total" is the plain ratio of whole runs.

--sweep measures the one-pass sweeps instead (docs/tlbmodel.md "Cost of running the model"):
one configuration (u54), u54 with lru_profile=on (every fully associative LRU size of both
L1s), u54 with alt=FILE of 15 more configurations (16 in all: a u54 size sweep), and both;
"vs first" is the ratio to the first configuration's run (here the one-configuration run).
"""
import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tlbmodel_guest as g  # noqa: E402


# the 15 alternatives of --sweep: u54 with other L1 sizes (the primary is the 16th, 32 entries)
SWEEP_SIZES = [4, 8, 12, 16, 20, 24, 28, 40, 48, 56, 64, 96, 128, 256, 512]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--passes", type=int, default=20000)
    ap.add_argument("--wall", action="store_true")
    ap.add_argument("--configs", default="preset=u54;preset=u54,check=lookup;preset=c906;preset=ideal")
    ap.add_argument("--sweep", action="store_true")
    a = ap.parse_args()
    g.build()
    tmp = Path(tempfile.mkdtemp())
    if a.sweep:
        alt = tmp / "alt16.txt"
        alt.write_text("".join(f"preset=u54,l1i={n},l1d={n}\n" for n in SWEEP_SIZES))
        a.configs = ";".join(["preset=u54", "preset=u54,lru_profile=on", f"preset=u54,alt={alt}",
                              f"preset=u54,lru_profile=on,alt={alt}"])
    workloads = {
        "memory loop (64 pages, 1 load + 1 store per 11 insns)": g.params("loop", k=64, passes=a.passes),
        "page walk (40 pages cycled, 1 load per 4 insns)": g.params("pages", k=40, passes=a.passes * 64),
    }
    boot = g.params("pages", k=1)
    cpu = not a.wall

    def plugged(words, cfg):
        r = g.run_guest(tmp, words, cfg, timeout=900)  # 16 models on the miss path: > 1 min
        return r.cpu_seconds if cpu else r.seconds

    print(f"{'CPU' if cpu else 'wall'} time, best of {a.repeat} interleaved rounds")
    configs = a.configs.split(";")
    for name, words in workloads.items():
        insns = g.run_guest(tmp, words, "preset=u54").report["totals"]["insns"]
        # Rounds interleave the configurations (plain QEMU first), so that a busy spell of a
        # shared machine disturbs all of them alike; the best of the rounds counts.
        times = {}
        for _ in range(a.repeat):
            for cfg in [None] + configs:
                t = g.run_plain(words, cpu=cpu) if cfg is None else plugged(words, cfg)
                tb = g.run_plain(boot, cpu=cpu) if cfg is None else plugged(boot, cfg)
                old = times.get(cfg, (1e9, 1e9))
                times[cfg] = (min(old[0], t), min(old[1], tb))
        plain, plain_boot = times[None]
        print(f"\n{name}: {insns / 1e6:.0f} M guest instructions, plain QEMU {plain:.2f} s "
              f"(boot only {plain_boot:.2f} s)")
        one = times[configs[0]]
        for cfg in configs:
            t, tb = times[cfg]
            net = (t - tb) / max(plain - plain_boot, 1e-3)
            label = cfg.replace(str(tmp) + "/", "")
            print(f"  {label:36s} {t:6.2f} s   total x{t / plain:5.1f}   net x{net:5.1f}"
                  f"   vs first: x{t / one[0]:4.2f} (net x{(t - tb) / max(one[0] - one[1], 1e-3):4.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
