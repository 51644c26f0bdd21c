/* The live paging demo: the paging demo's mapping (paging_map.h), then it keeps running at
 * CPL 3 with the marker in place, for `minivmm ctl SOCKET translate 0x7f12345679a0` to explain
 * from outside. It reads the marker back between lines ("round N", about every 2^28 loop steps,
 * a fraction of a second at CPL 3) and exits with 1 if it ever changes; stop it with ctl stop,
 * SIGTERM or --timeout. */
#include "paging_map.h"

#define ROUND_STEPS (1u << 28)

void ring0_main(void) { map_marker_page("paging-live"); }

void ring3_main(void) {
    write_marker("paging-live");
    volatile char* marker = (volatile char*)MARKER_GVA;
    for (uint64_t round = 1;; ++round) {
        for (uint32_t i = 0; i < ROUND_STEPS; ++i) __asm__ volatile("" ::: "memory");
        for (int i = 0; i < 16; ++i)
            if (marker[i] != MARKER[i]) exit_vm(1);
        puts_serial("paging-live demo: round ");
        put_dec(round);
        puts_serial(", the marker intact\n");
    }
}
