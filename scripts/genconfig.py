#!/usr/bin/python3
"""Turn DIR/.config into DIR/generated/config.hpp: one constexpr per Kconfig symbol.

The header is rewritten only when its content changes, so make rebuilds exactly what depends
on a changed option and nothing else.
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
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
