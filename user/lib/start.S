# The entry point of every user program.
#
# The kernel enters here with a0 = argc, a1 = argv (the strings and the pointer array sit at
# the top of the user stack) and sp 16-byte aligned. Nothing else is set up: bss is already
# zero because the kernel zero-fills p_memsz beyond p_filesz.

        .section .text.entry, "ax"
        .globl _start
_start:
        # A zero frame pointer and return address end every backtrace here.
        li      fp, 0
        li      ra, 0

        # Keep argc/argv in callee-saved registers across the constructors.
        mv      s1, a0
        mv      s2, a1

        # Run static constructors (.init_array), should a program have any.
        la      s3, __init_array_start
        la      s4, __init_array_end
1:      bgeu    s3, s4, 2f
        ld      t0, 0(s3)
        jalr    t0
        addi    s3, s3, 8
        j       1b

2:      mv      a0, s1
        mv      a1, s2
        call    main
        # main's return value is the exit status; __user_exit never returns.
        call    __user_exit
3:      j       3b

# The first instruction of every thread the library creates (thread_create in syscall.cpp).
# a0 = sp = the {fn, arg} block at the top of the thread's stack (fn's frames go below it).
        .section .text
        .globl __thread_start
__thread_start:
        li      fp, 0
        li      ra, 0
        ld      t0, 0(a0)
        ld      a0, 8(a0)
        jalr    t0
        # fn's return value (a0) is the thread's exit status; __thread_exit never returns.
        call    __thread_exit
1:      j       1b
