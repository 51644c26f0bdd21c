/* The polling virtio-mmio driver of the bare-metal test guests (see virtio_guest.h). Every
 * register access is an MMIO exit; ring memory is plain guest RAM the device reads and writes
 * concurrently, hence the volatile accesses and the barriers named at each use. */
#include "cmdline_word.h"
#include "virtio_guest.h"

/* virtio-mmio version 2 registers (virtio 1.2 §4.2.2). */
enum {
    MAGIC = 0x000, VERSION = 0x004, DEVICE_ID = 0x008, DEVICE_FEATURES = 0x010,
    DEVICE_FEATURES_SEL = 0x014, DRIVER_FEATURES = 0x020, DRIVER_FEATURES_SEL = 0x024,
    QUEUE_SEL = 0x030, QUEUE_NUM_MAX = 0x034, QUEUE_NUM = 0x038, QUEUE_READY = 0x044,
    QUEUE_NOTIFY = 0x050, INTERRUPT_STATUS = 0x060, INTERRUPT_ACK = 0x064, STATUS = 0x070, QUEUE_DESC_LOW = 0x080, QUEUE_DESC_HIGH = 0x084,
    QUEUE_DRIVER_LOW = 0x090, QUEUE_DRIVER_HIGH = 0x094, QUEUE_DEVICE_LOW = 0x0a0,
    QUEUE_DEVICE_HIGH = 0x0a4, CONFIG = 0x100,
};
enum { S_ACKNOWLEDGE = 1, S_DRIVER = 2, S_DRIVER_OK = 4, S_FEATURES_OK = 8 };
#define MMIO_MAGIC 0x74726976u /* "virt" */

extern uint32_t boot_ebx; /* long_mode.S */

static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
/* Orders a store before a later load (x86 keeps every other order). */
static inline void full_barrier(void) { __asm__ volatile("mfence" ::: "memory"); }

void* memset(void* d, int c, size_t n) {
    uint8_t* p = d;
    while (n--) *p++ = (uint8_t)c;
    return d;
}
void* memcpy(void* d, const void* s, size_t n) {
    uint8_t* p = d;
    const uint8_t* q = s;
    while (n--) *p++ = *q++;
    return d;
}
int memcmp(const void* a, const void* b, size_t n) {
    const uint8_t *p = a, *q = b;
    for (; n; --n, ++p, ++q)
        if (*p != *q) return *p < *q ? -1 : 1;
    return 0;
}

void put_str(const char* s) { puts_serial(s); }
void put_u64(uint64_t v) { put_dec(v); }

const struct hvm_start_info* start_info(void) {
    return (const struct hvm_start_info*)(uintptr_t)boot_ebx;
}

const char* guest_cmdline(void) {
    const struct hvm_start_info* si = start_info();
    if (si == 0 || si->magic != 0x336ec578u || si->cmdline_paddr == 0) return "";
    return (const char*)(uintptr_t)si->cmdline_paddr;
}

/* Parses a number at *p (decimal, or hex after 0x) and advances *p past it. */
static uint64_t parse_num(const char** p) {
    const char* s = *p;
    uint64_t v = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        for (s += 2;; ++s) {
            char c = *s;
            unsigned d;
            if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
            else break;
            v = v * 16 + d;
        }
    } else {
        for (; *s >= '0' && *s <= '9'; ++s) v = v * 10 + (uint64_t)(*s - '0');
    }
    *p = s;
    return v;
}

/* The position just after "key" at the start of a word of the command line, or 0. */
static const char* find_word(const char* key) {
    return cmdline_word(guest_cmdline(), key);
}

uint64_t cmdline_u64(const char* key, uint64_t dflt) {
    char buf[64];
    size_t n = 0;
    while (key[n] && n < sizeof buf - 2) buf[n] = key[n], ++n;
    buf[n++] = '=';
    buf[n] = 0;
    const char* p = find_word(buf);
    return p ? parse_num(&p) : dflt;
}

int cmdline_has(const char* key) {
    const char* p = find_word(key);
    return p && (*p == 0 || *p == ' ' || *p == '=');
}

void guest_exit(uint8_t status) {
    outb((uint16_t)cmdline_u64("exit_port", EXIT_PORT), status);
    for (;;) __asm__ volatile("pause"); /* not hlt: that faults at CPL 3 */
}

static uint32_t rd(const struct virtio_dev* d, uint32_t off) { return mmio_read32(d->base + off); }
static void wr(const struct virtio_dev* d, uint32_t off, uint32_t v) { mmio_write32(d->base + off, v); }

/* The devices come from virtio_mmio.device= on the command line: these guests read no ACPI, so
 * their command line says acpi=off, which makes minivmm (and QEMU's microvm) pass them there. */
int virtio_find(uint32_t device_id, int nth, struct virtio_dev* dev) {
    const char* cmdline = guest_cmdline();
    static const char key[] = "virtio_mmio.device=";
    for (const char* p = cmdline; *p; ++p) {
        if (p != cmdline && p[-1] != ' ') continue;
        const char* q = p;
        const char* k = key;
        while (*k && *q == *k) ++k, ++q;
        if (*k) continue;
        parse_num(&q); /* size, with an optional K/M suffix */
        if (*q == 'K' || *q == 'k' || *q == 'M' || *q == 'm') ++q;
        if (*q++ != '@') continue;
        uint64_t base = parse_num(&q);
        if (*q++ != ':') continue;
        uint64_t irq = parse_num(&q);
        struct virtio_dev d = {(uintptr_t)base, 0, (uint32_t)irq, 0};
        if (rd(&d, MAGIC) != MMIO_MAGIC || rd(&d, VERSION) != 2) continue;
        d.device_id = rd(&d, DEVICE_ID);
        if (d.device_id != device_id || nth-- > 0) continue;
        *dev = d;
        return 0;
    }
    return -1;
}

int virtio_negotiate(struct virtio_dev* dev, uint64_t wanted) {
    wr(dev, STATUS, 0);
    wr(dev, STATUS, S_ACKNOWLEDGE);
    wr(dev, STATUS, S_ACKNOWLEDGE | S_DRIVER);
    uint64_t offered = 0;
    for (uint32_t page = 0; page < 2; ++page) {
        wr(dev, DEVICE_FEATURES_SEL, page);
        offered |= (uint64_t)rd(dev, DEVICE_FEATURES) << (32 * page);
    }
    dev->features = offered & (wanted | VIRTIO_F_VERSION_1);
    if (!(dev->features & VIRTIO_F_VERSION_1)) return -1;
    for (uint32_t page = 0; page < 2; ++page) {
        wr(dev, DRIVER_FEATURES_SEL, page);
        wr(dev, DRIVER_FEATURES, (uint32_t)(dev->features >> (32 * page)));
    }
    wr(dev, STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
    if (!(rd(dev, STATUS) & S_FEATURES_OK)) {
        put_str("virtio: FEATURES_OK refused\n");
        return -1;
    }
    return 0;
}

static uintptr_t alloc_next = 0x400000;

void* guest_alloc(size_t bytes) {
    uintptr_t p = alloc_next;
    alloc_next = (p + bytes + 4095) & ~(uintptr_t)4095;
    memset((void*)p, 0, bytes);
    return (void*)p;
}

int virtq_setup(struct virtio_dev* dev, struct virtq* vq, uint16_t index, uint16_t size) {
    if (size == 0 || size > VIRTQ_MAX || (size & (size - 1)) != 0) return -1;
    wr(dev, QUEUE_SEL, index);
    if (rd(dev, QUEUE_READY) != 0 || rd(dev, QUEUE_NUM_MAX) < size) return -1;
    memset(vq, 0, sizeof *vq);
    vq->dev = dev;
    vq->index = index;
    vq->size = size;
    vq->event_idx = (dev->features & VIRTIO_RING_F_EVENT_IDX) != 0;
    vq->desc = guest_alloc(16u * size);
    vq->avail = guest_alloc(6u + 2u * size);
    vq->used_hdr = guest_alloc(6u + 8u * size);
    vq->used_ring = (volatile struct virtq_used_elem*)(vq->used_hdr + 2);
    vq->avail_event = (volatile uint16_t*)(vq->used_ring + size);
    for (uint16_t i = 0; i < size; ++i) vq->desc[i].next = (uint16_t)(i + 1);
    vq->num_free = size;
    wr(dev, QUEUE_NUM, size);
    wr(dev, QUEUE_DESC_LOW, (uint32_t)(uintptr_t)vq->desc);
    wr(dev, QUEUE_DESC_HIGH, (uint32_t)((uint64_t)(uintptr_t)vq->desc >> 32));
    wr(dev, QUEUE_DRIVER_LOW, (uint32_t)(uintptr_t)vq->avail);
    wr(dev, QUEUE_DRIVER_HIGH, (uint32_t)((uint64_t)(uintptr_t)vq->avail >> 32));
    wr(dev, QUEUE_DEVICE_LOW, (uint32_t)(uintptr_t)vq->used_hdr);
    wr(dev, QUEUE_DEVICE_HIGH, (uint32_t)((uint64_t)(uintptr_t)vq->used_hdr >> 32));
    wr(dev, QUEUE_READY, 1);
    return 0;
}

void virtio_driver_ok(struct virtio_dev* dev) {
    wr(dev, STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}
uint32_t virtio_status(const struct virtio_dev* dev) { return rd(dev, STATUS); }
uint32_t virtio_take_interrupts(const struct virtio_dev* dev) {
    uint32_t pending = rd(dev, INTERRUPT_STATUS);
    if (pending) wr(dev, INTERRUPT_ACK, pending);
    return pending;
}
uint32_t virtio_config_read32(const struct virtio_dev* dev, uint32_t offset) {
    return rd(dev, CONFIG + offset);
}
uint8_t virtio_config_read8(const struct virtio_dev* dev, uint32_t offset) {
    return *(volatile uint8_t*)(dev->base + CONFIG + offset);
}

int virtq_add(struct virtq* vq, const struct vbuf* bufs, int n) {
    if (n <= 0 || n > vq->num_free) return -1;
    uint16_t head = vq->free_head, i = head, last = head;
    for (int k = 0; k < n; ++k) {
        volatile struct virtq_desc* d = &vq->desc[i];
        d->addr = bufs[k].addr;
        d->len = bufs[k].len;
        d->flags = (uint16_t)((bufs[k].writable ? VRING_DESC_F_WRITE : 0) |
                              (k + 1 < n ? VRING_DESC_F_NEXT : 0));
        last = i;
        i = d->next;
    }
    vq->free_head = vq->desc[last].next;
    vq->num_free = (uint16_t)(vq->num_free - n);
    vq->avail[2 + (vq->avail_idx & (vq->size - 1))] = head;
    barrier(); /* the ring entry and descriptors before the index (x86: stores stay ordered) */
    vq->avail_idx++;
    vq->avail[1] = vq->avail_idx;
    return head;
}

void virtq_kick(struct virtq* vq) {
    /* The index store above must be visible before we read the device's suppression state
     * (pairs with the device re-checking avail->idx after it re-enables notifications). */
    full_barrier();
    uint16_t old = vq->last_kicked, now = vq->avail_idx;
    if (old == now) return;
    int notify;
    if (vq->event_idx) {
        uint16_t event = *vq->avail_event;
        notify = (uint16_t)(now - event - 1) < (uint16_t)(now - old); /* vring_need_event */
    } else {
        notify = !(vq->used_hdr[0] & VRING_USED_F_NO_NOTIFY);
    }
    vq->last_kicked = now;
    if (notify) {
        wr(vq->dev, QUEUE_NOTIFY, vq->index);
        vq->kicks++;
    }
}

int virtq_get_used(struct virtq* vq, uint16_t* head, uint32_t* len) {
    if (vq->used_hdr[1] == vq->last_used) return 0;
    barrier(); /* read the element only after seeing the index (x86: loads stay ordered) */
    volatile struct virtq_used_elem* e = &vq->used_ring[vq->last_used & (vq->size - 1)];
    uint16_t id = (uint16_t)e->id;
    uint32_t written = e->len;
    vq->last_used++;
    if (vq->event_idx) vq->avail[2 + vq->size] = vq->last_used; /* used_event */
    if (id >= vq->size) return -1;
    /* Return the chain to the free list. */
    uint16_t i = id, n = 1;
    while (vq->desc[i].flags & VRING_DESC_F_NEXT) {
        i = vq->desc[i].next;
        ++n;
    }
    vq->desc[i].next = vq->free_head;
    vq->free_head = id;
    vq->num_free = (uint16_t)(vq->num_free + n);
    *head = id;
    *len = written;
    return 1;
}

int virtq_wait_used(struct virtq* vq, uint16_t* head, uint32_t* len, uint64_t spins) {
    for (uint64_t i = 0; spins == 0 || i < spins; ++i) {
        int r = virtq_get_used(vq, head, len);
        if (r != 0) return r;
        __asm__ volatile("pause");
    }
    return 0;
}
