/* Entry of the 32-bit C demos: minivmm enters at 1 MiB in 32-bit protected mode, flat
 * segments, paging off (the PVH entry state). Set a stack and call demo_main(). */
    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    mov $0x80000, %esp
    call demo_main
1:  hlt
    jmp 1b
