/* Entry of the start-up benchmark's guest (first_tsc.c): its very first instruction reads the
 * TSC, kept in first_tsc; then the usual PVH entry (32-bit, paging off, EBX = hvm_start_info). */
    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    rdtsc
    mov %eax, first_tsc
    mov %edx, first_tsc + 4
    mov $0x80000, %esp
    push %ebx
    call first_main
1:  hlt
    jmp 1b

    .section .bss
    .globl first_tsc
    .balign 8
first_tsc: .skip 8
