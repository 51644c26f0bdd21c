/* A bare-metal virtio-rng guest (PVH ELF, CPL 3 after long_mode.S) for the integration test;
 * boots under minivmm (--kernel, with --rng and acpi=off). Negotiates VERSION_1, then reads
 * bytes=N random bytes (default 4096) in requests of chunk=C bytes (default 256, at most
 * 4096): one device-writable buffer a request, the ring polled (no interrupts asked for).
 * Prints
 *   RNG-READ bytes=N requests=R ticks=T distinct=D
 * (T: TSC ticks from the first request to the last completion; D: how many of the 256 byte
 * values occurred), then RNG-OK and status 0, or RNG-FAIL <why> and status 1: a request not
 * completed within timeoutticks=T (default 1e11), fewer bytes than asked, or bytes that are
 * all zero, all equal, or (for N >= 1024) fewer than 128 distinct values. */
#include "virtio_guest.h"

#define QSIZE 8u
#define MAX_CHUNK 4096u

static struct virtio_dev dev;
static struct virtq q;

static void fail(const char* what) {
    put_str("RNG-FAIL ");
    put_str(what);
    put_str("\n");
    guest_exit(1);
}

void ring0_main(void) {}

void ring3_main(void) {
    if (virtio_find(VIRTIO_ID_RNG, 0, &dev) != 0)
        fail("no virtio-rng device on the command line (give --rng and acpi=off)");
    if (virtio_negotiate(&dev, 0)) fail("features");
    if (virtq_setup(&dev, &q, 0, QSIZE)) fail("queue setup");
    q.avail[0] = VRING_AVAIL_F_NO_INTERRUPT;
    virtio_driver_ok(&dev);

    const uint64_t want = cmdline_u64("bytes", 4096);
    const uint32_t chunk = (uint32_t)cmdline_u64("chunk", 256);
    const uint64_t timeout = cmdline_u64("timeoutticks", 100000000000ull);
    if (chunk == 0 || chunk > MAX_CHUNK) fail("chunk out of range");
    uint8_t* all = guest_alloc(want + MAX_CHUNK);
    uint64_t got = 0, requests = 0;
    const uint64_t t0 = rdtsc();
    while (got < want) {
        uint32_t n = want - got < chunk ? (uint32_t)(want - got) : chunk;
        struct vbuf b = {(uintptr_t)(all + got), n, 1};
        if (virtq_add(&q, &b, 1) < 0) fail("ring full");
        virtq_kick(&q);
        uint16_t head;
        uint32_t len;
        for (uint64_t t = rdtsc(); virtq_get_used(&q, &head, &len) != 1;)
            if (rdtsc() - t > timeout) fail("a request was never completed");
        if (len > n) fail("the device wrote more than the buffer holds");
        got += len;
        ++requests;
    }
    const uint64_t ticks = rdtsc() - t0;

    static uint8_t seen[256];
    uint32_t distinct = 0, zero = 1, equal = 1;
    for (uint64_t i = 0; i < got; ++i) {
        if (!seen[all[i]]) seen[all[i]] = 1, ++distinct;
        zero &= all[i] == 0;
        equal &= all[i] == all[0];
    }
    put_str("RNG-READ bytes=");
    put_u64(got);
    put_str(" requests=");
    put_u64(requests);
    put_str(" ticks=");
    put_u64(ticks);
    put_str(" distinct=");
    put_u64(distinct);
    put_str("\n");
    if (zero) fail("all bytes are zero");
    if (equal) fail("all bytes are equal");
    if (got >= 1024 && distinct < 128) fail("fewer than 128 distinct byte values");
    put_str("RNG-OK\n");
    guest_exit(0);
}
