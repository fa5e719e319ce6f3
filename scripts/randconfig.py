#!/usr/bin/python3
"""Random and extreme kernel configurations (Linux `make randconfig` style), with Kconfiglib.

    randconfig.py --kconfig Kconfig --seed N --out PATH [--base FRAGMENT] [--end-prob P]
        Walk the menu tree in order and give every visible symbol a random value: bool and
        tristate symbols one of their assignable values, a choice one of its visible symbols,
        an int with a `range` a value drawn uniformly from the range, or, with probability P
        (default 0.25), one of the range's ends. Ints without a range and strings keep their
        default. Visibility is re-evaluated as the walk goes, so a symbol that an earlier pick
        hid or revealed is handled as in the final configuration. The symbols a --base fragment
        (a defconfig, e.g. configs/scheme3_defconfig) sets stay as it sets them (Linux's
        KCONFIG_ALLCONFIG). Without --seed a seed is drawn; it is always printed:
            randconfig: seed N -> PATH
        The same Kconfig, seed and base give the same .config.

    randconfig.py --kconfig Kconfig --extremes --base configs/schemeN_defconfig --list
        The extreme configurations of that defconfig: for every visible int symbol with a
        range, one with it at the range's minimum and one at its maximum, all other symbols at
        the defconfig's values. One line each, `INDEX NAME=VALUE`.
    randconfig.py --kconfig Kconfig --extremes --base ... --index I --out PATH
        Writes extreme configuration I (as listed) to PATH.
    --combined (with --extremes): two configurations instead, every int at its minimum
        (index 0) and every int at its maximum (index 1).

`make O=DIR randconfig SEED=N` runs `randconfig.py --kconfig Kconfig --seed N --out DIR/.config`.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path
from typing import List, Optional, Set, Tuple

import kconfiglib
from kconfiglib import BOOL, INT, TRISTATE, Choice, Kconfig, Symbol, expr_value


def load(kconfig: str, base: Optional[str]) -> Tuple[Kconfig, Set[object]]:
    """The Kconfig with `base` applied; returns the symbols and choices the base fixed."""
    kconf = Kconfig(kconfig, warn_to_stderr=False)
    fixed: Set[object] = set()
    if base:
        kconf.load_config(base, replace=True)
        for sym in kconf.unique_defined_syms:
            if sym.user_value is not None:
                fixed.add(sym)
                if sym.choice is not None:
                    fixed.add(sym.choice)
        for choice in kconf.unique_choices:
            if choice.user_selection is not None or choice.user_value is not None:
                fixed.add(choice)
    return kconf, fixed


def active_range(sym: Symbol) -> Optional[Tuple[int, int]]:
    """The (low, high) of the first range whose condition holds, as Kconfig uses it."""
    for low, high, cond in sym.ranges:
        if expr_value(cond):
            base = 16 if sym.type == kconfiglib.HEX else 10
            return int(low.str_value, base), int(high.str_value, base)
    return None


def is_user_int(sym: Symbol) -> bool:
    return sym.type == INT and sym.visibility > 0 and bool(sym.nodes) and \
        any(n.prompt for n in sym.nodes)


def randomize(kconf: Kconfig, fixed: Set[object], rng: random.Random, end_prob: float) -> None:
    for node in kconf.node_iter():
        item = node.item
        if item in fixed:
            continue
        if isinstance(item, Choice):
            if item.visibility == 0:
                continue
            modes = list(item.assignable)
            if modes:
                item.set_value(rng.choice(modes))
            if item.tri_value == 2:
                members = [s for s in item.syms if s.visibility > 0]
                if members:
                    rng.choice(members).set_value(2)
            continue
        if not isinstance(item, Symbol) or not node.prompt or item.choice is not None:
            continue
        sym = item
        if sym.visibility == 0:
            continue
        if sym.type in (BOOL, TRISTATE):
            values = list(sym.assignable)
            if values:
                sym.set_value(rng.choice(values))
        elif sym.type == INT:
            rng_range = active_range(sym)
            if rng_range is None:
                continue  # no range: the default
            low, high = rng_range
            if rng.random() < end_prob:
                value = rng.choice((low, high))
            else:
                value = rng.randint(low, high)
            sym.set_value(str(value))
        # strings (and hex without range) keep their default


def extremes(kconfig: str, base: Optional[str], combined: bool) -> List[List[Tuple[str, int]]]:
    """The extreme configurations as lists of (symbol, value) to set on top of the base."""
    kconf, _ = load(kconfig, base)
    ints = []
    for sym in kconf.unique_defined_syms:
        if is_user_int(sym):
            r = active_range(sym)
            if r is not None:
                ints.append((sym.name, r))
    if combined:
        return [[(name, r[0]) for name, r in ints], [(name, r[1]) for name, r in ints]]
    out: List[List[Tuple[str, int]]] = []
    for name, (low, high) in ints:
        out.append([(name, low)])
        out.append([(name, high)])
    return out


def describe(settings: List[Tuple[str, int]]) -> str:
    return " ".join(f"{name}={value}" for name, value in settings)


def write_extreme(kconfig: str, base: Optional[str], settings: List[Tuple[str, int]],
                  out: str) -> None:
    kconf, _ = load(kconfig, base)
    for name, value in settings:
        sym = kconf.syms[name]
        sym.set_value(str(value))
        if sym.str_value != str(value):
            raise SystemExit(f"randconfig: {name}={value} did not stick "
                             f"(got {sym.str_value!r})")
    write(kconf, out)


def write(kconf: Kconfig, out: str) -> None:
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    kconf.write_config(out, save_old=False)


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kconfig", default="Kconfig")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--out", default=None)
    p.add_argument("--base", default=None, help="a defconfig fragment whose settings are kept")
    p.add_argument("--end-prob", type=float, default=0.25,
                   help="probability that an int takes one of its range's ends")
    p.add_argument("--extremes", action="store_true")
    p.add_argument("--combined", action="store_true")
    p.add_argument("--list", action="store_true")
    p.add_argument("--index", type=int, default=None)
    args = p.parse_args(argv)
    os.environ.setdefault("srctree", str(Path(args.kconfig).resolve().parent))

    if args.extremes:
        configs = extremes(args.kconfig, args.base, args.combined)
        if args.list or args.index is None:
            for i, settings in enumerate(configs):
                print(f"{i} {describe(settings)}")
            return 0
        if not 0 <= args.index < len(configs):
            print(f"randconfig: index {args.index} out of 0..{len(configs) - 1}", file=sys.stderr)
            return 2
        if not args.out:
            print("randconfig: --index needs --out", file=sys.stderr)
            return 2
        write_extreme(args.kconfig, args.base, configs[args.index], args.out)
        print(f"randconfig: extreme {args.index} ({describe(configs[args.index])}) -> {args.out}")
        return 0

    if not args.out:
        print("randconfig: --out is required", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2 ** 32)
    kconf, fixed = load(args.kconfig, args.base)
    randomize(kconf, fixed, random.Random(seed), args.end_prob)
    write(kconf, args.out)
    print(f"randconfig: seed {seed} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
