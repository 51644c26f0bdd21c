/* The long-mode demo's entry: from the 32-bit entry state, build identity page tables for the
 * first 4 GiB (2 MiB pages, user-accessible), enable PAE, EFER.LME and paging, load a GDT with
 * kernel and user segments, enter 64-bit mode, then IRETQ to ring 3 (CPL 3) with IOPL 3 so
 * user code may do port I/O. EBX at entry (PVH: the hvm_start_info address) is kept in
 * boot_ebx. Intel SDM Vol. 3A §9.8.5 (initializing IA-32e mode). */
    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    mov $0x80000, %esp
    mov %ebx, boot_ebx            /* PVH: the hvm_start_info address (virtio guests read it) */

    /* PML4[0] -> PDPT; PDPT[0..3] -> PD0..PD3; each PD maps 512 x 2 MiB pages. */
    mov $pml4, %edi
    mov $pdpt, %eax
    or $0x7, %eax                 /* present | writable | user */
    mov %eax, (%edi)
    mov $pdpt, %edi
    mov $pd, %eax
    or $0x7, %eax
    mov $4, %ecx
1:  mov %eax, (%edi)
    add $0x1000, %eax
    add $8, %edi
    loop 1b
    mov $pd, %edi
    mov $0x87, %eax               /* present | writable | user | 2 MiB page */
    xor %edx, %edx                /* high half of the physical address */
    mov $2048, %ecx
2:  mov %eax, (%edi)
    mov %edx, 4(%edi)
    add $0x200000, %eax
    adc $0, %edx
    add $8, %edi
    loop 2b

    mov %cr4, %eax
    or $0x20, %eax                /* CR4.PAE */
    mov %eax, %cr4
    mov $pml4, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx         /* IA32_EFER */
    rdmsr
    or $0x100, %eax               /* EFER.LME */
    wrmsr
    mov %cr0, %eax
    or $0x80000000, %eax          /* CR0.PG: long mode becomes active */
    mov %eax, %cr0
    lgdt gdt_desc
    ljmp $0x08, $long_entry

    .code64
long_entry:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $0x80000, %rsp
    call ring0_main

    /* IRETQ frame: SS, RSP, RFLAGS, CS, RIP. RPL 3 selectors, RFLAGS.IOPL = 3. */
    pushq $(0x18 | 3)
    pushq $0x70000
    pushq $0x3002
    pushq $(0x20 | 3)
    pushq $ring3_main
    iretq

    .section .rodata
    .balign 8
gdt:
    .quad 0                       /* 0x00 null */
    .quad 0x00af9a000000ffff      /* 0x08 kernel code, 64-bit */
    .quad 0x00cf92000000ffff      /* 0x10 kernel data */
    .quad 0x00cff2000000ffff      /* 0x18 user data, DPL 3 */
    .quad 0x00affa000000ffff      /* 0x20 user code, 64-bit, DPL 3 */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .quad gdt

    .section .bss
    .globl boot_ebx
    .balign 4
boot_ebx: .skip 4
    .balign 4096
pml4: .skip 4096
pdpt: .skip 4096
pd:   .skip 4096 * 4
