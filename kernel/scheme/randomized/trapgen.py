#!/usr/bin/python3
"""Scheme 3's trap path: scheme 2's trap path; the switch runs through a page at a fixed VA.

    trapgen.py DIR/.config DIR/generated   (see kernel/scheme/trapgen_common.py)
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (diff -r of two scheme folders)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shared"))
from trapgen import SharedTable  # noqa: E402  (scheme 2's generator)
from trapgen_common import TRAMPOLINE, main  # noqa: E402


class RandomizedTable(SharedTable):
    """Scheme 3: like scheme 2, but the kernel window sits at a per-process slot.

    The trap path is scheme 2's: everything is PC-relative, so the same instructions run at any
    slot. The switch differs: after the satp write the old slot is gone, so the write and the
    load of the incoming context run on the switch page, mapped at one fixed VA everywhere.
    """

    number = 3
    folder = "randomized"
    title = "shared table, per-process randomized kernel VA"

    def moves_window(self) -> bool:
        return True  # every process has its own slot

    def switch_path(self) -> None:
        e = self.e
        e(f"""\
# ---------------------------------------------------------------- context switch
# switch_context(a0 = from, a1 = to (its VA in the incoming slot), a2 = to's satp,
# a3 = flush after the write, a4 = this hart's Hart at the incoming slot).
# Save at the current slot, then jump to the switch page (fixed VA 0x{TRAMPOLINE:x}),
# which writes satp and loads the incoming context: its sp and ra are at the incoming slot.
    .section .text
    .globl switch_context
    .balign 4
switch_context:""")
        self.save_context("a0")
        e(f"""\
    li t0, {TRAMPOLINE}
    jr t0

# enter_fresh(a0 = context at the target slot, a1 = satp, a2 = flush, a3 = Hart at that slot)
    .globl enter_fresh
enter_fresh:
    mv a4, a3
    mv a3, a2
    mv a2, a1
    mv a1, a0
    li t0, {TRAMPOLINE}
    jr t0

# ---------------------------------------------------------------- the switch page
# The only code that runs across a satp write. It holds no data and no kernel pointers:
# the incoming context's address, its satp and the flush flag arrive in registers.
    .section .trampoline, "ax"
    .globl trampoline_start
    .balign 4096
trampoline_start:
switch_page:""")
        self.switch_body()
        e("""\
    .balign 4096
    .globl trampoline_end
trampoline_end:
""")


if __name__ == "__main__":
    sys.exit(main(RandomizedTable))
