#!/usr/bin/python3
"""The part of the trap-path generator that every scheme shares.

Each scheme folder has its own generator (kernel/scheme/<scheme>/trapgen.py) with one class
that subclasses `Scheme` below and calls `main()`:

    kernel/scheme/<scheme>/trapgen.py DIR/.config DIR/generated
        ->   trap.S, trap_layout.h and trap_checks.hpp

What lives here is what all schemes execute: the register save/restore, the system-call
dispatch, kernelvec, the fresh-entry stub, the context save/load, and the trap-frame fields
that every scheme uses. A scheme adds its own trap-frame fields (`extra_fields`), its trap
entry/exit (`trap_path`) and its context switch (`switch_path`). Read the output in
DIR/generated/trap.S: it is commented for people, not only for the assembler.

Every constant and offset the generated code relies on is also written to trap_checks.hpp as a
`static_assert` against the C++ definition (kernel/trap/trapgen_checks.cpp compiles it), so the
two can never disagree silently.
"""
from __future__ import annotations

import sys
from pathlib import Path

# ---------------------------------------------------------------- trap-frame layout
# x1..x31 at 8*i (x[0] unused); then the fields every scheme uses, then the scheme's own
# (`Scheme.extra_fields`, the C++ side in kernel/scheme/<scheme>/state.hpp). Each entry is
# (NAME in the assembly, member designator in C++'s TrapFrame).
X_REGS_BYTES = 32 * 8
COMMON_FIELDS = [
    ("EPC", "epc"),                  # user pc at the trap
    ("SATP_WRITES", "satp_writes"),  # satp writes done by the trap path (counter)
    ("SFENCE_ALL", "sfence_all"),    # sfence.vma zero,zero done by the trap path (counter)
    ("SYSCALLS", "syscalls"),        # system calls dispatched (counter)
    ("KERNEL_TP", "kernel_tp"),      # the kernel's tp: this process's hart's Hart (proc/hart.hpp)
]
# Context saved by a context switch: ra, sp, the callee-saved s0..s11, and gp, which belongs to
# the user (the kernel never uses it) and would otherwise pass from the process switched out to
# the one switched in, since the fast trap exits do not restore it. Not tp: in the kernel it
# is the hart's (proc/hart.hpp); every trap entry saves the user's and every exit restores it.
CONTEXT_REGS = ["ra", "sp", "gp"] + [f"s{i}" for i in range(12)]
CONTEXT_MEMBERS = ["ra", "sp", "gp"] + [f"s[{i}]" for i in range(12)]
TP = 4  # x4

ABI_NAMES = ["zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1"] + \
    [f"a{i}" for i in range(8)] + [f"s{i}" for i in range(2, 12)] + ["t3", "t4", "t5", "t6"]
CALLER_SAVED = [1] + [5, 6, 7] + list(range(10, 18)) + [28, 29, 30, 31]  # ra, t0-2, a0-7, t3-6
ALL_BUT_SP = [1] + list(range(3, 32))

# Restated from C++ (checked there by trap_checks.hpp): include/uapi/layout.h and
# kernel/mm/layout.hpp (the fixed pages), include/uapi/syscall.h (SYS_COUNT),
# kernel/arch/riscv.hpp (the ecall cause), kernel/trap/trap.cpp (kernelvec's frame).
TRAMPOLINE = 0xFFFFFFFFFFFFF000
TRAPFRAME = TRAMPOLINE - 0x1000
SYS_COUNT = 29
CAUSE_USER_ECALL = 8
KERNELVEC_FRAME = 272              # x1..x31 at 8*i, sepc at 256, rounded to 16
KERNELVEC_SEPC = 256


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


class Scheme:
    """What all schemes share: register save/restore, kernelvec, the fresh-entry stub."""

    number = 0
    title = ""
    folder = ""  # kernel/scheme/<folder>/ holds the scheme
    # This scheme's own trap-frame fields, after COMMON_FIELDS: (NAME, C++ member of TrapFrame).
    extra_fields: list[tuple[str, str]] = []

    def __init__(self, cfg: dict[str, str]) -> None:
        self.asid = cfg.get("ASID") == "y"
        self.kaslr_boot = cfg.get("KASLR_BOOT") == "y"
        self.stats = cfg.get("STATS") == "y"
        self.e = Emitter()

    # -- the trap-frame layout
    def fields(self) -> list[tuple[str, int, str]]:
        """(NAME, offset, C++ member designator) of every trap-frame field after the registers."""
        names = COMMON_FIELDS + self.extra_fields
        return [(name, X_REGS_BYTES + 8 * i, member) for i, (name, member) in enumerate(names)]

    def frame_size(self) -> int:
        return (X_REGS_BYTES + 8 * len(COMMON_FIELDS + self.extra_fields) + 15) // 16 * 16

    def off(self, name: str) -> int:
        return {n: o for n, o, _ in self.fields()}[name]

    # -- helpers
    def count(self, base: str, field: str, tmp: str = "t2") -> None:
        if self.stats:
            self.e(f"    ld {tmp}, {self.off(field)}({base})      # count it\n"
                   f"    addi {tmp}, {tmp}, 1\n"
                   f"    sd {tmp}, {self.off(field)}({base})")

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
    li t1, {CAUSE_USER_ECALL}                       # environment call from U-mode
    bne t0, t1, 1f
    ld t0, {self.off('EPC')}({tf})
    addi t0, t0, 4                 # return past the ecall
    sd t0, {self.off('EPC')}({tf})""")
        if self.stats:
            self.count(tf, "SYSCALLS", "t0")
        if reload_a0:
            e(f"    ld a0, 80({tf})                # the user's a0 (the entry used the register)")
        e(f"""\
    li t1, {SYS_COUNT}
    bgeu a7, t1, 2f                # unknown number: entry 0 (sys_nosys), out of line
    slli t1, a7, 2
3:  lla t0, syscall_table
    add t1, t0, t1
    lw t1, 0(t1)
    add t1, t0, t1                 # sys_<name>: the table holds offsets, not addresses
    jalr t1
    sd a0, 80({tf})                # the result
    j 4f
2:  li t1, 0
    j 3b
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
# Generated by kernel/scheme/{self.folder}/trapgen.py for scheme {self.number}: {self.title}
# ASIDs {'on' if self.asid else 'off'}, counters {'on' if self.stats else 'off'}. Do not edit: change the generator.
#include "trap_layout.h"
""")

    def kernelvec(self) -> None:
        self.e(f"""\
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
    addi sp, sp, -{KERNELVEC_FRAME}""")
        self.save_user_regs("sp", skip=0)
        self.e(f"""\
    csrr t0, sscratch
    sd t0, 16(sp)                  # the interrupted sp
    csrr t0, sepc
    sd t0, {KERNELVEC_SEPC}(sp)
    mv a0, sp
    call kernel_trap               # returns only for a fixed-up probe fault (sepc updated)
    ld t0, {KERNELVEC_SEPC}(sp)
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

    def trap_path(self) -> None:
        raise NotImplementedError

    def switch_path(self) -> None:
        raise NotImplementedError

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

    # -- the C++ side
    def layout_header(self) -> str:
        lines = [f"// Generated by kernel/scheme/{self.folder}/trapgen.py: the trap-frame layout shared with trap.S.",
                 "#pragma once",
                 f"#define TF_SIZE {self.frame_size()}",
                 f"#define CONTEXT_REGS {len(CONTEXT_REGS)}",
                 f"#define TRAMPOLINE_VA 0x{TRAMPOLINE:x}ul",
                 f"#define TRAPFRAME_VA 0x{TRAPFRAME:x}ul",
                 f"#define TRAPGEN_SYS_COUNT {SYS_COUNT}"]
        lines += [f"#define TF_{name} {offset}" for name, offset, _ in self.fields()]
        return "\n".join(lines) + "\n"

    def checks_header(self) -> str:
        """static_asserts for every constant and offset the generated assembly uses."""
        checks: list[tuple[str, str]] = [
            (f"sizeof(TrapFrame) == {self.frame_size()}", "TrapFrame's size"),
            ("__builtin_offsetof(TrapFrame, x) == 0 && sizeof(TrapFrame::x) == "
             f"{X_REGS_BYTES}", "TrapFrame::x holds x0..x31 at 8*i"),
        ]
        for name, offset, member in self.fields():
            checks.append((f"__builtin_offsetof(TrapFrame, {member}) == {offset}",
                           f"TrapFrame::{member} (TF_{name})"))
        checks.append((f"sizeof(Context) == {8 * len(CONTEXT_REGS)}", "Context's size"))
        for i, member in enumerate(CONTEXT_MEMBERS):
            checks.append((f"__builtin_offsetof(Context, {member}) == {8 * i}", f"Context::{member}"))
        checks += [
            (f"layout::TRAMPOLINE == 0x{TRAMPOLINE:x}ul", "TRAMPOLINE"),
            (f"layout::TRAPFRAME == 0x{TRAPFRAME:x}ul", "TRAPFRAME"),
            (f"uapi::SYS_COUNT == {SYS_COUNT}", "SYS_COUNT"),
            (f"static_cast<u64>(riscv::Exception::UserEcall) == {CAUSE_USER_ECALL}", "the ecall cause"),
            (f"trapgen_abi::KERNELVEC_SEPC_INDEX * 8 == {KERNELVEC_SEPC} && "
             f"{KERNELVEC_SEPC} + 8 <= {KERNELVEC_FRAME}", "kernelvec's frame"),
        ]
        lines = [f"// Generated by kernel/scheme/{self.folder}/trapgen.py: what trap.S assumes about the C++ side.",
                 "// Compiled by kernel/trap/trapgen_checks.cpp; a failure means the generator and the",
                 "// C++ definition disagree: change one to match the other.",
                 "#pragma once"]
        lines += [f'static_assert({cond}, "trapgen: {what} differs from the generator");'
                  for cond, what in checks]
        return "\n".join(lines) + "\n"


def main(scheme_class: type[Scheme]) -> int:
    config_path, out_dir = sys.argv[1], Path(sys.argv[2])
    scheme = scheme_class(read_config(config_path))
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = (("trap.S", scheme.generate()), ("trap_layout.h", scheme.layout_header()),
               ("trap_checks.hpp", scheme.checks_header()))
    for name, text in outputs:
        path = out_dir / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    return 0
