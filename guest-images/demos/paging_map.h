/* The paging demos' mapping: one virtual page, GVA 0x7f1234567000, mapped to an unusual
 * physical page, GPA 0xabc000, through a 4-level branch of their own hung into the PML4 of
 * long_mode.S (Intel SDM Vol. 3A §4.5, 4-level paging), and the marker written through it. */
#include "hw.h"

#define MARKER_GVA 0x7f12345679a0ull /* PML4[254] PDPT[72] PD[418] PT[359], offset 0x9a0 */
#define MARKER_PAGE 0xabc000ull      /* the physical page it lands on */
#define PTE_PWU 0x7ull               /* present | writable | user */

static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));
static uint64_t pt[512] __attribute__((aligned(4096)));
static const char MARKER[16] = "hello from a GVA";   /* 16 bytes, no NUL */

static unsigned index_at(uint64_t gva, unsigned level) { return (gva >> (12 + 9 * (level - 1))) & 0x1ff; }

/* At CPL 0 (the first 4 GiB are identity-mapped, so a table's physical address is its
 * address here). `demo` names the demo in the line printed. */
static void map_marker_page(const char* demo) {
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    uint64_t* pml4 = (uint64_t*)(cr3 & ~0xfffull);
    pml4[index_at(MARKER_GVA, 4)] = (uint64_t)pdpt | PTE_PWU;
    pdpt[index_at(MARKER_GVA, 3)] = (uint64_t)pd | PTE_PWU;
    pd[index_at(MARKER_GVA, 2)] = (uint64_t)pt | PTE_PWU;
    pt[index_at(MARKER_GVA, 1)] = MARKER_PAGE | PTE_PWU;
    __asm__ volatile("mov %0, %%cr3" ::"r"(cr3) : "memory");   /* flush the TLB */
    puts_serial(demo);
    puts_serial(" demo: mapped GVA 0x");
    put_hex(MARKER_GVA & ~0xfffull, 12);
    puts_serial(" -> GPA 0x");
    put_hex(MARKER_PAGE, 6);
    puts_serial(" (PML4 at 0x");
    put_hex(cr3, 6);
    puts_serial(")\n");
}

/* At CPL 3: the marker through the new mapping. */
static void write_marker(const char* demo) {
    volatile char* marker = (volatile char*)MARKER_GVA;
    for (int i = 0; i < 16; ++i) marker[i] = MARKER[i];
    puts_serial(demo);
    puts_serial(" demo: wrote \"hello from a GVA\" at GVA 0x");
    put_hex(MARKER_GVA, 12);
    puts_serial("\n");
}
