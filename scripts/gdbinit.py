#!/usr/bin/python3
"""Write a gdb script for `make O=DIR gdb`: symbols of DIR/kernel.elf, attached to QEMU's gdb stub.

In scheme 3 the kernel runs at a different VA in every process. `kslot ADDR` reloads the
kernel's symbols at the slot ADDR (printed by the kernel at panics, by `diag` and in debug logs),
so breakpoints and backtraces resolve while that process is running.
"""
import sys
from pathlib import Path

LINK_WINDOW = 0xFFFFFFC000000000


def main() -> int:
    build = Path(sys.argv[1]).resolve()
    elf = build / "kernel.elf"
    port = sys.argv[2] if len(sys.argv) > 2 else "1234"
    print(f"""\
set architecture riscv:rv64
set pagination off
file {elf}
target remote :{port}
define kslot
  symbol-file
  eval "add-symbol-file {elf} -o %#lx", ($arg0 - {LINK_WINDOW:#x})
end
document kslot
Load the kernel's symbols for the kernel window at VA $arg0 (scheme 3: a process's slot).
end
echo sv39lab: symbols at the link-time window. In scheme 3 use 'kslot 0x...' for a process's slot.\\n
""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
