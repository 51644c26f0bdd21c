/* virtio-blk requests for the bare-metal guest (see blk_guest.h). */
#include "blk_guest.h"

/* Spins for a completion before the guest gives up: far longer than any request takes. */
#define WAIT_SPINS 4000000000ull

void blk_fail(const char* what) {
    put_str("VBLK-FAIL ");
    put_str(what);
    put_str("\n");
    guest_exit(1);
}

static void setup(struct blk_disk* d, uint64_t features) {
    if (virtio_negotiate(&d->dev, features) != 0) blk_fail("feature negotiation");
    if (virtq_setup(&d->dev, &d->vq, 0, BLK_QUEUE_SIZE) != 0) blk_fail("queue setup");
    virtio_driver_ok(&d->dev);
}

int blk_open(int nth, struct blk_disk* d, uint64_t features) {
    memset(d, 0, sizeof *d);
    if (virtio_find(VIRTIO_ID_BLOCK, nth, &d->dev) != 0) return -1;
    setup(d, features);
    d->capacity = virtio_config_read32(&d->dev, 0) | (uint64_t)virtio_config_read32(&d->dev, 4) << 32;
    d->read_only = (d->dev.features & VIRTIO_BLK_F_RO) != 0;
    d->slot = guest_alloc(sizeof(struct blk_slot) * BLK_QUEUE_SIZE);
    return 0;
}

void blk_reinit(struct blk_disk* d, uint64_t features) { setup(d, features); }

int blk_submit(struct blk_disk* d, uint32_t type, uint64_t sector, void* data, uint32_t len) {
    /* The head is free_head (virtq_add takes descriptors from there): fill its header and
     * status first, so the device never sees a chain before its header is written. */
    uint16_t head = d->vq.free_head;
    if (d->vq.num_free < (len ? 3 : 2)) return -1;
    d->slot[head].hdr.type = type;
    d->slot[head].hdr.reserved = 0;
    d->slot[head].hdr.sector = sector;
    d->slot[head].status = BLK_STATUS_UNTOUCHED;
    struct vbuf bufs[3] = {{(uintptr_t)&d->slot[head].hdr, sizeof(struct blk_req_hdr), 0}};
    int n = 1;
    int writable = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
    if (len) bufs[n++] = (struct vbuf){(uintptr_t)data, len, writable};
    bufs[n++] = (struct vbuf){(uintptr_t)&d->slot[head].status, 1, 1};
    return virtq_add(&d->vq, bufs, n);
}

uint8_t blk_sync(struct blk_disk* d, uint32_t type, uint64_t sector, void* data, uint32_t len) {
    int head = blk_submit(d, type, sector, data, len);
    if (head < 0) blk_fail("ring full");
    virtq_kick(&d->vq);
    uint16_t used;
    uint32_t written;
    if (virtq_wait_used(&d->vq, &used, &written, WAIT_SPINS) != 1) blk_fail("no completion");
    if (used != head) blk_fail("completion of another head");
    return d->slot[used].status;
}

void blk_range(struct blk_disk* d, uint32_t type, uint64_t sector, uint8_t* buf, uint64_t bytes,
               uint32_t chunk, uint32_t depth, uint8_t expect, const char* what) {
    uint64_t next = 0, done = 0, inflight = 0;
    while (done < bytes) {
        while (next < bytes && inflight < depth) {
            uint32_t len = bytes - next < chunk ? (uint32_t)(bytes - next) : chunk;
            if (blk_submit(d, type, sector + next / 512, buf + next, len) < 0) break;
            next += len;
            ++inflight;
        }
        virtq_kick(&d->vq);
        uint16_t head;
        uint32_t written;
        if (virtq_wait_used(&d->vq, &head, &written, WAIT_SPINS) != 1) blk_fail("no completion");
        do {
            if (d->slot[head].status != expect) blk_fail(what);
            /* The data length of the request: its header's sector tells where it started. */
            uint64_t start = (d->slot[head].hdr.sector - sector) * 512;
            done += bytes - start < chunk ? bytes - start : chunk;
            --inflight;
        } while (virtq_get_used(&d->vq, &head, &written) == 1);
    }
}

uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void blk_pattern(uint64_t seed, unsigned disk, uint64_t offset, uint8_t* buf, uint64_t len) {
    uint64_t word = 0, word_index = ~0ull;
    for (uint64_t i = 0; i < len; ++i) {
        uint64_t off = offset + i;
        if (off / 8 != word_index) {
            word_index = off / 8;
            word = splitmix64(seed ^ (uint64_t)disk << 56 ^ word_index);
        }
        buf[i] = (uint8_t)(word >> (8 * (off % 8)));
    }
}
