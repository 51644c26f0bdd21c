/* The paging demo: builds its own 4-level page-table branch that maps one virtual page,
 * GVA 0x7f1234567000, to an unusual physical page, GPA 0xabc000, writes a marker there from
 * user mode (CPL 3), and asks minivmm to explain three addresses through the explain port:
 * the marker's GVA (4 levels, a 4 KiB page), the same byte through the identity map of
 * long_mode.S (3 levels, a 2 MiB page) and the next, unmapped page (the walk stops). Intel SDM
 * Vol. 3A §4.5 (4-level paging). */
#include "hw.h"

#define EXPLAIN_PORT 0x518           /* minivmm: GVA low dword at +0, high dword at +4 */
#define MARKER_GVA 0x7f12345679a0ull /* PML4[254] PDPT[72] PD[418] PT[359], offset 0x9a0 */
#define MARKER_PAGE 0xabc000ull      /* the physical page it lands on */
#define PTE_PWU 0x7ull               /* present | writable | user */

static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));
static uint64_t pt[512] __attribute__((aligned(4096)));
static const char MARKER[16] = "hello from a GVA";   /* 16 bytes, no NUL */

static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }

static void explain(uint64_t gva) {
    outl(EXPLAIN_PORT, (uint32_t)gva);
    outl(EXPLAIN_PORT + 4, (uint32_t)(gva >> 32));   /* this write triggers the explanation */
}

static unsigned index_at(uint64_t gva, unsigned level) { return (gva >> (12 + 9 * (level - 1))) & 0x1ff; }

/* At CPL 0: hang the new branch into the PML4 of long_mode.S (CR3; the first 4 GiB are
 * identity-mapped, so a table's physical address is its address here). */
void ring0_main(void) {
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    uint64_t* pml4 = (uint64_t*)(cr3 & ~0xfffull);
    pml4[index_at(MARKER_GVA, 4)] = (uint64_t)pdpt | PTE_PWU;
    pdpt[index_at(MARKER_GVA, 3)] = (uint64_t)pd | PTE_PWU;
    pd[index_at(MARKER_GVA, 2)] = (uint64_t)pt | PTE_PWU;
    pt[index_at(MARKER_GVA, 1)] = MARKER_PAGE | PTE_PWU;
    __asm__ volatile("mov %0, %%cr3" ::"r"(cr3) : "memory");   /* flush the TLB */
    puts_serial("paging demo: mapped GVA 0x");
    put_hex(MARKER_GVA & ~0xfffull, 12);
    puts_serial(" -> GPA 0x");
    put_hex(MARKER_PAGE, 6);
    puts_serial(" (PML4 at 0x");
    put_hex(cr3, 6);
    puts_serial(")\n");
}

/* At CPL 3: the marker through the new mapping, then the three questions. */
void ring3_main(void) {
    volatile char* marker = (volatile char*)MARKER_GVA;
    for (int i = 0; i < 16; ++i) marker[i] = MARKER[i];
    puts_serial("paging demo: wrote \"hello from a GVA\" at GVA 0x");
    put_hex(MARKER_GVA, 12);
    puts_serial("\n");
    explain(MARKER_GVA);
    explain(MARKER_PAGE + (MARKER_GVA & 0xfff));   /* the same byte through the identity map */
    explain((MARKER_GVA & ~0xfffull) + 0x1000);    /* the next page: not mapped */
    /* The identity map sees what the new mapping wrote: both reach GPA 0xabc9a0. */
    volatile char* alias = (volatile char*)(MARKER_PAGE + (MARKER_GVA & 0xfff));
    for (int i = 0; i < 16; ++i)
        if (alias[i] != MARKER[i]) exit_vm(1);
    puts_serial("paging demo: the identity-mapped alias holds the same bytes\n");
    exit_vm(0);
}
