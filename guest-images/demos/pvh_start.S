/* Entry of the PVH test guest (the PVH boot ABI): 32-bit protected mode, paging off, EBX holds
 * the guest-physical address of the hvm_start_info. Pass it to pvh_main(). */
    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    mov $0x80000, %esp
    push %ebx
    call pvh_main
1:  hlt
    jmp 1b
