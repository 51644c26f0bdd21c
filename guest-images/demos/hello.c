/* The default demo: every line below makes the guest trap into minivmm, which emulates it.
 * Run it with --trace-exits to see each exit, or --stats for the totals. */
#include "hw.h"

void demo_main(void) {
    /* 1. Port I/O: each character is an OUT to the 16550 UART at 0x3f8 (plus the LSR poll). */
    puts_serial("Hello from the minivmm demo guest!\n");
    puts_serial("port I/O: this line reached you through OUT instructions to the UART at 0x3f8\n");

    /* 2. CPUID: KVM answers it from the table minivmm gave it. */
    uint32_t a, b, c, d;
    cpuid(0, &a, &b, &c, &d);
    char vendor[13];
    for (int i = 0; i < 4; ++i) {
        vendor[i] = (char)(b >> (8 * i));
        vendor[4 + i] = (char)(d >> (8 * i));
        vendor[8 + i] = (char)(c >> (8 * i));
    }
    vendor[12] = 0;
    puts_serial("CPUID: vendor \"");
    puts_serial(vendor);
    puts_serial("\", max leaf 0x");
    put_hex(a, 2);
    puts_serial("\n");

    /* 3. MMIO: no RAM at this address, so each load and store exits to the scratch device. */
    uint32_t id = mmio_read32(SCRATCH_MMIO);
    mmio_write32(SCRATCH_MMIO + 4, 0xc0ffee42u);
    uint32_t back = mmio_read32(SCRATCH_MMIO + 4);
    puts_serial("MMIO: scratch device id 0x");
    put_hex(id, 8);
    puts_serial(back == 0xc0ffee42u ? ", wrote 0xc0ffee42 and read it back\n"
                                    : ", read-back MISMATCH\n");

    /* 4. HLT: with no interrupt controller in the kernel, HLT exits to minivmm, which resumes. */
    __asm__ volatile("hlt");
    puts_serial("HLT: the vCPU halted, minivmm saw the exit and resumed it\n");

    /* 5. The exit-status port: this byte becomes minivmm's exit status. */
    puts_serial("Bye: writing 0 to the exit-status port 0x510\n");
    exit_vm(back == 0xc0ffee42u && id == 0x4d4d564du ? 0 : 1);
}
