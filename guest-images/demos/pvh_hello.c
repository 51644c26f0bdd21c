/* A small PVH guest: it prints what its loader handed it through hvm_start_info (the command
 * line, the memory map, the RSDP, the modules such as an initrd) and exits with the status given as "status=N" on its command
 * line. minivmm boots it with --kernel; so can QEMU (-M microvm -kernel pvh-hello.elf). */
#include "hw.h"
#include "start_info.h"


struct hvm_modlist_entry {
    uint64_t paddr, size, cmdline_paddr, reserved;
} __attribute__((packed));

struct hvm_memmap_entry {
    uint64_t addr, size;
    uint32_t type, reserved;
} __attribute__((packed));

static uint8_t parse_status(const char* cmdline) {
    /* Finds "status=" at the start of a word and reads the decimal number after it. */
    for (const char* p = cmdline; *p; ++p) {
        if ((p == cmdline || p[-1] == ' ') && p[0] == 's' && p[1] == 't' && p[2] == 'a' &&
            p[3] == 't' && p[4] == 'u' && p[5] == 's' && p[6] == '=') {
            unsigned v = 0;
            for (p += 7; *p >= '0' && *p <= '9'; ++p) v = v * 10 + (unsigned)(*p - '0');
            return (uint8_t)v;
        }
    }
    return 0;
}

/* "hang" on the command line: stop here for good with interrupts off, as a guest stuck in a
 * loop with interrupts disabled would; the test of minivmm's state report looks for this
 * function's name and "interrupts off" in what --timeout prints. */
__attribute__((noinline, noreturn)) void hang_with_interrupts_off(void) {
    for (;;) __asm__ volatile("cli; hlt");
}

static int has_word(const char* cmdline, const char* word) {
    for (const char* p = cmdline; *p; ++p) {
        if (p != cmdline && p[-1] != ' ') continue;
        const char* a = p;
        const char* b = word;
        while (*b && *a == *b) ++a, ++b;
        if (!*b && (*a == ' ' || *a == 0)) return 1;
    }
    return 0;
}

void pvh_main(const struct hvm_start_info* si) {
    puts_serial("pvh: start info magic 0x");
    put_hex(si->magic, 8);
    puts_serial(" version ");
    put_dec(si->version);
    puts_serial("\n");
    if (si->magic != 0x336ec578u) exit_vm(99);

    const char* cmdline = si->cmdline_paddr ? (const char*)(uintptr_t)si->cmdline_paddr : "";
    puts_serial("pvh: cmdline \"");
    puts_serial(cmdline);
    puts_serial("\"\n");

    puts_serial("pvh: memory map, ");
    put_dec(si->memmap_entries);
    puts_serial(" entries\n");
    const struct hvm_memmap_entry* map = (const void*)(uintptr_t)si->memmap_paddr;
    for (uint32_t i = 0; i < si->memmap_entries; ++i) {
        puts_serial("pvh:   0x");
        put_hex(map[i].addr, 9);
        puts_serial("-0x");
        put_hex(map[i].addr + map[i].size - 1, 9);
        puts_serial(" type ");
        put_dec(map[i].type);
        puts_serial("\n");
    }

    const char* rsdp = (const char*)(uintptr_t)si->rsdp_paddr;
    puts_serial("pvh: RSDP at 0x");
    put_hex(si->rsdp_paddr, 5);
    int ok = rsdp && rsdp[0] == 'R' && rsdp[1] == 'S' && rsdp[2] == 'D' && rsdp[3] == ' ' &&
             rsdp[4] == 'P' && rsdp[5] == 'T' && rsdp[6] == 'R' && rsdp[7] == ' ';
    puts_serial(ok ? " signature \"RSD PTR \"\n" : " BAD signature\n");

    /* Modules (the initrd): address, size and their first line, up to 32 bytes. */
    const struct hvm_modlist_entry* mods = (const void*)(uintptr_t)si->modlist_paddr;
    for (uint32_t i = 0; i < si->nr_modules && i < 4; ++i) {
        puts_serial("pvh: module ");
        put_dec(i);
        puts_serial(" at 0x");
        put_hex(mods[i].paddr, 9);
        puts_serial(" size ");
        put_dec(mods[i].size);
        puts_serial(" \"");
        const char* text = (const char*)(uintptr_t)mods[i].paddr;
        for (uint64_t j = 0; j < mods[i].size && j < 32 && text[j] >= ' ' && text[j] <= '~'; ++j) {
            char c[2] = {text[j], 0};
            puts_serial(c);
        }
        puts_serial("\"\n");
    }

    if (has_word(cmdline, "hang")) {
        puts_serial("pvh: hanging with interrupts off\n");
        hang_with_interrupts_off();
    }
    uint8_t status = parse_status(cmdline);
    puts_serial("pvh: exiting with status ");
    put_dec(status);
    puts_serial("\n");
    exit_vm(status);
}
