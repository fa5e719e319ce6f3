#!/usr/bin/python3
"""Turn DIR/.config into DIR/generated/config.hpp (one constexpr per Kconfig symbol) and one
file per symbol, DIR/generated/config/<name> (its value).

Every file is rewritten only when its content changes. Objects do not depend on config.hpp
itself: scripts/fixdep.py turns each object's dependency on it into dependencies on the
per-symbol files of the `config::<name>` it (or a header it includes) uses, so a changed option
rebuilds exactly the files that use it (Linux's include/config/ approach).
"""
import sys
from pathlib import Path

import kconfiglib


def cpp_value(sym: kconfiglib.Symbol) -> tuple[str, str] | None:
    if sym.type in (kconfiglib.BOOL, kconfiglib.TRISTATE):
        return "bool", "true" if sym.str_value == "y" else "false"
    if sym.type == kconfiglib.INT:
        return "long", sym.str_value or "0"
    if sym.type == kconfiglib.HEX:
        return "unsigned long", sym.str_value or "0"
    if sym.type == kconfiglib.STRING:
        escaped = sym.str_value.replace("\\", "\\\\").replace('"', '\\"')
        return "char", f'"{escaped}"'
    return None


def main() -> int:
    kconfig, dotconfig, out = sys.argv[1:4]
    kconf = kconfiglib.Kconfig(kconfig, warn_to_stderr=False)
    kconf.load_config(dotconfig)
    lines = [
        "// Generated from .config by scripts/genconfig.py. Do not edit; run make menuconfig.",
        "#pragma once",
        "namespace config {",
    ]
    for sym in kconf.unique_defined_syms:
        typed = cpp_value(sym)
        if typed is None or not sym.name:
            continue
        ctype, value = typed
        name = sym.name.lower()
        if ctype == "char":
            lines.append(f"inline constexpr char {name}[] = {value};")
        else:
            lines.append(f"inline constexpr {ctype} {name} = {value};")
    lines.append("}  // namespace config")
    text = "\n".join(lines) + "\n"
    path = Path(out)
    per_symbol = path.parent / "config"
    per_symbol.mkdir(parents=True, exist_ok=True)
    for sym in kconf.unique_defined_syms:
        if sym.name and cpp_value(sym) is not None:
            write_if_changed(per_symbol / sym.name.lower(), f"{sym.name}={sym.str_value}\n")
    write_if_changed(path, text)
    return 0


def write_if_changed(path: Path, text: str) -> None:
    if path.exists() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


if __name__ == "__main__":
    sys.exit(main())
