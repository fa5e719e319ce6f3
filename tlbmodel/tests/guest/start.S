/* Entry (from OpenSBI, S mode, MMU off, a0 = hart id) and the trap vector of the test guest. */
	.option norvc
	.section .text.start, "ax"
	.globl _start
_start:
	la	sp, boot_stack_top
	/* Zero .bss with stores (the TLB model's shadow sees every store). */
	la	t0, __bss_start
	la	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:	la	t0, trap_entry
	csrw	stvec, t0
	call	guest_main
	/* guest_main does not return; if it does, fail. */
	li	a0, 99
	call	guest_exit

/* A second hart (PAT_HARTS), started through SBI HSM: S mode, MMU off, a0 = hart id. */
	.globl secondary_start
secondary_start:
	la	sp, secondary_stack_top
	la	t0, trap_entry
	csrw	stvec, t0
	call	secondary_main
1:	wfi
	j	1b

/* All traps land here (from U: the test programs' ecalls and deliberate faults). One trap
 * frame, no nesting: the handler never traps itself. */
	.balign 4
	.globl trap_entry
trap_entry:
	csrw	sscratch, sp
	la	sp, trap_frame
	sd	x1, 8(sp)
	sd	x3, 24(sp)
	sd	x4, 32(sp)
	sd	x5, 40(sp)
	sd	x6, 48(sp)
	sd	x7, 56(sp)
	sd	x8, 64(sp)
	sd	x9, 72(sp)
	sd	x10, 80(sp)
	sd	x11, 88(sp)
	sd	x12, 96(sp)
	sd	x13, 104(sp)
	sd	x14, 112(sp)
	sd	x15, 120(sp)
	sd	x16, 128(sp)
	sd	x17, 136(sp)
	sd	x18, 144(sp)
	sd	x19, 152(sp)
	sd	x20, 160(sp)
	sd	x21, 168(sp)
	sd	x22, 176(sp)
	sd	x23, 184(sp)
	sd	x24, 192(sp)
	sd	x25, 200(sp)
	sd	x26, 208(sp)
	sd	x27, 216(sp)
	sd	x28, 224(sp)
	sd	x29, 232(sp)
	sd	x30, 240(sp)
	sd	x31, 248(sp)
	csrr	t0, sscratch
	sd	t0, 16(sp)
	mv	a0, sp
	la	sp, trap_stack_top
	call	trap_handler
	la	sp, trap_frame
	ld	x1, 8(sp)
	ld	x3, 24(sp)
	ld	x4, 32(sp)
	ld	x5, 40(sp)
	ld	x6, 48(sp)
	ld	x7, 56(sp)
	ld	x8, 64(sp)
	ld	x9, 72(sp)
	ld	x10, 80(sp)
	ld	x11, 88(sp)
	ld	x12, 96(sp)
	ld	x13, 104(sp)
	ld	x14, 112(sp)
	ld	x15, 120(sp)
	ld	x16, 128(sp)
	ld	x17, 136(sp)
	ld	x18, 144(sp)
	ld	x19, 152(sp)
	ld	x20, 160(sp)
	ld	x21, 168(sp)
	ld	x22, 176(sp)
	ld	x23, 184(sp)
	ld	x24, 192(sp)
	ld	x25, 200(sp)
	ld	x26, 208(sp)
	ld	x27, 216(sp)
	ld	x28, 224(sp)
	ld	x29, 232(sp)
	ld	x30, 240(sp)
	ld	x31, 248(sp)
	ld	x2, 16(sp)
	sret

/* enter_user(entry_va, user_sp, arg): sret to U mode at entry_va with a0 = arg. */
	.globl enter_user
enter_user:
	csrw	sepc, a0
	li	t0, 0x100		/* sstatus.SPP */
	csrc	sstatus, t0
	li	t0, 0x20		/* sstatus.SPIE */
	csrs	sstatus, t0
	mv	sp, a1
	mv	a0, a2
	sret

/* Code pages for the instruction-TLB pattern: STUB_PAGES pages, each starting with `ret`. */
	.section .stubs, "ax"
	.balign 4096
	.globl stub_pages
stub_pages:
	.rept 16
	ret
	.balign 4096
	.endr
	.globl stub_pages_end
stub_pages_end:

	.section .bss.stacks, "aw", @nobits
	.balign 16
	.space 16384
	.globl boot_stack_top
boot_stack_top:
	.space 8192
	.globl trap_stack_top
trap_stack_top:
	.space 8192
	.globl secondary_stack_top
secondary_stack_top:
	.balign 16
	.globl trap_frame
trap_frame:
	.space 256
