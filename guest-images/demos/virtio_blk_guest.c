/* A bare-metal virtio-blk guest (PVH ELF, CPL 3 after long_mode.S) for the integration tests
 * and the guest-path benchmark. Boots under minivmm (--kernel) and QEMU (-M microvm -kernel).
 * The command line chooses the mode:
 *   mode=verify (default)  every disk: writes the pattern (blk_guest.h) over `sectors` sectors
 *                          from `start` in requests of `chunk` sectors, up to `depth` in
 *                          flight, flushes, reads back and compares; a read-only disk must
 *                          answer the write and the flush with IOERR and read the pattern the
 *                          host put there. Prints VBLK-DISK per disk, then VBLK-OK.
 *   mode=durable           disk 0: writes the pattern, flushes, prints VBLK-FLUSHED and spins
 *                          (the test kills the VMM then).
 *   mode=hostile           broken chains and rings (blk_hostile.c).
 *   mode=bench             requests in flight for the benchmark (blk_bench.c).
 * seed=N (default 1) seeds the pattern; exit_port= as in virtio_guest.h. */
#include "blk_guest.h"

static void print_serial(struct blk_disk* d) {
    static uint8_t id[VIRTIO_BLK_ID_BYTES + 1];
    memset(id, 0, sizeof id);
    if (blk_sync(d, VIRTIO_BLK_T_GET_ID, 0, id, VIRTIO_BLK_ID_BYTES) != VIRTIO_BLK_S_OK)
        blk_fail("GET_ID");
    put_str(" serial=\"");
    put_str((const char*)id);
    put_str("\"");
}

static void verify_disk(int nth, struct blk_disk* d, uint64_t seed) {
    uint64_t start = cmdline_u64("start", 0), sectors = cmdline_u64("sectors", 64);
    uint32_t chunk = (uint32_t)cmdline_u64("chunk", 128) * 512;
    uint32_t depth = (uint32_t)cmdline_u64("depth", 16);
    if (start > d->capacity || sectors > d->capacity - start) blk_fail("range beyond the disk");
    uint64_t bytes = sectors * 512;
    uint8_t* out = guest_alloc(bytes);
    uint8_t* in = guest_alloc(bytes);
    blk_pattern(seed, (unsigned)nth, start * 512, out, bytes);
    put_str("VBLK-DISK ");
    put_u64((uint64_t)nth);
    put_str(d->read_only ? " ro" : " rw");
    put_str(" capacity=");
    put_u64(d->capacity);
    print_serial(d);
    if (d->read_only) {
        /* Writing anything else must fail and leave the host's pattern in place. */
        blk_pattern(~seed, (unsigned)nth, start * 512, in, bytes);
        blk_range(d, VIRTIO_BLK_T_OUT, start, in, bytes, chunk, depth, VIRTIO_BLK_S_IOERR,
                  "write to a read-only disk did not get IOERR");
        if (blk_sync(d, VIRTIO_BLK_T_FLUSH, 0, 0, 0) != VIRTIO_BLK_S_IOERR)
            blk_fail("flush of a read-only disk did not get IOERR");
        put_str(" write=IOERR flush=IOERR");
    } else {
        blk_range(d, VIRTIO_BLK_T_OUT, start, out, bytes, chunk, depth, VIRTIO_BLK_S_OK, "write");
        if (blk_sync(d, VIRTIO_BLK_T_FLUSH, 0, 0, 0) != VIRTIO_BLK_S_OK) blk_fail("flush");
        put_str(" write=OK flush=OK");
    }
    memset(in, 0, bytes);
    blk_range(d, VIRTIO_BLK_T_IN, start, in, bytes, chunk, depth, VIRTIO_BLK_S_OK, "read");
    if (memcmp(in, out, bytes) != 0) blk_fail("read-back differs from the pattern");
    put_str(" read=OK sectors=");
    put_u64(sectors);
    put_str(" kicks=");
    put_u64(d->vq.kicks);
    put_str("\n");
}

static void mode_verify(void) {
    uint64_t seed = cmdline_u64("seed", 1);
    static struct blk_disk disk;
    int nth = 0;
    for (; blk_open(nth, &disk, BLK_DEFAULT_FEATURES) == 0; ++nth) verify_disk(nth, &disk, seed);
    if (nth == 0) blk_fail("no virtio-blk device on the command line (give acpi=off)");
    put_str("VBLK-OK disks=");
    put_u64((uint64_t)nth);
    put_str("\n");
    guest_exit(0);
}

static void mode_durable(void) {
    static struct blk_disk disk;
    if (blk_open(0, &disk, BLK_DEFAULT_FEATURES) != 0) blk_fail("no virtio-blk device");
    uint64_t start = cmdline_u64("start", 0), sectors = cmdline_u64("sectors", 2048);
    if (start > disk.capacity || sectors > disk.capacity - start) blk_fail("range beyond the disk");
    uint8_t* out = guest_alloc(sectors * 512);
    blk_pattern(cmdline_u64("seed", 1), 0, start * 512, out, sectors * 512);
    blk_range(&disk, VIRTIO_BLK_T_OUT, start, out, sectors * 512, 128 * 512, 16, VIRTIO_BLK_S_OK,
              "write");
    if (blk_sync(&disk, VIRTIO_BLK_T_FLUSH, 0, 0, 0) != VIRTIO_BLK_S_OK) blk_fail("flush");
    put_str("VBLK-FLUSHED\n");
    for (;;) __asm__ volatile("pause");
}

void ring0_main(void) {}

void ring3_main(void) {
    if (cmdline_has("mode=durable")) mode_durable();
    if (cmdline_has("mode=hostile")) blk_mode_hostile();
    if (cmdline_has("mode=bench")) blk_mode_bench();
    mode_verify();
}
