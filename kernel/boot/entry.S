# The first instructions. OpenSBI enters here in S-mode at the physical load address with the
# MMU off: a0 = hart id, a1 = device-tree address. All code is PC-relative, so C++ can run at
# this address long enough to build the boot page table.
#include "trap_layout.h"

    .section .text.boot, "ax"
    .globl _start
_start:
    la sp, boot_stack_top
    mv s0, a0
    mv s1, a1
    # Clear .bss (at its physical address, by PC-relative addressing).
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  call boot_page_table       # returns the satp value of the boot table
    csrw satp, a0
    sfence.vma zero, zero
    # Continue at the window VA: same code, moved by (LINK_WINDOW - RAM_BASE).
    li t0, 0xffffffc000000000 - 0x80000000
    la t1, 3f
    add t1, t1, t0
    jr t1
3:  add sp, sp, t0
    mv a0, s0
    mv a1, s1
    li s0, 0                   # end of the backtrace chain
    call kmain
4:  wfi
    j 4b

# A hart started by the boot hart through SBI HSM (proc/hart.cpp): MMU off, a0 = hart id,
# a1 = its StartBlock's physical address {stack top, kernel satp, Hart*} (kernel VAs).
    .globl secondary_start
    .balign 4
secondary_start:
    ld sp, 0(a1)
    ld t0, 8(a1)
    ld tp, 16(a1)                # this hart's Hart: the kernel's tp from here on
    li t2, 0xffffffc000000000 - 0x80000000
    la t1, 5f
    add t1, t1, t2               # 5f at the window VA
    csrw stvec, t1               # the fetch after the satp write may fault: it lands at 5f too
    csrw satp, t0
    sfence.vma zero, zero
    jr t1
    .balign 4
5:  li s0, 0
    call secondary_main
6:  wfi
    j 6b

    .section .bss
    .balign 16
boot_stack:
    .space 16384
    .globl boot_stack_top
boot_stack_top:
    .globl emergency_stack_top
emergency_stack:
    .space 8192
emergency_stack_top:
