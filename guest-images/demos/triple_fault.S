/* Triple fault: load an empty IDT and divide by zero (#DE). The CPU cannot deliver it, nor the
 * double fault that follows, and shuts down; minivmm reports KVM_EXIT_SHUTDOWN. */
    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    mov $0x3f8, %dx
    mov $msg, %esi
1:  lodsb
    test %al, %al
    jz 2f
    out %al, %dx
    jmp 1b
2:  lidt empty_idt
    xor %ecx, %ecx
    div %ecx                      /* #DE: divide by zero */
    hlt
    .section .rodata
msg: .asciz "triple-fault demo: loading an empty IDT and dividing by zero\n"
    .balign 8
empty_idt: .word 0
    .long 0
