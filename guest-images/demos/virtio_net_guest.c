/* A bare-metal virtio-net guest (PVH ELF, CPL 3 after long_mode.S) for the integration test and
 * the guest-path benchmark; boots under minivmm (--kernel) and QEMU (-M microvm -kernel).
 * Negotiates VERSION_1, MAC, MRG_RXBUF and EVENT_IDX, polls both rings (no interrupts: it asks
 * for none) and reports on COM1. Modes, from the command line:
 *
 *   mode=test (default)  tx=N frames (default 8) of len=L bytes (60..1514; 0: lengths vary
 *       per frame), broadcast, source = its MAC, EtherType 0x88b5, a 32-bit sequence number
 *       and a pattern; then waits for rx=M frames of EtherType 0x88b6 (same layout) for at most
 *       rxticks=T TSC ticks, checks them and prints
 *         VNET-RX frames=M bad=B other=O bytes=N fnv=0xHHHHHHHH seqs=s0,s1,...
 *       (fnv: FNV-1a 32 over every accepted frame, in order). rxbuf=B: receive buffer size
 *       (default 1526; smaller ones make the device merge buffers). bad=1 first sends a chain
 *       shorter than the vnet header and one longer than the largest frame (the device must drop
 *       both and still complete them). Ends with VNET-OK (status 0) or VNET-FAIL (status 1).
 *   mode=relink  the link status watched while frames go out (virtio_net_relink.c).
 *   mode=txbench count=N len=L  prints VNET-GO, then keeps the transmit ring full until N
 *       frames are sent;
 *   mode=rxbench count=N  prints VNET-WAIT, waits for a byte on COM1 (the host fills the tap
 *       meanwhile), prints VNET-GO, then sets DRIVER_OK and receives N frames (or fewer, when
 *       none came for idleticks=T ticks, default 5e9). Both print
 *         VNET-BENCH dir=tx|rx frames=N bytes=B ticks=T kicks=K
 *       (T: TSC ticks from the first frame offered to the last one completed), then wait
 *       lingerticks=T (default 5e8) before they exit, for the host to read the VMM's CPU times. */
#include "net_guest.h"

#define MAX_FRAME 65550u   /* minivmm's largest frame; one more byte is "too big" */
#define QSIZE 256u
#define TX_TYPE 0x88b5u    /* IEEE local experimental EtherTypes */
#define RX_TYPE 0x88b6u

struct virtio_dev dev;
static struct virtq rxq, txq;
static uint8_t mac[6];
static uint8_t* rx_bufs;   /* QSIZE buffers of rx_size bytes, buffer i at head i */
static uint32_t rx_size;
static uint8_t* tx_bufs;   /* QSIZE frames of HDR + 1514 bytes */
static uint8_t frame[MAX_FRAME + HDR]; /* a received frame, reassembled */

void fail(const char* what) {
    put_str("VNET-FAIL ");
    put_str(what);
    put_str("\n");
    guest_exit(1);
}

static void put_hex32(uint32_t v) {
    put_str("0x");
    for (int i = 7; i >= 0; --i) {
        char c[2] = {"0123456789abcdef"[(v >> (4 * i)) & 0xf], 0};
        put_str(c);
    }
}

/* Like virtq_get_used for a driver that polls: no used-buffer notifications wanted
 * (NO_INTERRUPT, and used_event kept just behind what was consumed). */
static int poll_used(struct virtq* vq, uint16_t* head, uint32_t* len) {
    int r = virtq_get_used(vq, head, len);
    if (r == 1 && vq->event_idx) vq->avail[2 + vq->size] = (uint16_t)(vq->last_used - 1);
    return r;
}

/* Posts the receive buffer of the descriptor virtq_add takes next (descriptor i always carries
 * buffer i, so a used head names its buffer). */
static void post_rx(void) {
    struct vbuf b = {(uintptr_t)(rx_bufs + (uint64_t)rxq.free_head * rx_size), rx_size, 1};
    if (virtq_add(&rxq, &b, 1) < 0) fail("rx ring full");
}

/* Buffers consumed and not yet posted again: posted in batches with one kick check, as Linux's
 * virtio-net refills (when a quarter of the ring is free, or when nothing is pending). */
#define REFILL_BATCH (QSIZE / 4)
static uint32_t rx_consumed;

static void refill(void) {
    if (rx_consumed == 0) return;
    for (; rx_consumed > 0; --rx_consumed) post_rx();
    virtq_kick(&rxq);
}

void setup(int hold_driver_ok, uint64_t extra_features) {
    if (virtio_find(VIRTIO_ID_NET, 0, &dev) != 0) fail("no virtio-net device on the command line (give acpi=off)");
    if (virtio_negotiate(&dev, VIRTIO_NET_F_MAC | VIRTIO_NET_F_MRG_RXBUF | VIRTIO_RING_F_EVENT_IDX |
                                   extra_features))
        fail("features");
    if ((dev.features & extra_features) != extra_features) fail("a feature was not offered");
    if (!(dev.features & VIRTIO_NET_F_MRG_RXBUF)) fail("MRG_RXBUF not offered");
    if (virtq_setup(&dev, &rxq, 0, QSIZE) || virtq_setup(&dev, &txq, 1, QSIZE)) fail("queue setup");
    for (uint32_t i = 0; i < 6; ++i)   /* without MAC: 02:01:02:03:04:05 */
        mac[i] = (dev.features & VIRTIO_NET_F_MAC) ? virtio_config_read8(&dev, i)
                                                   : (uint8_t)(i == 0 ? 2 : i);
    rxq.avail[0] = VRING_AVAIL_F_NO_INTERRUPT;
    txq.avail[0] = VRING_AVAIL_F_NO_INTERRUPT;
    rx_size = (uint32_t)cmdline_u64("rxbuf", HDR + 1514);
    if (rx_size < HDR || rx_size > 65536) fail("rxbuf out of range");
    rx_bufs = guest_alloc((uint64_t)QSIZE * rx_size);
    tx_bufs = guest_alloc(QSIZE * (HDR + 1514));
    /* Every descriptor is one receive buffer: descriptor i (the head) is buffer i. */
    for (uint16_t i = 0; i < QSIZE; ++i) post_rx();
    if (!hold_driver_ok) {
        virtio_driver_ok(&dev);
        virtq_kick(&rxq);
    }
}

/* Our layout: dst, src, EtherType, 32-bit little-endian sequence number, pattern bytes. */
static void make_frame(uint8_t* f, uint32_t len, uint32_t seq, const uint8_t* dst) {
    memcpy(f, dst, 6);
    memcpy(f + 6, mac, 6);
    f[12] = TX_TYPE >> 8;
    f[13] = TX_TYPE & 0xff;
    for (int i = 0; i < 4; ++i) f[14 + i] = (uint8_t)(seq >> (8 * i));
    for (uint32_t i = 18; i < len; ++i) f[i] = (uint8_t)(seq * 7u + i);
}

static uint32_t frame_len_for(uint32_t len, uint32_t seq) {
    return len ? len : 60u + (seq * 181u) % 1455u;
}

/* Sends one chain of `n` readable bytes at `p` and waits for its completion. */
static void send_and_wait(const uint8_t* p, uint32_t n) {
    struct vbuf b = {(uintptr_t)p, n, 0};
    if (virtq_add(&txq, &b, 1) < 0) fail("tx ring full");
    virtq_kick(&txq);
    uint16_t head;
    uint32_t used;
    for (uint64_t t0 = rdtsc(); poll_used(&txq, &head, &used) != 1;)
        if (rdtsc() - t0 > 20000000000ull) fail("a transmit chain was never completed");
}

/* Takes one received frame; returns its length (vnet header included), 0 when none is pending
 * (then every consumed buffer is posted again). With `copy` the frame is reassembled into
 * frame[]; the benchmark only counts (a driver hands buffers up without copying). */
static uint32_t receive(int copy) {
    uint16_t head;
    uint32_t len;
    if (poll_used(&rxq, &head, &len) != 1) {
        refill();
        return 0;
    }
    const uint8_t* b = rx_bufs + (uint64_t)head * rx_size;
    uint16_t nbufs = (uint16_t)(b[10] | b[11] << 8);
    if (len < HDR || len > rx_size || nbufs == 0) fail("bad receive completion");
    uint32_t total = len;
    if (copy) memcpy(frame, b, len);
    ++rx_consumed;
    for (uint16_t k = 1; k < nbufs; ++k) {
        uint64_t t0 = rdtsc();
        while (poll_used(&rxq, &head, &len) != 1) {
            refill();
            if (rdtsc() - t0 > 10000000000ull) fail("missing merged receive buffer");
        }
        if (len > rx_size || total + len > sizeof frame) fail("merged frame too long");
        if (copy) memcpy(frame + total, rx_bufs + (uint64_t)head * rx_size, len);
        total += len;
        ++rx_consumed;
    }
    if (rx_consumed >= REFILL_BATCH) refill();
    return total;
}

/* Sends frame `seq` of `len` bytes (broadcast) from buffer seq % QSIZE, reclaiming completions
 * before a buffer is reused; returns how many completions it took. */
uint32_t send_numbered(uint32_t seq, uint32_t len) {
    static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t* f = tx_bufs + (seq % QSIZE) * (HDR + 1514);
    uint32_t done = 0;
    uint16_t head;
    uint32_t used;
    while (txq.num_free == 0)
        if (poll_used(&txq, &head, &used) == 1) ++done;
    memset(f, 0, HDR);
    make_frame(f + HDR, len, seq, broadcast);
    struct vbuf b = {(uintptr_t)f, HDR + len, 0};
    if (virtq_add(&txq, &b, 1) < 0) fail("tx ring full");
    virtq_kick(&txq);
    return done;
}

/* Receives `rx` frames of RX_TYPE (for at most rxticks=T ticks), checks them and prints
 * VNET-RX ...; VNET-FAIL when fewer came or one was wrong. */
void receive_and_check(uint32_t rx) {
    uint32_t got = 0, bad = 0, other = 0, fnv = 2166136261u;
    uint64_t bytes = 0;
    static uint32_t seqs[64];
    uint64_t budget = cmdline_u64("rxticks", 30000000000ull);
    for (uint64_t t0 = rdtsc(); got < rx && rdtsc() - t0 < budget;) {
        uint32_t n = receive(1);
        if (n == 0) continue;
        const uint8_t* f = frame + HDR;
        n -= HDR;
        if (n < 18 || ((uint32_t)f[12] << 8 | f[13]) != RX_TYPE) {
            ++other;   /* not the test's (the host's own traffic) */
            continue;
        }
        uint32_t seq = f[14] | f[15] << 8 | f[16] << 16 | (uint32_t)f[17] << 24;
        int ok = memcmp(f, mac, 6) == 0;
        for (uint32_t i = 18; i < n; ++i) ok &= f[i] == (uint8_t)(seq * 7u + i);
        if (!ok) ++bad;
        for (uint32_t i = 0; i < n; ++i) fnv = (fnv ^ f[i]) * 16777619u;
        if (got < 64) seqs[got] = seq;
        ++got;
        bytes += n;
    }
    put_str("VNET-RX frames=");
    put_u64(got);
    put_str(" bad=");
    put_u64(bad);
    put_str(" other=");
    put_u64(other);
    put_str(" bytes=");
    put_u64(bytes);
    put_str(" fnv=");
    put_hex32(fnv);
    put_str(" seqs=");
    for (uint32_t i = 0; i < got && i < 64; ++i) {
        put_str(i ? "," : "");
        put_u64(seqs[i]);
    }
    put_str("\n");
    if (got < rx) fail("receive: fewer frames than expected");
    if (bad) fail("receive: frames with the wrong content");
}

static void test_mode(void) {
    setup(0, 0);
    uint32_t tx = (uint32_t)cmdline_u64("tx", 8), len = (uint32_t)cmdline_u64("len", 0);
    if (len && (len < 60 || len > 1514)) fail("len out of range");
    put_str("VNET-MAC ");
    for (int i = 0; i < 6; ++i) {
        put_str(i ? ":" : "");
        char c[3] = {"0123456789abcdef"[mac[i] >> 4], "0123456789abcdef"[mac[i] & 15], 0};
        put_str(c);
    }
    put_str(" features ");
    put_hex32((uint32_t)dev.features);
    put_str("\n");

    if (cmdline_has("bad")) {
        /* Shorter than the header, then header + MAX_FRAME + 1: both dropped, both completed. */
        uint8_t* big = guest_alloc(HDR + MAX_FRAME + 1);
        send_and_wait(big, 4);
        send_and_wait(big, HDR + MAX_FRAME + 1);
        put_str("VNET-BAD sent 2 bad chains, both completed\n");
    }

    uint32_t done = 0;
    for (uint32_t seq = 0; seq < tx; ++seq) done += send_numbered(seq, frame_len_for(len, seq));
    for (uint64_t t0 = rdtsc(); done < tx;) {
        uint16_t head;
        uint32_t used;
        if (poll_used(&txq, &head, &used) == 1) ++done;
        else if (rdtsc() - t0 > 20000000000ull) fail("transmit completions missing");
    }
    put_str("VNET-TX sent=");
    put_u64(tx);
    put_str("\n");

    receive_and_check((uint32_t)cmdline_u64("rx", 0));
    put_str("VNET-OK\n");
    guest_exit(0);
}

static void report(const char* dir, uint64_t frames, uint64_t bytes, uint64_t ticks,
                   uint32_t kicks) {
    put_str("VNET-BENCH dir=");
    put_str(dir);
    put_str(" frames=");
    put_u64(frames);
    put_str(" bytes=");
    put_u64(bytes);
    put_str(" ticks=");
    put_u64(ticks);
    put_str(" kicks=");
    put_u64(kicks);
    put_str("\n");
    /* The host samples the VMM's CPU times when it sees this line: stay up a moment. */
    const uint64_t linger = cmdline_u64("lingerticks", 500000000ull);
    for (uint64_t t0 = rdtsc(); rdtsc() - t0 < linger;) __asm__ volatile("pause");
}

/* Keeps the ring full: every free descriptor carries a frame, completions are reclaimed as
 * they come; the device is notified only when it asked to be (EVENT_IDX). */
static void txbench(void) {
    setup(0, 0);
    uint64_t count = cmdline_u64("count", 100000);
    uint32_t len = (uint32_t)cmdline_u64("len", 60);
    if (len < 60 || len > 1514) fail("len out of range");
    static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    for (uint32_t i = 0; i < QSIZE; ++i) {
        uint8_t* f = tx_bufs + i * (HDR + 1514);
        memset(f, 0, HDR);
        make_frame(f + HDR, len, i, broadcast);
    }
    uint64_t added = 0, done = 0;
    put_str("VNET-GO\n");
    uint64_t t0 = rdtsc();
    while (done < count) {
        while (added < count && txq.num_free > 0) {
            struct vbuf b = {(uintptr_t)(tx_bufs + (added % QSIZE) * (HDR + 1514)), HDR + len, 0};
            virtq_add(&txq, &b, 1);
            ++added;
        }
        virtq_kick(&txq);
        uint16_t head;
        uint32_t used;
        while (poll_used(&txq, &head, &used) == 1) ++done;
    }
    report("tx", count, count * len, rdtsc() - t0, txq.kicks);
    guest_exit(0);
}

static void rxbench(void) {
    setup(1, 0);
    uint64_t count = cmdline_u64("count", 100000);
    put_str("VNET-WAIT\n");
    while ((inb(COM1 + 5) & 1) == 0) __asm__ volatile("pause");
    (void)inb(COM1);
    put_str("VNET-GO\n");
    uint64_t got = 0, bytes = 0;
    uint64_t t0 = rdtsc();
    virtio_driver_ok(&dev);
    virtq_kick(&rxq);
    /* RDTSC only every 4096 empty polls (a PVM host may trap it): `last` is when the last
     * frame came, to within one such round, if fewer than `count` come. */
    uint64_t last = t0, idle = cmdline_u64("idleticks", 5000000000ull), empty = 0;
    int fresh = 0;
    while (got < count) {
        uint32_t n = receive(0);
        if (n == 0) {
            if ((++empty & 4095) != 0) continue;
            uint64_t t = rdtsc();
            if (fresh) last = t, fresh = 0;
            if (t - last > idle) break;   /* the host sent fewer: report what came */
            continue;
        }
        fresh = 1;
        ++got;
        bytes += n - HDR;
    }
    if (got == count) last = rdtsc();
    report("rx", got, bytes, last - t0, rxq.kicks);
    guest_exit(0);
}

void ring0_main(void) {}

void ring3_main(void) {
    if (cmdline_has("mode=txbench")) txbench();
    if (cmdline_has("mode=rxbench")) rxbench();
    if (cmdline_has("mode=relink")) relink_mode();
    test_mode();
}
