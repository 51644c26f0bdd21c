/* The long-mode demo's C part. ring0_main runs in 64-bit mode at CPL 0; ring3_main runs at
 * CPL 3. On a PVM host (README, "On the development machines") CPL 0 code is emulated instruction by
 * instruction, while CPL 3 code runs natively: the loop below shows the difference. */
#include "hw.h"

static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline unsigned current_cpl(void) {
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    return cs & 3u;
}

void ring0_main(void) {
    puts_serial("long-mode demo: 64-bit mode with our own page tables, CPL ");
    put_dec(current_cpl());
    puts_serial("\n");
}

#define ITERATIONS 50000000ull

void ring3_main(void) {
    puts_serial("long-mode demo: now in user mode, CPL ");
    put_dec(current_cpl());
    puts_serial("\n");

    uint64_t x = 1, t0 = rdtsc();
    for (uint64_t i = 0; i < ITERATIONS; ++i) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        __asm__ volatile("" : "+r"(x)); /* keep the loop: no closed form */
    }
    uint64_t ticks = rdtsc() - t0;
    puts_serial("long-mode demo: ");
    put_dec(ITERATIONS);
    puts_serial(" LCG steps at CPL 3, result 0x");
    put_hex(x, 16);
    puts_serial("\nlong-mode demo: about ");
    put_dec(ticks / ITERATIONS);
    puts_serial(" TSC ticks per step (native speed: no exits)\n");
    exit_vm(current_cpl() == 3 ? 0 : 1);
}
