/* A guest for snapshot and restore: it picks a nonce (the TSC at start) that lives only in its
 * RAM, then prints "count N nonce X" for N = 1..COUNT_END about every 20 ms of exits, and exits
 * with status 0. A restored snapshot goes on with the same nonce and the next N. */
#include "hw.h"

#define COUNT_END 300
#define DELAY_EXITS 2500 /* port-0x80 writes between lines: each an exit to minivmm */

static volatile uint64_t nonce; /* in RAM, never recomputed */

static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

void demo_main(void) {
    nonce = rdtsc();
    puts_serial("count demo: nonce ");
    put_hex(nonce, 16);
    putc_serial('\n');
    for (uint32_t n = 1; n <= COUNT_END; ++n) {
        puts_serial("count ");
        put_dec(n);
        puts_serial(" nonce ");
        put_hex(nonce, 16);
        putc_serial('\n');
        for (uint32_t i = 0; i < DELAY_EXITS; ++i) outb(0x80, (uint8_t)i);
    }
    puts_serial("count done nonce ");
    put_hex(nonce, 16);
    putc_serial('\n');
    exit_vm(0);
}
