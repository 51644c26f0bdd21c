/* The virtio-blk side of the bare-metal test and benchmark guest (virtio_blk_guest.c and its
 * modes): opening a disk, requests with one header and one status per head, and the data
 * pattern the integration tests recompute on the host (tests/integration/blk_guest_test.cpp
 * holds the same formula). Virtio 1.2 §5.2. */
#pragma once
#include "virtio_guest.h"

#define VIRTIO_BLK_F_RO (1ull << 5)
#define VIRTIO_BLK_F_FLUSH (1ull << 9)
#define VIRTIO_BLK_T_IN 0u
#define VIRTIO_BLK_T_OUT 1u
#define VIRTIO_BLK_T_FLUSH 4u
#define VIRTIO_BLK_T_GET_ID 8u
#define VIRTIO_BLK_S_OK 0u
#define VIRTIO_BLK_S_IOERR 1u
#define VIRTIO_BLK_ID_BYTES 20u
#define BLK_QUEUE_SIZE 256u
#define BLK_STATUS_UNTOUCHED 0xffu /* what a status byte holds until the device writes it */

struct blk_req_hdr {
    uint32_t type, reserved;
    uint64_t sector;
};

/* A request's header and status byte, one cache line per head (a chain's head is unique while
 * it is in flight), so the device writing one request's status and the driver preparing the
 * next request do not share a line. */
struct blk_slot {
    struct blk_req_hdr hdr;
    volatile uint8_t status;
    uint8_t pad[64 - sizeof(struct blk_req_hdr) - 1];
};

struct blk_disk {
    struct virtio_dev dev;
    struct virtq vq;
    uint64_t capacity;                /* sectors */
    int read_only;                    /* VIRTIO_BLK_F_RO offered */
    struct blk_slot* slot;            /* per head */
};

/* Prints "VBLK-FAIL <what>" and ends the VM with status 1. */
__attribute__((noreturn)) void blk_fail(const char* what);

/* The nth virtio-blk device: reset, negotiation (FLUSH, RO, EVENT_IDX, INDIRECT_DESC unless
 * `features` narrows them), queue 0 of BLK_QUEUE_SIZE, DRIVER_OK. 0, or -1 when there is none. */
int blk_open(int nth, struct blk_disk* d, uint64_t features);
/* Resets the device and sets it up again with fresh rings (after DEVICE_NEEDS_RESET). */
void blk_reinit(struct blk_disk* d, uint64_t features);
#define BLK_DEFAULT_FEATURES                                                                     \
    (VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_RO | VIRTIO_RING_F_EVENT_IDX | VIRTIO_RING_F_INDIRECT_DESC)

/* Queues header + data (len bytes, omitted when 0) + status without kicking; the head, or -1
 * when the ring is full. */
int blk_submit(struct blk_disk* d, uint32_t type, uint64_t sector, void* data, uint32_t len);
/* Submits, kicks and waits for that request; its status byte. Fails the guest on a timeout. */
uint8_t blk_sync(struct blk_disk* d, uint32_t type, uint64_t sector, void* data, uint32_t len);
/* Runs `count` requests of `chunk` bytes over [sector, +count*chunk/512) keeping up to `depth`
 * in flight (one kick per batch); each completion's status must be `expect`, else the guest
 * fails with `what`. `buf` holds the whole range. */
void blk_range(struct blk_disk* d, uint32_t type, uint64_t sector, uint8_t* buf, uint64_t bytes,
               uint32_t chunk, uint32_t depth, uint8_t expect, const char* what);

/* The pattern: byte `offset` of disk number `disk` (its place among the --disk options) for
 * `seed` is byte (offset % 8) of splitmix64(seed ^ disk << 56 ^ offset / 8). */
uint64_t splitmix64(uint64_t x);
void blk_pattern(uint64_t seed, unsigned disk, uint64_t offset, uint8_t* buf, uint64_t len);

/* Modes (virtio_blk_guest.c dispatches on mode=). */
void blk_mode_hostile(void);
void blk_mode_bench(void);
