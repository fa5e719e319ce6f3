#!/usr/bin/python3
"""Generate the trap entry/exit and context-switch assembly for the configured scheme.

    trapgen.py DIR/.config DIR/generated   ->   trap.S and trap_layout.h

The three schemes share the register save/restore code; they differ in how a trap reaches the
kernel (satp switch through a trampoline, or none), in how the CPU is handed to another process
(one satp write, and in scheme 3 through a switch page mapped at one fixed VA in every table)
and in how a fresh kernel stack is entered. Each difference sits in one class below, so the
generated file for a scheme contains only what that scheme executes. Read the output in
DIR/generated/trap.S: it is commented for people, not only for the assembler.
"""
from __future__ import annotations

import sys
from pathlib import Path

# ---------------------------------------------------------------- trap-frame layout
# x1..x31 at 8*i; the kernel-side fields follow. Shared with C++ through trap_layout.h.
FIELDS = [
    ("EPC", 256),          # user pc at the trap
    ("KERNEL_SATP", 264),  # scheme 1: the kernel table's satp
    ("KERNEL_SP", 272),    # scheme 1: top of this process's kernel stack (kernel VA)
    ("KERNEL_TRAP", 280),  # scheme 1: user_trap_entry (kernel VA)
    ("KERNEL_TF", 288),    # scheme 1: this trap frame's kernel VA
    ("USER_SATP", 296),    # scheme 1: the process table's satp
    ("SATP_WRITES", 304),  # satp writes done by the trap path (counter)
    ("SFENCE_ALL", 312),   # sfence.vma zero,zero done by the trap path (counter)
    ("SYSCALLS", 320),     # system calls dispatched (counter)
    ("USER_STVEC", 328),   # scheme 1: uservec's trampoline VA (the variant for this core)
    ("USERRET", 336),      # scheme 1: userret's trampoline VA (the variant for this core)
    ("USERRET_FULL", 344), # scheme 1: userret_full's trampoline VA (the variant for this core)
]
TRAPFRAME_SIZE = 352
# Context saved by a context switch: ra, sp, the callee-saved s0..s11, and gp and tp, which
# belong to the user (the kernel never uses them) and would otherwise pass from the process
# switched out to the one switched in, since the fast trap exits do not restore them.
CONTEXT_REGS = ["ra", "sp", "gp", "tp"] + [f"s{i}" for i in range(12)]

ABI_NAMES = ["zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1"] + \
    [f"a{i}" for i in range(8)] + [f"s{i}" for i in range(2, 12)] + ["t3", "t4", "t5", "t6"]
CALLER_SAVED = [1] + [5, 6, 7] + list(range(10, 18)) + [28, 29, 30, 31]  # ra, t0-2, a0-7, t3-6
ALL_BUT_SP = [1] + list(range(3, 32))

TRAMPOLINE = 0xFFFFFFFFFFFFF000
TRAPFRAME = TRAMPOLINE - 0x1000
SYS_COUNT = 24              # include/uapi/syscall.h: SYS_COUNT (checked by the C++ build)


def read_config(path: str) -> dict[str, str]:
    cfg: dict[str, str] = {}
    for line in Path(path).read_text().splitlines():
        if line.startswith("CONFIG_") and "=" in line:
            k, v = line.split("=", 1)
            cfg[k[len("CONFIG_"):]] = v.strip('"')
    return cfg


class Emitter:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, text: str = "") -> None:
        self.lines.extend(text.splitlines() or [""])

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def off(name: str) -> int:
    return dict(FIELDS)[name]


class Scheme:
    """What all schemes share: register save/restore, kernelvec, the fresh-entry stub."""

    number = 0
    title = ""

    def __init__(self, cfg: dict[str, str]) -> None:
        self.asid = cfg.get("ASID") == "y"
        self.stats = cfg.get("STATS") == "y"
        self.e = Emitter()

    # -- helpers
    def count(self, base: str, field: str, tmp: str = "t2") -> None:
        if self.stats:
            self.e(f"    ld {tmp}, {off(field)}({base})      # count it\n"
                   f"    addi {tmp}, {tmp}, 1\n"
                   f"    sd {tmp}, {off(field)}({base})")

    def flush_after_satp(self, base: str | None) -> None:
        """The full flush that follows a satp write when the core has no usable ASIDs."""
        self.e("    sfence.vma zero, zero          # no ASIDs: flush the whole TLB")
        if base:
            self.count(base, "SFENCE_ALL")

    def save_user_regs(self, base: str, skip: int) -> None:
        for i in ALL_BUT_SP:
            if i != skip:
                self.e(f"    sd {ABI_NAMES[i]}, {8 * i}({base})")

    def restore_regs(self, base: str, regs: list[int]) -> None:
        for i in regs:
            self.e(f"    ld {ABI_NAMES[i]}, {8 * i}({base})")

    def dispatch(self, tf: str, reload_a0: bool) -> None:
        """Route a trap: an ecall goes straight to its handler through syscall_table with the
        user's a0..a5 as arguments (a7 = number); anything else goes to user_trap(tf) in C++.
        Ends with the result stored and the trap frame in `tf`, ready for the exit path."""
        e = self.e
        e(f"""\
    csrr t0, scause
    li t1, 8                       # environment call from U-mode
    bne t0, t1, 1f
    ld t0, {off('EPC')}({tf})
    addi t0, t0, 4                 # return past the ecall
    sd t0, {off('EPC')}({tf})""")
        if self.stats:
            self.count(tf, "SYSCALLS", "t0")
        if reload_a0:
            e(f"    ld a0, 80({tf})                # the user's a0 (the entry used the register)")
        e(f"""\
    li t1, {SYS_COUNT}
    bgeu a7, t1, 2f                # unknown number: entry 0 (sys_nosys)
    slli t1, a7, 2
    j 3f
2:  li t1, 0
3:  lla t0, syscall_table
    add t1, t0, t1
    lw t1, 0(t1)
    add t1, t0, t1                 # sys_<name>: the table holds offsets, not addresses
    jalr t1
    sd a0, 80({tf})                # the result
    j 4f
1:  mv a0, {tf}
    call user_trap                 # interrupts and faults
4:""")

    def save_context(self, reg: str) -> None:
        for i, r in enumerate(CONTEXT_REGS):
            self.e(f"    sd {r}, {8 * i}({reg})")

    def load_context(self, reg: str) -> None:
        for i, r in enumerate(CONTEXT_REGS):
            self.e(f"    ld {r}, {8 * i}({reg})")

    def header(self) -> None:
        self.e(f"""\
# Generated by kernel/scheme/trapgen.py for scheme {self.number}: {self.title}
# ASIDs {'on' if self.asid else 'off'}, counters {'on' if self.stats else 'off'}. Do not edit: change the generator.
#include "trap_layout.h"
""")

    def kernelvec(self) -> None:
        self.e("""\
# ---------------------------------------------------------------- kernelvec
# Traps taken in supervisor mode. The kernel runs with interrupts off, so these are kernel
# faults (or an expected probe fault). Switch to the emergency stack first: the fault may be a
# kernel-stack overflow into its guard page.
    .section .text
    .globl kernelvec
    .balign 4
kernelvec:
    csrw sscratch, sp              # sscratch is free: kernel traps are fatal, except the boot-time CSR probe (before any process)
    la sp, emergency_stack_top
    addi sp, sp, -272""")
        self.save_user_regs("sp", skip=0)
        self.e("""\
    csrr t0, sscratch
    sd t0, 16(sp)                  # the interrupted sp
    csrr t0, sepc
    sd t0, 256(sp)
    mv a0, sp
    call kernel_trap               # returns only for a fixed-up probe fault (sepc updated)
    ld t0, 256(sp)
    csrw sepc, t0""")
        self.restore_regs("sp", [i for i in ALL_BUT_SP])
        self.e("""\
    ld sp, 16(sp)
    sret
""")

    def fresh_entry(self) -> None:
        self.e("""\
# ---------------------------------------------------------------- fresh_entry
# First instruction of a fresh kernel stack (new process, exec): the context holds
# s1 = the C++ function, s2 = its argument; s0 = 0 ends backtraces.
    .section .text
    .globl fresh_entry
    .balign 4
fresh_entry:
    la t0, kernelvec               # traps in the kernel go to kernelvec (at this slot)
    csrw stvec, t0
    mv a0, s2
    jalr s1
1:  j 1b
""")

    def generate(self) -> str:
        self.header()
        # The markers delimit what only this scheme has (the harness counts these lines as the
        # scheme's trap-path complexity); kernelvec and fresh_entry are common to all.
        self.e("# @scheme-begin")
        self.trap_path()
        self.switch_path()
        self.e("# @scheme-end")
        self.kernelvec()
        self.fresh_entry()
        return self.e.text()


class SeparateTable(Scheme):
    number = 1
    title = "separate kernel page table"

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
# User mode sees only its own pages, this page and its trap frame at TRAPFRAME
# (0x{TRAPFRAME:x}); so a trap saves the user registers there, then switches satp to the
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
        exit whose VA the trap frame holds, with a0 = TRAPFRAME and a1 = the user satp."""
        self.e(f"""\
    ld t0, {off('USER_STVEC')}(a0)
    csrw stvec, t0                 # uservec (this core's copy) on the trampoline page
    li t1, {TRAPFRAME}
    csrw sscratch, t1
    ld t2, {off('EPC')}(a0)
    csrw sepc, t2
    ld a1, {off('USER_SATP')}(a0)
    ld t0, {off(target)}(a0)           # the exit at its trampoline VA
    mv a0, t1
    jr t0""")

    def uservec(self, suffix: str, flush: bool) -> None:
        e = self.e
        e(f"""\
    .globl uservec{suffix}
    .balign 4
uservec{suffix}:
    csrrw a0, sscratch, a0         # a0 = TRAPFRAME, sscratch = user a0""")
        self.save_user_regs("a0", skip=10)
        e("    sd sp, 16(a0)")
        e(f"""\
    csrr t0, sscratch
    sd t0, {8 * 10}(a0)                  # user a0
    csrr t0, sepc
    sd t0, {off('EPC')}(a0)
    ld sp, {off('KERNEL_SP')}(a0)
    ld t0, {off('KERNEL_TRAP')}(a0)
    ld t1, {off('KERNEL_SATP')}(a0)
    ld a0, {off('KERNEL_TF')}(a0)          # from now on reach the frame at its kernel VA
    csrw satp, t1                  # satp write 1 of 2: into the kernel table""")
        self.count("a0", "SATP_WRITES")
        if flush:
            self.flush_after_satp("a0")
        e("    jr t0                          # user_trap_entry\n")

    def userret(self, suffix: str, flush: bool, full: bool) -> None:
        e = self.e
        name = f"userret{'_full' if full else ''}{suffix}"
        what = ("the first return of a new or exec'd process: every register" if full else
                "only caller-saved registers: the kernel's C++ code preserved s0-s11, and gp/tp are the process's own (saved and restored by the context switch)")
        e(f"""\
# {name}(a0 = TRAPFRAME, a1 = user satp), called at its TRAMPOLINE VA from the kernel table:
# {what}.
    .globl {name}
    .balign 4
{name}:
    csrw satp, a1                  # satp write 2 of 2: back to the process table""")
        self.count("a0", "SATP_WRITES")
        if flush:
            self.flush_after_satp("a0")
        regs = ALL_BUT_SP if full else CALLER_SAVED
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


class SharedTable(Scheme):
    """Scheme 2: the kernel is mapped in every table at the same VA; no satp write on traps."""

    number = 2
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
    sd t0, {off('EPC')}(sp)
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
    ld t0, {off('EPC')}(sp)
    csrw sepc, t0
# Only caller-saved registers: the kernel's C++ code preserved s0-s11, and gp/tp are the
# process's own (the kernel never uses them; the context switch saves and restores them).""")
        self.restore_regs("sp", CALLER_SAVED)
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
    ld t0, {off('EPC')}(sp)
    csrw sepc, t0""")
        self.restore_regs("sp", ALL_BUT_SP)
        e("""\
    ld sp, 16(sp)
    sret
""")

    def switch_body(self) -> None:
        """After the outgoing context is saved: write satp (a2), flush if a3 says the core has
        no usable ASIDs (always, with ASID=n), load the incoming context (a1)."""
        self.e("    csrw satp, a2                  # the only satp write: a switch between processes")
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
# switch_context(a0 = from, a1 = to, a2 = to's satp, a3 = flush after the write). The kernel
# is at the same VA in both tables, so execution simply continues after the satp write.
    .section .text
    .globl switch_context
    .balign 4
switch_context:""")
        self.save_context("a0")
        self.switch_body()
        e("""
# enter_fresh(a0 = context, a1 = satp, a2 = flush): load a table and start a context on a
# fresh stack.
    .globl enter_fresh
enter_fresh:
    mv a3, a2
    mv a2, a1
    mv a1, a0""")
        self.switch_body()
        e("")


class RandomizedTable(SharedTable):
    """Scheme 3: like scheme 2, but the kernel window sits at a per-process slot.

    The trap path is scheme 2's: everything is PC-relative, so the same instructions run at any
    slot. The switch differs: after the satp write the old slot is gone, so the write and the
    load of the incoming context run on the switch page, mapped at one fixed VA everywhere.
    """

    number = 3
    title = "shared table, per-process randomized kernel VA"

    def switch_path(self) -> None:
        e = self.e
        e(f"""\
# ---------------------------------------------------------------- context switch
# switch_context(a0 = from, a1 = to (its VA in the incoming slot), a2 = to's satp,
# a3 = flush after the write).
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

# enter_fresh(a0 = context at the target slot, a1 = satp, a2 = flush)
    .globl enter_fresh
enter_fresh:
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


SCHEMES = {"1": SeparateTable, "2": SharedTable, "3": RandomizedTable}


def layout_header() -> str:
    lines = ["// Generated by kernel/scheme/trapgen.py: the trap-frame layout shared with trap.S.",
             "#pragma once",
             f"#define TF_SIZE {TRAPFRAME_SIZE}",
             f"#define CONTEXT_REGS {len(CONTEXT_REGS)}",
             f"#define TRAMPOLINE_VA 0x{TRAMPOLINE:x}ul",
             f"#define TRAPFRAME_VA 0x{TRAPFRAME:x}ul",
             f"#define TRAPGEN_SYS_COUNT {SYS_COUNT}"]
    lines += [f"#define TF_{name} {offset}" for name, offset in FIELDS]
    return "\n".join(lines) + "\n"


def main() -> int:
    config_path, out_dir = sys.argv[1], Path(sys.argv[2])
    cfg = read_config(config_path)
    scheme = SCHEMES[cfg.get("SCHEME", "2")](cfg)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in (("trap.S", scheme.generate()), ("trap_layout.h", layout_header())):
        path = out_dir / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
