/* mode=relink of the bare-metal virtio-net guest (virtio_net_guest.c):
 *   mode=relink  sends a numbered 60-byte frame every gap=T ticks (default 2e7) while watching
 *       the link status (it negotiates VIRTIO_NET_F_STATUS) and the configuration-change
 *       interrupts (InterruptStatus bit 1, read by polling); prints each change as
 *         VNET-LINK down sent=S | VNET-LINK up sent=S    (S: frames sent so far)
 *       and, once the link went down and came back and after=N more frames (default 10) went
 *       out,  VNET-RELINK down=D up=U config_irqs=C sent=S ; then receives rx=M frames as
 *       mode=test does. Gives up (VNET-FAIL) after relinkticks=T ticks (default 1e11). */
#include "net_guest.h"

void relink_mode(void) {
    setup(0, VIRTIO_NET_F_STATUS);
    const uint64_t gap = cmdline_u64("gap", 20000000ull);
    const uint64_t after = cmdline_u64("after", 10), budget = cmdline_u64("relinkticks", 100000000000ull);
    uint32_t sent = 0, up_at = 0, down = 0, up = 0, config_irqs = 0;
    int link = virtio_config_read8(&dev, STATUS_OFFSET) & VIRTIO_NET_S_LINK_UP;
    if (!link) fail("the link is down at start");
    put_str("VNET-RELINK-READY\n");
    const uint64_t t0 = rdtsc();
    for (uint64_t next = t0; !(up > 0 && sent - up_at >= after);) {
        if (rdtsc() - t0 > budget) fail("the link did not go down and come back in time");
        if (virtio_take_interrupts(&dev) & 2) ++config_irqs;
        const int now = virtio_config_read8(&dev, STATUS_OFFSET) & VIRTIO_NET_S_LINK_UP;
        if (now != link) {
            link = now;
            if (now) ++up, up_at = sent;
            else ++down;
            put_str(now ? "VNET-LINK up sent=" : "VNET-LINK down sent=");
            put_u64(sent);
            put_str("\n");
        }
        if (rdtsc() < next) continue;
        send_numbered(sent++, 60);
        next += gap;
    }
    put_str("VNET-RELINK down=");
    put_u64(down);
    put_str(" up=");
    put_u64(up);
    put_str(" config_irqs=");
    put_u64(config_irqs);
    put_str(" sent=");
    put_u64(sent);
    put_str("\n");
    receive_and_check((uint32_t)cmdline_u64("rx", 0));
    put_str("VNET-OK\n");
    guest_exit(0);
}
