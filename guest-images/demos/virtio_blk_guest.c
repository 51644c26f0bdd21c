/* A bare-metal virtio-blk guest (PVH ELF, CPL 3 after long_mode.S): writes a pattern to the
 * first disk, flushes, reads it back and compares, printing VBLK-OK or VBLK-FAIL. Boots under
 * minivmm (--kernel) and QEMU (-M microvm -kernel). Command line: sectors=N (default 64). */
#include "virtio_guest.h"

#define VIRTIO_BLK_F_FLUSH (1ull << 9)
#define VIRTIO_BLK_T_IN 0u
#define VIRTIO_BLK_T_OUT 1u
#define VIRTIO_BLK_T_FLUSH 4u

struct blk_req_hdr {
    uint32_t type, reserved;
    uint64_t sector;
};

static struct virtio_dev dev;
static struct virtq vq;

static void fail(const char* what) {
    put_str("VBLK-FAIL ");
    put_str(what);
    put_str("\n");
    guest_exit(1);
}

/* One request, synchronously: header, optional data, status. Returns the status byte. */
static uint8_t blk_request(uint32_t type, uint64_t sector, void* data, uint32_t len) {
    static struct blk_req_hdr hdr;
    static volatile uint8_t status;
    hdr.type = type;
    hdr.sector = sector;
    status = 0xff;
    struct vbuf bufs[3] = {{(uintptr_t)&hdr, sizeof hdr, 0}};
    int n = 1;
    if (len) bufs[n++] = (struct vbuf){(uintptr_t)data, len, type == VIRTIO_BLK_T_IN};
    bufs[n++] = (struct vbuf){(uintptr_t)&status, 1, 1};
    if (virtq_add(&vq, bufs, n) < 0) fail("ring full");
    virtq_kick(&vq);
    uint16_t head;
    uint32_t written;
    if (virtq_wait_used(&vq, &head, &written, 2000000000ull) != 1) fail("no completion");
    return status;
}

void ring0_main(void) {}

void ring3_main(void) {
    if (virtio_find(VIRTIO_ID_BLOCK, 0, &dev) != 0) fail("no virtio-blk device on the command line");
    if (virtio_negotiate(&dev, VIRTIO_BLK_F_FLUSH | VIRTIO_RING_F_EVENT_IDX) != 0) fail("features");
    if (virtq_setup(&dev, &vq, 0, 128) != 0) fail("queue setup");
    virtio_driver_ok(&dev);
    uint64_t capacity = virtio_config_read32(&dev, 0) | (uint64_t)virtio_config_read32(&dev, 4) << 32;
    uint64_t sectors = cmdline_u64("sectors", 64);
    if (sectors > capacity) sectors = capacity;
    uint8_t* out = guest_alloc(sectors * 512);
    uint8_t* in = guest_alloc(sectors * 512);
    for (uint64_t i = 0; i < sectors * 512; ++i) out[i] = (uint8_t)(i * 7 + (i >> 9));
    if (blk_request(VIRTIO_BLK_T_OUT, 0, out, (uint32_t)(sectors * 512)) != 0) fail("write");
    if ((dev.features & VIRTIO_BLK_F_FLUSH) && blk_request(VIRTIO_BLK_T_FLUSH, 0, 0, 0) != 0)
        fail("flush");
    if (blk_request(VIRTIO_BLK_T_IN, 0, in, (uint32_t)(sectors * 512)) != 0) fail("read");
    if (memcmp(in, out, sectors * 512) != 0) fail("read-back differs");
    put_str("VBLK-OK capacity ");
    put_u64(capacity);
    put_str(" sectors, wrote and read back ");
    put_u64(sectors);
    put_str(", kicks ");
    put_u64(vq.kicks);
    put_str("\n");
    guest_exit(0);
}
