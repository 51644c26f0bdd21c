/* The idle guest of the footprint benchmark (tools/bench/footprint.cpp): a PVH ELF that sets up
 * every virtio-blk and virtio-net device on its command line as a driver would (features, queues,
 * receive buffers posted, DRIVER_OK), prints IDLE-READY on COM1 and then halts with interrupts
 * on, for good: the VMM's cost of a guest doing nothing with devices attached. It stays at CPL 0
 * (HLT faults at CPL 3); its IDT sends every vector to a handler that acknowledges the local
 * APIC and returns, though nothing is programmed to interrupt it. */
#include "virtio_guest.h"

#define QSIZE 256u
#define RX_BUF 1526u

struct idt_gate {
    uint16_t offset_low, selector;
    uint8_t ist, type_attr;
    uint16_t offset_mid;
    uint32_t offset_high, zero;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate is 16 bytes");

void idle_isr(void);
__asm__(".text\n.globl idle_isr\nidle_isr:\n"
        "    push %rax\n"
        "    mov $0xfee000b0, %eax\n" /* local APIC EOI register */
        "    movl $0, (%rax)\n"
        "    pop %rax\n"
        "    iretq\n");

static struct idt_gate idt[256] __attribute__((aligned(16)));

static void load_idt(void) {
    uint64_t isr = (uintptr_t)idle_isr;
    for (int i = 0; i < 256; ++i)
        idt[i] = (struct idt_gate){(uint16_t)isr, 0x08, 0, 0x8e, (uint16_t)(isr >> 16),
                                   (uint32_t)(isr >> 32), 0};
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) desc = {sizeof idt - 1, (uintptr_t)idt};
    __asm__ volatile("lidt %0" ::"m"(desc));
}

static int setup_blk(int nth) {
    static struct virtio_dev dev[4];
    static struct virtq vq[4];
    if (nth >= 4 || virtio_find(VIRTIO_ID_BLOCK, nth, &dev[nth]) != 0) return 0;
    if (virtio_negotiate(&dev[nth], VIRTIO_F_VERSION_1) != 0 ||
        virtq_setup(&dev[nth], &vq[nth], 0, QSIZE) != 0)
        guest_exit(1);
    virtio_driver_ok(&dev[nth]);
    return 1;
}

static int setup_net(int nth) {
    static struct virtio_dev dev[4];
    static struct virtq rx[4], tx[4];
    if (nth >= 4 || virtio_find(VIRTIO_ID_NET, nth, &dev[nth]) != 0) return 0;
    if (virtio_negotiate(&dev[nth], VIRTIO_F_VERSION_1) != 0 ||
        virtq_setup(&dev[nth], &rx[nth], 0, QSIZE) != 0 ||
        virtq_setup(&dev[nth], &tx[nth], 1, QSIZE) != 0)
        guest_exit(1);
    uint8_t* bufs = guest_alloc(QSIZE * RX_BUF);
    for (uint32_t i = 0; i < QSIZE; ++i) {
        struct vbuf b = {(uintptr_t)(bufs + i * RX_BUF), RX_BUF, 1};
        if (virtq_add(&rx[nth], &b, 1) < 0) guest_exit(1);
    }
    virtio_driver_ok(&dev[nth]);
    virtq_kick(&rx[nth]);
    return 1;
}

void ring0_main(void) {
    load_idt();
    int blk = 0, net = 0;
    while (setup_blk(blk)) ++blk;
    while (setup_net(net)) ++net;
    put_str("IDLE-READY blk=");
    put_u64((uint64_t)blk);
    put_str(" net=");
    put_u64((uint64_t)net);
    put_str("\n");
    for (;;) __asm__ volatile("sti; hlt");
}

void ring3_main(void) {}
