/* The start-up benchmark's guest (tools/bench/footprint.cpp), one PVH ELF for minivmm, QEMU
 * microvm and the raw-KVM loop. Its first instruction reads the TSC (first_tsc_start.S). With
 * the word "wait" on its command line it prints "FIRST-TSC 0x<16 hex digits>" on COM1 and spins
 * until killed, for the host to map that guest TSC to its own (KVM's tsc-offset in debugfs);
 * otherwise it exits at once with status 0 through port exit_port=N (default minivmm's 0x510;
 * QEMU: isa-debug-exit at 0xf4). */
#include "hw.h"
#include "cmdline_word.h"
#include "start_info.h"

extern uint64_t first_tsc;

static uint16_t exit_port(const char* cmdline) {
    const char* p = cmdline_word(cmdline, "exit_port=0x");
    if (!p) return EXIT_PORT;
    uint16_t v = 0;
    for (;; ++p) {
        if (*p >= '0' && *p <= '9') v = (uint16_t)(v * 16 + (*p - '0'));
        else if (*p >= 'a' && *p <= 'f') v = (uint16_t)(v * 16 + (*p - 'a' + 10));
        else return v;
    }
}

void first_main(const struct hvm_start_info* si) {
    const char* cmdline = "";
    if (si && si->magic == HVM_START_MAGIC && si->cmdline_paddr)
        cmdline = (const char*)(uintptr_t)si->cmdline_paddr;
    const char* w = cmdline_word(cmdline, "wait");
    if (w && (*w == 0 || *w == ' ')) {
        puts_serial("FIRST-TSC 0x");
        put_hex(first_tsc, 16);
        puts_serial("\n");
        for (;;) __asm__ volatile("pause");
    }
    outb(exit_port(cmdline), 0);
    for (;;) __asm__ volatile("hlt");
}
