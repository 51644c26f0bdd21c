/* A guest for the snapshot benchmark (tools/bench/snapshot_bench.cpp): a PVH ELF, CPL 3 after
 * long_mode.S, that boots the same under minivmm and under QEMU microvm.
 *
 * 1. It writes touch=N MiB (default 64) of RAM from 16 MiB up, every 8-byte word a value of its
 *    address and a seed (the TSC at boot) kept only in RAM, and prints SNAP-READY.
 * 2. It polls COM1's line status for a received byte, reading the TSC at each poll: the VM is
 *    paused and snapshotted in this loop, and the benchmark gives only the restored VM a byte.
 *    (The TSC cannot tell the restore apart: across QEMU's stop and migration it sometimes goes
 *    on without a step.) The TSC at the poll that sees the byte is "first": the guest running
 *    after its restore, as soon as the VMM has the byte in its UART.
 * 3. It prints "R", then for each of 5 more bytes the benchmark sends it reads the TSC as it
 *    sees the byte and prints "E": the benchmark, which knows when it sent each byte, gets the
 *    offset between this TSC and its own from the closest pair.
 * 4. It reads the touched RAM back and checks it (after a MAP_PRIVATE restore each page is
 *    read from the memory file at its first touch), then prints
 *      SNAP-RESUMED first=F last=L echo=E1,E2,E3,E4,E5 verified=V bad=B
 *    (L: the TSC at the poll before F, V: the TSC after the check, B: words that differ) and
 *    ends with status 0 (exit_port= as for the virtio guests). */
#include "virtio_guest.h"

#define TOUCH_BASE 0x1000000ull
#define ECHOES 5

static uint64_t seed; /* in RAM only: a rebooted guest would pick another */

static inline uint64_t word(uint64_t addr) { return (addr * 0x9e3779b97f4a7c15ull) ^ seed; }

void ring0_main(void) {}

void ring3_main(void) {
    const uint64_t bytes = cmdline_u64("touch", 64) << 20;
    seed = rdtsc();
    volatile uint64_t* mem = (volatile uint64_t*)TOUCH_BASE;
    for (uint64_t i = 0; i < bytes / 8; ++i) mem[i] = word(TOUCH_BASE + i * 8);
    put_str("SNAP-READY\n");

    uint64_t last = rdtsc(), now = last;
    while ((inb(COM1 + 5) & 1) == 0) {
        last = now;
        now = rdtsc();
    }
    const uint64_t first = rdtsc();
    (void)inb(COM1);
    put_str("R\n");
    uint64_t echo[ECHOES];
    for (int i = 0; i < ECHOES; ++i) {
        while ((inb(COM1 + 5) & 1) == 0) {
        }
        echo[i] = rdtsc();
        (void)inb(COM1);
        put_str("E\n");
    }
    uint64_t bad = 0;
    for (uint64_t i = 0; i < bytes / 8; ++i) bad += mem[i] != word(TOUCH_BASE + i * 8);
    const uint64_t verified = rdtsc();
    put_str("SNAP-RESUMED first=");
    put_u64(first);
    put_str(" last=");
    put_u64(last);
    put_str(" echo=");
    for (int i = 0; i < ECHOES; ++i) {
        if (i) put_str(",");
        put_u64(echo[i]);
    }
    put_str(" verified=");
    put_u64(verified);
    put_str(" bad=");
    put_u64(bad);
    put_str("\n");
    guest_exit(0);
}
