#!/usr/bin/python3
"""Scheme 2's trap path: no satp write on traps; one on a switch between processes.

    trapgen.py DIR/.config DIR/generated   (see kernel/scheme/trapgen_common.py)
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (diff -r of two scheme folders)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from trapgen_common import ALL_BUT_SP, CALLER_SAVED, TP, Scheme, main  # noqa: E402


class SharedTable(Scheme):
    """Scheme 2: the kernel is mapped in every table at the same VA; no satp write on traps."""

    number = 2
    folder = "shared"
    title = "shared table, the same kernel VA in every process"

    def trap_path(self) -> None:
        e = self.e
        e("""\
# ---------------------------------------------------------------- uservec
# The kernel is mapped in this process's table, so a trap only swaps to the kernel stack:
# sscratch holds this process's trap frame (at the top of its kernel stack). No satp write.
    .section .text
    .globl uservec
    .balign 4
uservec:
    csrrw sp, sscratch, sp         # sp = trap frame, sscratch = user sp""")
        self.save_user_regs("sp", skip=0)
        e(f"""\
    csrr t0, sscratch
    sd t0, 16(sp)                  # user sp
    csrr t0, sepc
    sd t0, {self.off('EPC')}(sp)
    ld tp, {self.off('KERNEL_TP')}(sp)          # this hart's Hart (the user's tp is saved)
    la t0, kernelvec
    csrw stvec, t0""")
        self.dispatch("sp", reload_a0=False)
        e(f"""\
    # return to user mode; sp is the trap frame again (the C++ stack grew down from it)
    .globl user_return_fast
user_return_fast:
    la t0, uservec
    csrw stvec, t0
    csrw sscratch, sp
    ld t0, {self.off('EPC')}(sp)
    csrw sepc, t0
# Only caller-saved registers and tp: the kernel's C++ code preserved s0-s11, and gp is the
# process's own (the kernel never uses it; the context switch saves and restores it).""")
        self.restore_regs("sp", CALLER_SAVED + [TP])
        e(f"""\
    ld sp, 16(sp)
    sret

# user_return_full(a0 = trap frame): the first return of a new or exec'd process.
    .globl user_return_full
user_return_full:
    mv sp, a0
    la t0, uservec
    csrw stvec, t0
    csrw sscratch, sp
    ld t0, {self.off('EPC')}(sp)
    csrw sepc, t0""")
        self.restore_regs("sp", ALL_BUT_SP)
        e("""\
    ld sp, 16(sp)
    sret
""")

    def moves_window(self) -> bool:
        """Does a switch change the kernel window's VA (so tp, a kernel pointer, must change)?"""
        return self.kaslr_boot

    def switch_body(self) -> None:
        """After the outgoing context is saved: write satp (a2), flush if a3 says the core has
        no usable ASIDs (always, with ASID=n), load the incoming context (a1); a4 is this
        hart's Hart at the incoming window (used when the window moves)."""
        self.e("    csrw satp, a2                  # the only satp write: a switch between processes")
        if self.moves_window():
            self.e("    mv tp, a4                      # this hart's Hart at the incoming window")
        if self.asid:
            self.e("    beqz a3, 1f                    # a3 = 0: the core has ASIDs, no flush")
            self.flush_after_satp(None)
            self.e("1:")
        else:
            self.flush_after_satp(None)
        self.load_context("a1")
        self.e("    ret")

    def switch_path(self) -> None:
        e = self.e
        e("""\
# ---------------------------------------------------------------- context switch
# switch_context(a0 = from, a1 = to, a2 = to's satp, a3 = flush after the write, a4 = this
# hart's Hart at to's window). The kernel
# is at the same VA in both tables, so execution simply continues after the satp write.
    .section .text
    .globl switch_context
    .balign 4
switch_context:""")
        self.save_context("a0")
        self.switch_body()
        e("""
# enter_fresh(a0 = context, a1 = satp, a2 = flush, a3 = Hart at the context's window): load a
# table and start a context on a fresh stack.
    .globl enter_fresh
enter_fresh:
    mv a4, a3
    mv a3, a2
    mv a2, a1
    mv a1, a0""")
        self.switch_body()
        e("")


if __name__ == "__main__":
    sys.exit(main(SharedTable))
