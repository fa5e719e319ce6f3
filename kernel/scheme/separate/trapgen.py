#!/usr/bin/python3
"""Scheme 1's trap path: a trampoline page that switches satp on every trap.

    trapgen.py DIR/.config DIR/generated   (see kernel/scheme/trapgen_common.py)
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (diff -r of two scheme folders)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from trapgen_common import (ALL_BUT_SP, CALLER_SAVED, TP, TRAMPOLINE, TRAPFRAME, Scheme,  # noqa: E402
                            main)


class SeparateTable(Scheme):
    number = 1
    folder = "separate"
    title = "separate kernel page table"
    # The C++ side: scheme::TrapFrameExtra in kernel/scheme/separate/state.hpp.
    extra_fields = [
        ("KERNEL_SATP", "scheme.kernel_satp"),    # the kernel table's satp
        ("KERNEL_SP", "scheme.kernel_sp"),        # top of this process's kernel stack (kernel VA)
        ("KERNEL_TRAP", "scheme.kernel_trap"),    # user_trap_entry (kernel VA)
        ("KERNEL_TF", "scheme.kernel_tf"),        # this trap frame's kernel VA
        ("USER_SATP", "scheme.user_satp"),        # the process table's satp
        ("USER_STVEC", "scheme.user_stvec"),      # uservec's trampoline VA (the variant for this core)
        ("USERRET", "scheme.userret"),            # userret's trampoline VA (the variant for this core)
        ("USERRET_FULL", "scheme.userret_full"),  # userret_full's trampoline VA (the variant for this core)
        ("USER_TF", "scheme.user_tf"),            # this trap frame's VA in the process table
    ]

    def variants(self) -> list[tuple[str, bool]]:
        """(symbol suffix, flush after satp) for each copy of the trampoline code. With ASIDs
        configured the kernel picks at boot: the plain copy if the core has usable ASIDs, the
        flushing copy if it has none (or asid_bits= took them away)."""
        return [("", False), ("_flush", True)] if self.asid else [("_flush", True)]

    def trap_path(self) -> None:
        e = self.e
        e(f"""\
# ---------------------------------------------------------------- the trampoline page
# Mapped at TRAMPOLINE (0x{TRAMPOLINE:x}) in the kernel table and in every process table.
# User mode sees only its own pages, this page and its threads' trap frames (one page per
# thread slot, from 0x{TRAPFRAME:x} down); so a trap saves the user registers there, then switches satp to the
# kernel table. Two satp writes per trap: one in uservec, one in userret. Each entry and exit
# is here {'twice: without and with the full flush that a core without ASIDs needs after a satp write; the trap frame holds the addresses of the copy this core uses' if self.asid else 'once, with the full flush that ASID=n needs after every satp write'}.
    .section .trampoline, "ax"
    .globl trampoline_start
    .balign 4096
trampoline_start:""")
        for suffix, flush in self.variants():
            self.uservec(suffix, flush)
        for suffix, flush in self.variants():
            self.userret(suffix, flush, full=False)
        for suffix, flush in self.variants():
            self.userret(suffix, flush, full=True)
        if not self.asid:
            e("# ASID=n: the plain names are the flushing copies.")
            for name in ("uservec", "userret", "userret_full"):
                e(f"    .globl {name}\n    .set {name}, {name}_flush")
        e(f"""\
    .balign 4096
    .globl trampoline_end
trampoline_end:

# ---------------------------------------------------------------- kernel side
# user_trap_entry(a0 = trap frame kernel VA), on this process's kernel stack, kernel table.
    .section .text
    .globl user_trap_entry
    .balign 4
user_trap_entry:
    la t0, kernelvec
    csrw stvec, t0
    addi sp, sp, -16
    sd s1, 0(sp)                   # s1 is the user's: keep it while s1 holds the frame
    mv s1, a0""")
        self.dispatch("s1", reload_a0=True)
        e(f"""\
    mv a0, s1
    ld s1, 0(sp)
    addi sp, sp, 16
    # fall through: return to user mode
    .globl user_return
user_return:                       # (a0 = trap frame kernel VA)""")
        self.kernel_exit("USERRET")
        e("""
# user_return_full(a0 = trap frame kernel VA): never returns.
    .globl user_return_full
user_return_full:""")
        self.kernel_exit("USERRET_FULL")
        e("")

    def kernel_exit(self, target: str) -> None:
        """Kernel-side half of a trap exit: stvec, sscratch, sepc, then jump to the trampoline
        exit whose VA the trap frame holds, with a0 = the frame's user-table VA and a1 = the user satp."""
        self.e(f"""\
    ld t0, {self.off('USER_STVEC')}(a0)
    csrw stvec, t0                 # uservec (this core's copy) on the trampoline page
    ld t1, {self.off('USER_TF')}(a0)          # the frame's VA in the process table (its thread's)
    csrw sscratch, t1
    ld t2, {self.off('EPC')}(a0)
    csrw sepc, t2
    ld a1, {self.off('USER_SATP')}(a0)
    ld t0, {self.off(target)}(a0)           # the exit at its trampoline VA
    mv a0, t1
    jr t0""")

    def uservec(self, suffix: str, flush: bool) -> None:
        e = self.e
        e(f"""\
    .globl uservec{suffix}
    .balign 4
uservec{suffix}:
    csrrw a0, sscratch, a0         # a0 = this thread's frame, sscratch = user a0""")
        self.save_user_regs("a0", skip=10)
        e("    sd sp, 16(a0)")
        e(f"""\
    csrr t0, sscratch
    sd t0, {8 * 10}(a0)                  # user a0
    csrr t0, sepc
    sd t0, {self.off('EPC')}(a0)
    ld sp, {self.off('KERNEL_SP')}(a0)
    ld tp, {self.off('KERNEL_TP')}(a0)          # this hart's Hart (the user's tp is saved)
    ld t0, {self.off('KERNEL_TRAP')}(a0)
    ld t1, {self.off('KERNEL_SATP')}(a0)
    ld a0, {self.off('KERNEL_TF')}(a0)          # from now on reach the frame at its kernel VA
    csrw satp, t1                  # satp write 1 of 2: into the kernel table""")
        self.count("a0", "SATP_WRITES")
        if flush:
            self.flush_after_satp("a0")
        e("    jr t0                          # user_trap_entry\n")

    def userret(self, suffix: str, flush: bool, full: bool) -> None:
        e = self.e
        name = f"userret{'_full' if full else ''}{suffix}"
        what = ("the first return of a new or exec'd process: every register" if full else
                "only caller-saved registers and tp: the kernel's C++ code preserved s0-s11, and gp is the process's own (saved and restored by the context switch)")
        e(f"""\
# {name}(a0 = the frame's user-table VA, a1 = user satp), called at its TRAMPOLINE VA from the kernel table:
# {what}.
    .globl {name}
    .balign 4
{name}:
    csrw satp, a1                  # satp write 2 of 2: back to the process table""")
        self.count("a0", "SATP_WRITES")
        if flush:
            self.flush_after_satp("a0")
        regs = ALL_BUT_SP if full else CALLER_SAVED + [TP]
        self.restore_regs("a0", [r for r in regs if r != 10])
        e("""\
    ld sp, 16(a0)
    ld a0, 80(a0)
    sret
""")

    def switch_path(self) -> None:
        self.e("""\
# ---------------------------------------------------------------- context switch
# switch_context(a0 = from, a1 = to): both run on the kernel table, so no satp write here;
# the next process's table is loaded by its trap return.
    .section .text
    .globl switch_context
    .balign 4
switch_context:""")
        self.save_context("a0")
        self.load_context("a1")
        self.e("""\
    ret

# enter_fresh(a0 = context to start, a1 = unused): abandon the current stack.
    .globl enter_fresh
enter_fresh:""")
        self.load_context("a0")
        self.e("    ret\n")


if __name__ == "__main__":
    sys.exit(main(SeparateTable))
