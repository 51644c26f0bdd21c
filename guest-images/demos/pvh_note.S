/* The PVH entry note every PVH guest links in: XEN_ELFNOTE_PHYS32_ENTRY names _start as the
 * 32-bit entry point (paging off, EBX = hvm_start_info), for minivmm's and QEMU's loaders. */
    /* XEN_ELFNOTE_PHYS32_ENTRY (18): name "Xen", a 4-byte entry address. */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 4
    .long 18
    .asciz "Xen"
    .balign 4
    .long _start
