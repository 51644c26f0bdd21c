/* mode=hostile: a guest that breaks the virtqueue protocol on purpose (Virtio 1.2 §2.7) and
 * checks what the device answers: a ring violation (head out of range, avail index too far
 * ahead, a bad queue geometry) must set DEVICE_NEEDS_RESET and complete nothing; a broken chain
 * (a `next` loop or out of range, buffers outside RAM or wrapping, a writable header, a readable
 * buffer after a writable one, no status byte, bad indirect tables) must come back used with
 * length 0 and the status byte untouched, the queue still working; zero-length descriptors are
 * skipped. After every case the device is reset and must complete a normal write, flush and
 * read. Prints one VBLK-HOSTILE line per case and VBLK-HOSTILE-OK at the end. */
#include "blk_guest.h"

#define STATUS_NEEDS_RESET 0x40u
#define REG_QUEUE_SEL 0x030u
#define REG_QUEUE_NUM 0x038u
#define REG_QUEUE_READY 0x044u
#define REG_QUEUE_NOTIFY 0x050u
#define REG_QUEUE_DESC_LOW 0x080u
#define REG_QUEUE_DESC_HIGH 0x084u
#define REG_QUEUE_DRIVER_LOW 0x090u
#define REG_QUEUE_DEVICE_LOW 0x0a0u
/* Broken chains use descriptors from here: normal requests never take that many. */
#define H 200u
/* Polls before a case's outcome counts as missing (each status poll is an MMIO exit). */
#define POLLS 100000u
#define FAR_AWAY 0x4000000000ull /* 256 GiB: far beyond the guest's RAM */

enum outcome { NEEDS_RESET, REFUSED, STATUS };

static struct blk_disk disk;
static uint8_t *data, *expect;
static unsigned cases;

static void describe(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    volatile struct virtq_desc* d = &disk.vq.desc[i];
    d->addr = addr;
    d->len = len;
    d->flags = flags;
    d->next = next;
}

static uint64_t hdr_at(uint16_t head, uint32_t type, uint64_t sector) {
    disk.slot[head].hdr.type = type;
    disk.slot[head].hdr.reserved = 0;
    disk.slot[head].hdr.sector = sector;
    disk.slot[head].status = BLK_STATUS_UNTOUCHED;
    return (uintptr_t)&disk.slot[head].hdr;
}

static uint64_t status_of(uint16_t head) { return (uintptr_t)&disk.slot[head].status; }

/* Puts `head` on the available ring and notifies, bypassing the driver's bookkeeping. */
static void publish(uint16_t head) {
    struct virtq* vq = &disk.vq;
    vq->avail[2 + (vq->avail_idx & (vq->size - 1))] = head;
    __asm__ volatile("" ::: "memory");
    vq->avail[1] = ++vq->avail_idx;
    __asm__ volatile("mfence" ::: "memory");
    vq->last_kicked = vq->avail_idx;
    mmio_write32(disk.dev.base + REG_QUEUE_NOTIFY, 0);
}

/* One used element, read raw (the driver's free list must not follow a looping chain). */
static int take_used(uint32_t* id, uint32_t* len) {
    struct virtq* vq = &disk.vq;
    for (uint64_t i = 0; i < 100 * (uint64_t)POLLS; ++i) {
        if (vq->used_hdr[1] != vq->last_used) {
            volatile struct virtq_used_elem* e = &vq->used_ring[vq->last_used & (vq->size - 1)];
            *id = e->id;
            *len = e->len;
            vq->last_used++;
            if (vq->event_idx) vq->avail[2 + vq->size] = vq->last_used;
            return 1;
        }
        __asm__ volatile("pause");
    }
    return 0;
}

static int wait_needs_reset(void) {
    for (unsigned i = 0; i < POLLS; ++i)
        if (virtio_status(&disk.dev) & STATUS_NEEDS_RESET) return 1;
    return 0;
}

/* A normal write, flush and read of 4 KiB; the queue must be in working order. */
static void normal_io(const char* name) {
    blk_pattern(cases, 0, 8 * 512, expect, 4096);
    if (blk_sync(&disk, VIRTIO_BLK_T_OUT, 8, expect, 4096) != VIRTIO_BLK_S_OK ||
        blk_sync(&disk, VIRTIO_BLK_T_FLUSH, 0, 0, 0) != VIRTIO_BLK_S_OK)
        blk_fail(name);
    memset(data, 0, 4096);
    if (blk_sync(&disk, VIRTIO_BLK_T_IN, 8, data, 4096) != VIRTIO_BLK_S_OK ||
        memcmp(data, expect, 4096) != 0)
        blk_fail(name);
}

static void check(const char* name, enum outcome want, uint8_t want_status) {
    put_str("VBLK-HOSTILE ");
    put_str(name);
    if (want == NEEDS_RESET) {
        if (!wait_needs_reset()) blk_fail("no DEVICE_NEEDS_RESET");
        if (disk.vq.used_hdr[1] != disk.vq.last_used) blk_fail("a broken ring completed something");
        put_str(": NEEDS_RESET");
    } else {
        uint32_t id, len;
        if (!take_used(&id, &len)) blk_fail("no completion");
        if (id != H) blk_fail("completion of another head");
        if (want == REFUSED) {
            if (len != 0 || disk.slot[H].status != BLK_STATUS_UNTOUCHED) blk_fail("chain not refused");
            put_str(": refused, used length 0");
        } else {
            if (disk.slot[H].status != want_status) blk_fail("wrong status");
            put_str(": status ");
            put_u64(want_status);
        }
        if (virtio_status(&disk.dev) & STATUS_NEEDS_RESET) blk_fail("DEVICE_NEEDS_RESET set");
        normal_io("request after a refused chain");   /* still working without a reset */
    }
    blk_reinit(&disk, BLK_DEFAULT_FEATURES);
    normal_io("request after the reset");
    put_str(", reset, request OK\n");
    ++cases;
}

/* A read of 4 KiB at sector 8: header, data, status at descriptors H, H+1, H+2. */
static void read_chain(uint16_t hdr_flags, uint64_t data_addr, uint32_t data_len) {
    describe(H, hdr_at(H, VIRTIO_BLK_T_IN, 8), sizeof(struct blk_req_hdr), hdr_flags | VRING_DESC_F_NEXT,
             H + 1);
    describe(H + 1, data_addr, data_len, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, H + 2);
    describe(H + 2, status_of(H), 1, VRING_DESC_F_WRITE, 0);
}

static void ring_cases(void) {
    publish(BLK_QUEUE_SIZE + 7);
    check("head-out-of-range", NEEDS_RESET, 0);

    struct virtq* vq = &disk.vq;
    vq->avail_idx = (uint16_t)(vq->avail_idx + vq->size + 1);
    publish(0);   /* the index is now size + 2 ahead of the device */
    check("avail-index-ahead", NEEDS_RESET, 0);

    /* Geometry: a queue size that is not a power of two, a ring outside RAM. */
    for (int which = 0; which < 2; ++which) {
        if (virtio_negotiate(&disk.dev, BLK_DEFAULT_FEATURES) != 0) blk_fail("features");
        uintptr_t b = disk.dev.base;
        uint8_t* ring = guest_alloc(8192);
        mmio_write32(b + REG_QUEUE_SEL, 0);
        mmio_write32(b + REG_QUEUE_NUM, which == 0 ? 100 : 64);
        mmio_write32(b + REG_QUEUE_DESC_LOW, which == 0 ? (uint32_t)(uintptr_t)ring : 0);
        mmio_write32(b + REG_QUEUE_DESC_HIGH, which == 0 ? 0 : (uint32_t)(FAR_AWAY >> 32));
        mmio_write32(b + REG_QUEUE_DRIVER_LOW, (uint32_t)(uintptr_t)(ring + 4096));
        mmio_write32(b + REG_QUEUE_DEVICE_LOW, (uint32_t)(uintptr_t)(ring + 6144));
        mmio_write32(b + REG_QUEUE_READY, 1);
        check(which == 0 ? "queue-size-100" : "ring-outside-ram", NEEDS_RESET, 0);
    }
}

static void chain_cases(void) {
    read_chain(0, (uintptr_t)data, 4096);
    describe(H + 2, status_of(H), 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, H); /* loop */
    publish(H);
    check("next-loop", REFUSED, 0);

    read_chain(0, (uintptr_t)data, 4096);
    describe(H + 1, (uintptr_t)data, 4096, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 300);
    publish(H);
    check("next-out-of-range", REFUSED, 0);

    read_chain(0, FAR_AWAY, 4096);
    publish(H);
    check("buffer-outside-ram", REFUSED, 0);

    read_chain(0, 0xfffffffffffff000ull, 0x2000);
    publish(H);
    check("buffer-wraps-2^64", REFUSED, 0);

    read_chain(0, disk.dev.base, 4096);   /* the device's own registers */
    publish(H);
    check("buffer-in-mmio-window", REFUSED, 0);

    read_chain(VRING_DESC_F_WRITE, (uintptr_t)data, 4096);
    publish(H);
    check("writable-header", REFUSED, 0);

    read_chain(0, (uintptr_t)data, 4096);
    describe(H + 1, status_of(H), 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, H + 2);
    describe(H + 2, (uintptr_t)data, 4096, 0, 0);   /* readable after writable */
    publish(H);
    check("readable-after-writable", REFUSED, 0);

    describe(H, hdr_at(H, VIRTIO_BLK_T_IN, 8), sizeof(struct blk_req_hdr), 0, 0);
    publish(H);
    check("no-status-byte", REFUSED, 0);

    describe(H, 0xdead0000ull, 0, VRING_DESC_F_NEXT, H + 1);
    describe(H + 1, 0xdead0000ull, 0, VRING_DESC_F_WRITE, 0);
    publish(H);
    check("only-zero-length", REFUSED, 0);

    /* Zero-length descriptors between the real ones (their addresses are garbage): skipped. */
    blk_pattern(cases, 0, 8 * 512, expect, 4096);
    if (blk_sync(&disk, VIRTIO_BLK_T_OUT, 8, expect, 4096) != VIRTIO_BLK_S_OK) blk_fail("write");
    memset(data, 0, 4096);
    describe(H, hdr_at(H, VIRTIO_BLK_T_IN, 8), sizeof(struct blk_req_hdr), VRING_DESC_F_NEXT, H + 1);
    describe(H + 1, FAR_AWAY, 0, VRING_DESC_F_NEXT, H + 2);
    describe(H + 2, (uintptr_t)data, 4096, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, H + 3);
    describe(H + 3, FAR_AWAY, 0, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, H + 4);
    describe(H + 4, status_of(H), 1, VRING_DESC_F_WRITE, 0);
    publish(H);
    check("zero-length-descriptors", STATUS, VIRTIO_BLK_S_OK);
    if (memcmp(data, expect, 4096) != 0) blk_fail("zero-length descriptors: wrong data");
}

static void request_cases(void) {
    read_chain(0, (uintptr_t)data, 4096);
    disk.slot[H].hdr.sector = disk.capacity - 1;   /* 8 sectors from the last one */
    publish(H);
    check("read-past-the-end", STATUS, VIRTIO_BLK_S_IOERR);

    read_chain(0, (uintptr_t)data, 4096);
    disk.slot[H].hdr.type = 0x77;
    publish(H);
    check("unknown-type", STATUS, 2 /* VIRTIO_BLK_S_UNSUPP */);
}

static void indirect_cases(void) {
    volatile struct virtq_desc* table = guest_alloc(4096);
    for (int which = 0; which < 3; ++which) {
        table[0] = (struct virtq_desc){hdr_at(H, VIRTIO_BLK_T_IN, 8), sizeof(struct blk_req_hdr),
                                       VRING_DESC_F_NEXT, 1};
        table[1] = (struct virtq_desc){(uintptr_t)data, 4096, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2};
        table[2] = (struct virtq_desc){status_of(H), 1, VRING_DESC_F_WRITE, 0};
        uint32_t len = 3 * 16;
        if (which == 0) len = 3 * 16 + 5;                                 /* not a multiple of 16 */
        if (which == 1) table[1].flags |= VRING_DESC_F_INDIRECT;          /* nested */
        if (which == 2) table[2].flags |= VRING_DESC_F_NEXT, table[2].next = 0; /* loop */
        describe(H, (uintptr_t)table, len, VRING_DESC_F_INDIRECT, 0);
        publish(H);
        static const char* const names[] = {"indirect-bad-length", "indirect-nested",
                                            "indirect-loop"};
        check(names[which], REFUSED, 0);
    }
}

void blk_mode_hostile(void) {
    if (blk_open(0, &disk, BLK_DEFAULT_FEATURES) != 0) blk_fail("no virtio-blk device");
    if (disk.read_only || disk.capacity < 64) blk_fail("needs a writable disk of 64 sectors");
    if (!(disk.dev.features & VIRTIO_RING_F_INDIRECT_DESC)) blk_fail("no INDIRECT_DESC");
    data = guest_alloc(4096);
    expect = guest_alloc(4096);
    ring_cases();
    chain_cases();
    request_cases();
    indirect_cases();
    put_str("VBLK-HOSTILE-OK cases=");
    put_u64(cases);
    put_str("\n");
    guest_exit(0);
}
