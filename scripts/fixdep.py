#!/usr/bin/python3
"""Per-option dependencies, in the manner of Linux's scripts/basic/fixdep.

    fixdep.py DEPFILE GENDIR

DEPFILE is the dependency file the compiler wrote (-MMD) for one target. Every kernel file
includes GENDIR/config.hpp (through lib/types.hpp), so a plain dependency on it would rebuild
everything whenever any option changes. fixdep rewrites DEPFILE in place:

- the dependency on GENDIR/config.hpp is dropped;
- every file the target depends on (its source and each header) is scanned for
  `config::<name>`; each name found becomes a dependency on GENDIR/config/<name>, the per-option
  file that scripts/genconfig.py rewrites only when that option's value changes;
- every header gets an empty rule (like -MP), so a deleted header does not break the build.

The result: changing TIMER_HZ rebuilds exactly the objects whose source or headers use
config::timer_hz.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import List, Tuple

USE = re.compile(r"\bconfig::([A-Za-z_][A-Za-z0-9_]*)")


def parse_depfile(text: str) -> Tuple[str, List[str]]:
    """(target, prerequisites) of the first rule of a make dependency file."""
    joined = text.replace("\\\n", " ")
    rule = joined.split("\n", 1)[0]
    if ":" not in rule:
        raise ValueError("no rule in dependency file")
    target, _, prereqs = rule.partition(": ")
    if not _:
        target, _, prereqs = rule.partition(":")
    return target.strip(), prereqs.split()


def options_used(paths: List[str]) -> List[str]:
    names: set = set()
    for p in paths:
        try:
            names.update(m.group(1) for m in USE.finditer(Path(p).read_text(errors="replace")))
        except OSError:
            continue
    return sorted(names)


def fix(text: str, gendir: str) -> str:
    target, prereqs = parse_depfile(text)
    config_hpp = f"{gendir}/config.hpp"
    files = [p for p in prereqs if p != config_hpp]
    deps = files + [f"{gendir}/config/{n}" for n in options_used(files)]
    out = [f"{target}: \\"]
    out += [f"  {d} \\" for d in deps[:-1]]
    if deps:
        out.append(f"  {deps[-1]}")
    else:
        out[-1] = f"{target}:"
    out.append("")
    # empty rules for the headers (not the source, not generated files: those have rules)
    for h in files[1:]:
        if not h.startswith(gendir + "/"):
            out.append(f"{h}:")
    return "\n".join(out) + "\n"


def main(argv: List[str]) -> int:
    if len(argv) != 3:
        print("usage: fixdep.py DEPFILE GENDIR", file=sys.stderr)
        return 2
    path, gendir = Path(argv[1]), argv[2].rstrip("/")
    try:
        text = path.read_text()
        new = fix(text, gendir)
    except (OSError, ValueError) as exc:
        print(f"fixdep: {path}: {exc}", file=sys.stderr)
        return 1
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(new)
    tmp.replace(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
