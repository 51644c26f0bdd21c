/* mode=bench: the guest half of the guest-path block benchmark (tools/bench/blk_guest.cpp runs
 * it under minivmm and QEMU and the same pattern with pread/pwrite on the host). Keeps `depth`
 * requests of `bs` bytes in flight on disk 0 until `count` completed, reads (write=0) or writes
 * (write=1), at random bs-aligned offsets (rand=1: the xorshift64* sequence from `seed`, offset
 * = (next() % (disk bytes / bs)) * bs) or sequentially from 0, wrapping at the end. Adds every
 * free slot, kicks once per batch (suppressed while the device says so), takes every
 * completion there is, repeats. Prints VBLK-GO just before that loop (the host samples the
 * VMM's CPU time there) and, from rdtsc around the loop:
 *   VBLK-BENCH ops=N bytes=B ticks=T kicks=K */
#include "blk_guest.h"

#define MAX_DEPTH 64u

static uint64_t xorshift64star(uint64_t* state) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

void blk_mode_bench(void) {
    static struct blk_disk disk;
    if (blk_open(0, &disk, BLK_DEFAULT_FEATURES) != 0) blk_fail("no virtio-blk device");
    const uint32_t type = cmdline_u64("write", 0) ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
    const uint64_t bs = cmdline_u64("bs", 4096), count = cmdline_u64("count", 10000);
    const int random = cmdline_u64("rand", 0) != 0;
    uint64_t depth = cmdline_u64("depth", 32), rng = cmdline_u64("seed", 1);
    if (depth == 0 || depth > MAX_DEPTH) depth = MAX_DEPTH;
    if (bs == 0 || bs % 512 != 0 || bs > (1u << 20)) blk_fail("bs");
    if (disk.read_only && type == VIRTIO_BLK_T_OUT) blk_fail("read-only disk");
    const uint64_t blocks = disk.capacity * 512 / bs;
    if (blocks == 0 || rng == 0) blk_fail("disk smaller than bs, or seed 0");

    /* One data buffer per slot; a completion's head finds its slot. */
    uint8_t* buf[MAX_DEPTH];
    uint8_t free_slots[MAX_DEPTH];
    static uint8_t slot_of[BLK_QUEUE_SIZE];
    for (uint64_t i = 0; i < depth; ++i) {
        buf[i] = guest_alloc(bs);
        for (uint64_t j = 0; j < bs; ++j) buf[i][j] = (uint8_t)(i + j);
        free_slots[i] = (uint8_t)i;
    }
    uint64_t nfree = depth, submitted = 0, completed = 0;
    put_str("VBLK-GO\n");
    uint64_t t0 = rdtsc();
    while (completed < count) {
        while (nfree > 0 && submitted < count) {
            uint64_t block = random ? xorshift64star(&rng) % blocks : submitted % blocks;
            uint8_t slot = free_slots[--nfree];
            int head = blk_submit(&disk, type, block * (bs / 512), buf[slot], (uint32_t)bs);
            if (head < 0) blk_fail("ring full");
            slot_of[head] = slot;
            ++submitted;
        }
        virtq_kick(&disk.vq);
        uint16_t head;
        uint32_t len;
        int r;
        while ((r = virtq_get_used(&disk.vq, &head, &len)) == 1) {
            if (disk.slot[head].status != VIRTIO_BLK_S_OK) blk_fail("request failed");
            free_slots[nfree++] = slot_of[head];
            ++completed;
        }
        if (r < 0) blk_fail("bad used element");
        __asm__ volatile("pause");
    }
    uint64_t ticks = rdtsc() - t0;
    put_str("VBLK-BENCH ops=");
    put_u64(completed);
    put_str(" bytes=");
    put_u64(completed * bs);
    put_str(" ticks=");
    put_u64(ticks);
    put_str(" kicks=");
    put_u64(disk.vq.kicks);
    put_str("\n");
    guest_exit(0);
}
