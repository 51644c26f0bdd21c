/* The paging demo: maps one virtual page to an unusual physical page with page tables of its
 * own (paging_map.h), writes a marker there from user mode (CPL 3), and asks minivmm to explain
 * three addresses through the explain port: the marker's GVA (4 levels, a 4 KiB page), the
 * same byte through the identity map of long_mode.S (3 levels, a 2 MiB page) and the next,
 * unmapped page (the walk stops). */
#include "paging_map.h"

#define EXPLAIN_PORT 0x518           /* minivmm: GVA low dword at +0, high dword at +4 */

static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }

static void explain(uint64_t gva) {
    outl(EXPLAIN_PORT, (uint32_t)gva);
    outl(EXPLAIN_PORT + 4, (uint32_t)(gva >> 32));   /* this write triggers the explanation */
}

void ring0_main(void) { map_marker_page("paging"); }

/* At CPL 3: the marker, then the three questions. */
void ring3_main(void) {
    write_marker("paging");
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
