/* A polling virtio-mmio (version 2) driver for the bare-metal test and benchmark guests: it runs
 * at CPL 3 in 64-bit mode (long_mode.S), where a PVM host runs guest code natively, finds its
 * devices on the command line (virtio_mmio.device=<size>@<base>:<irq>, as minivmm and QEMU's
 * microvm write it), and drives split virtqueues without interrupts. Virtio 1.2 §2.7, §4.2. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "hw.h"
#include "start_info.h"

#define VIRTIO_ID_NET 1u
#define VIRTIO_ID_BLOCK 2u
#define VIRTIO_ID_RNG 4u
#define VIRTIO_F_VERSION_1 (1ull << 32)
#define VIRTIO_RING_F_INDIRECT_DESC (1ull << 28)
#define VIRTIO_RING_F_EVENT_IDX (1ull << 29)
#define VRING_DESC_F_NEXT 1u
#define VRING_DESC_F_WRITE 2u
#define VRING_DESC_F_INDIRECT 4u
#define VRING_USED_F_NO_NOTIFY 1u
#define VRING_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_MAX 256u


struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};
struct virtq_used_elem {
    uint32_t id, len;
};

struct virtio_dev {
    uintptr_t base;      /* the MMIO window */
    uint32_t device_id;  /* VIRTIO_ID_* */
    uint32_t irq;
    uint64_t features;   /* negotiated */
};

struct virtq {
    struct virtio_dev* dev;
    uint16_t index, size;
    volatile struct virtq_desc* desc;
    volatile uint16_t* avail;            /* flags, idx, ring[size], used_event */
    volatile uint16_t* used_hdr;         /* flags, idx */
    volatile struct virtq_used_elem* used_ring;
    volatile uint16_t* avail_event;      /* after the used ring */
    uint16_t free_head, num_free, avail_idx, last_used, last_kicked;
    int event_idx;
    uint32_t kicks;                      /* notifications actually written */
};

/* A buffer of a chain: guest-physical address (= virtual here), length, device-writable. */
struct vbuf {
    uint64_t addr;
    uint32_t len;
    int writable;
};

/* Command line and start info. */
const struct hvm_start_info* start_info(void);
const char* guest_cmdline(void);
/* The value of "key=" on the command line as a number (decimal or 0x hex), or dflt. */
uint64_t cmdline_u64(const char* key, uint64_t dflt);
/* 1 when the command line holds the word "key" or "key=...". */
int cmdline_has(const char* key);

/* The nth (from 0) virtio-mmio version-2 device of type device_id on the command line;
 * 0 on success, -1 when there is none. */
int virtio_find(uint32_t device_id, int nth, struct virtio_dev* dev);
/* Reset, ACKNOWLEDGE, DRIVER, negotiate wanted & offered (VERSION_1 is required), FEATURES_OK.
 * 0 on success, -1 when the device refused (status printed). */
int virtio_negotiate(struct virtio_dev* dev, uint64_t wanted);
/* Sets up queue `index` with `size` entries (power of two, <= VIRTQ_MAX, <= QueueNumMax). */
int virtq_setup(struct virtio_dev* dev, struct virtq* vq, uint16_t index, uint16_t size);
void virtio_driver_ok(struct virtio_dev* dev);
uint32_t virtio_status(const struct virtio_dev* dev);
/* InterruptStatus, acknowledged (bit 0: used buffers, bit 1: configuration change); a polling
 * driver reads it to see the interrupts the device raised. */
uint32_t virtio_take_interrupts(const struct virtio_dev* dev);
uint32_t virtio_config_read32(const struct virtio_dev* dev, uint32_t offset);
uint8_t virtio_config_read8(const struct virtio_dev* dev, uint32_t offset);

/* Places a chain (readable buffers first, as the spec requires) on the available ring without
 * notifying; returns its head, or -1 when the ring has too few free descriptors. */
int virtq_add(struct virtq* vq, const struct vbuf* bufs, int n);
/* Notifies the device of everything added since the last kick, unless it asked not to be
 * (VRING_USED_F_NO_NOTIFY, or avail_event with EVENT_IDX). */
void virtq_kick(struct virtq* vq);
/* Takes one used element: 1 with its head and written length, 0 when none is pending. The
 * chain's descriptors return to the free list. */
int virtq_get_used(struct virtq* vq, uint16_t* head, uint32_t* len);
/* Spins until an element is used (bounded by `spins`; 0 = forever): 1 when one came. */
int virtq_wait_used(struct virtq* vq, uint16_t* head, uint32_t* len, uint64_t spins);

/* Page-aligned zeroed memory from a bump allocator over guest RAM at 4 MiB and up. */
void* guest_alloc(size_t bytes);

/* Ends the VM with `status`: a byte to minivmm's exit port 0x510, or to the port given as
 * exit_port= (QEMU: isa-debug-exit at 0xf4; its 0x510 is fw_cfg). */
__attribute__((noreturn)) void guest_exit(uint8_t status);

/* Output and timing. */
void put_str(const char* s);
void put_u64(uint64_t v);
static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
void* memset(void* d, int c, size_t n);
void* memcpy(void* d, const void* s, size_t n);
int memcmp(const void* a, const void* b, size_t n);
