/* uart-vs-console: the same 64 KiB out through the emulated 16550 UART (one OUT, so one exit
 * to minivmm, per byte) and through virtio-console's transmit queue (16 chains of 4 KiB
 * posted at once and one notification, which KVM's ioeventfd takes without an exit to
 * minivmm). Prints the TSC ticks per KiB of each path and what it counted; run it with
 * --console file=PATH (or socket=PATH) and --stats to see the exits: the "serial" row against
 * the "virtio-console0" row. Virtio 1.2 §4.2.2 (virtio-mmio registers), §2.7 (split ring). */
#include "hw.h"

#define MMIO_BASE 0xd0001000u   /* layout.hpp: VIRTIO_MMIO_BASE, 4 KiB a slot, 8 slots */
#define MMIO_SLOT 0x1000u
#define MMIO_SLOTS 8
#define VIRTIO_ID_CONSOLE 3u
#define TRANSMITQ 1u
#define QSIZE 16u
#define CHUNK 4096u
#define TOTAL (QSIZE * CHUNK)   /* 64 KiB */
#define RING 0x300000u          /* descriptors, then avail at +0x100, used at +0x200 */
#define DATA 0x400000u

static uint32_t mmio_accesses; /* each one an exit to minivmm, QueueNotify aside */

static uint32_t reg_read(uint32_t base, uint32_t off) {
    ++mmio_accesses;
    return mmio_read32(base + off);
}
static void reg_write(uint32_t base, uint32_t off, uint32_t v) {
    ++mmio_accesses;
    mmio_write32(base + off, v);
}
static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
/* a / b by binary long division (no libgcc in 32-bit demos). */
static uint64_t div64(uint64_t a, uint64_t b) {
    uint64_t q = 0, r = 0;
    for (int i = 63; i >= 0; --i) {
        r = (r << 1) | ((a >> i) & 1);
        if (r >= b) { r -= b; q |= (uint64_t)1 << i; }
    }
    return q;
}

/* The window of the first virtio-console, or 0. */
static uint32_t find_console(void) {
    for (uint32_t i = 0; i < MMIO_SLOTS; ++i) {
        uint32_t base = MMIO_BASE + i * MMIO_SLOT;
        if (reg_read(base, 0x000) == 0x74726976 /* "virt" */ && reg_read(base, 0x008) == VIRTIO_ID_CONSOLE)
            return base;
    }
    return 0;
}

/* Reset, features (VERSION_1 only), the transmit queue, DRIVER_OK. 0 on success. */
static int setup(uint32_t base) {
    reg_write(base, 0x070, 0);
    reg_write(base, 0x070, 1 | 2);             /* ACKNOWLEDGE | DRIVER */
    reg_write(base, 0x024, 1);
    reg_write(base, 0x020, 1);                 /* VIRTIO_F_VERSION_1 (bit 32) */
    reg_write(base, 0x024, 0);
    reg_write(base, 0x020, 0);
    reg_write(base, 0x070, 1 | 2 | 8);         /* FEATURES_OK */
    if ((reg_read(base, 0x070) & 8) == 0) return -1;
    reg_write(base, 0x030, TRANSMITQ);
    if (reg_read(base, 0x034) < QSIZE) return -1;
    reg_write(base, 0x038, QSIZE);
    reg_write(base, 0x080, RING);
    reg_write(base, 0x084, 0);
    reg_write(base, 0x090, RING + 0x100);
    reg_write(base, 0x094, 0);
    reg_write(base, 0x0a0, RING + 0x200);
    reg_write(base, 0x0a4, 0);
    reg_write(base, 0x044, 1);
    reg_write(base, 0x070, 1 | 2 | 8 | 4);     /* DRIVER_OK */
    return 0;
}

/* The 64 KiB as 16 one-buffer chains, one notification, then polls the used index. */
static void send_virtio(uint32_t base) {
    volatile uint32_t* desc = (volatile uint32_t*)RING;   /* addr lo, addr hi, len, flags|next */
    volatile uint16_t* avail = (volatile uint16_t*)(RING + 0x100);
    volatile uint16_t* used = (volatile uint16_t*)(RING + 0x200);
    for (uint32_t i = 0; i < QSIZE; ++i) {
        desc[i * 4 + 0] = DATA + i * CHUNK;
        desc[i * 4 + 1] = 0;
        desc[i * 4 + 2] = CHUNK;
        desc[i * 4 + 3] = 0;                      /* device-readable, no NEXT */
        avail[2 + i] = (uint16_t)i;
    }
    __asm__ volatile("" ::: "memory");            /* the ring before its index (x86: TSO) */
    avail[1] = QSIZE;
    reg_write(base, 0x050, TRANSMITQ);            /* QueueNotify */
    while (used[1] != QSIZE) __asm__ volatile("pause" ::: "memory");
}

static void report(const char* what, uint64_t ticks, uint32_t exits) {
    puts_serial(what);
    put_dec(ticks);
    puts_serial(" TSC ticks, ");
    put_dec(ticks >> 6);
    puts_serial(" per KiB; ");
    put_dec(exits);
    puts_serial(" exits\n");
}

void demo_main(void) {
    uint8_t* data = (uint8_t*)DATA;
    for (uint32_t i = 0; i < TOTAL; ++i)   /* lines of 63 letters */
        data[i] = (i % 64 == 63) ? '\n' : (uint8_t)('a' + i % 26);
    /* --stats charges the time in KVM_RUN to the exit that ends it: this one (an unhandled
     * port) takes the fill's, so that neither path's row does. */
    outb(0x80, 0);
    uint32_t base = find_console();
    if (base == 0) {
        puts_serial("uart-vs-console: no virtio-console: run with --console file=PATH\n");
        exit_vm(1);
    }
    puts_serial("uart-vs-console: 64 KiB through the UART, one OUT a byte:\n");
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < TOTAL; ++i) outb(COM1, data[i]);
    uint64_t uart = rdtsc() - t0;
    uint32_t before = mmio_accesses;
    if (setup(base) != 0) {
        puts_serial("uart-vs-console: the virtio-console refused the driver\n");
        exit_vm(2);
    }
    uint32_t setup_exits = mmio_accesses - before;
    t0 = rdtsc();
    send_virtio(base);
    uint64_t virtio = rdtsc() - t0;
    report("uart-vs-console: uart:           ", uart, TOTAL);
    report("uart-vs-console: virtio-console: ", virtio, 0);
    puts_serial("uart-vs-console: virtio-console set-up: ");
    put_dec(setup_exits);
    puts_serial(" register accesses (exits), then 1 notification (an ioeventfd, no exit)\n");
    puts_serial("uart-vs-console: the uart took ");
    put_dec(div64(uart, virtio ? virtio : 1));
    puts_serial(" times as long\n");
    exit_vm(0);
}
