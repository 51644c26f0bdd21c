/* What virtio_net_guest.c shares with its relink mode (virtio_net_relink.c): the device, its
 * set-up, numbered frames out and the receive check. Virtio 1.2 §5.1. */
#pragma once
#include "virtio_guest.h"

#define VIRTIO_NET_F_MAC (1ull << 5)
#define VIRTIO_NET_F_MRG_RXBUF (1ull << 15)
#define VIRTIO_NET_F_STATUS (1ull << 16)
#define VIRTIO_NET_S_LINK_UP 1u
#define STATUS_OFFSET 6u   /* struct virtio_net_config: mac[6], then status */
#define HDR 12u            /* virtio_net_hdr_v1: VERSION_1 always has num_buffers */

extern struct virtio_dev dev;
/* Prints VNET-FAIL and the reason, exits with status 1. */
void fail(const char* what);
/* Negotiates the features (and `extra_features`), sets up both rings, posts the receive
 * buffers; DRIVER_OK unless `hold_driver_ok`. */
void setup(int hold_driver_ok, uint64_t extra_features);
/* Sends frame `seq` of `len` bytes (broadcast); returns its length on the wire. */
uint32_t send_numbered(uint32_t seq, uint32_t len);
/* Receives `rx` frames of the test's EtherType, checks them and prints VNET-RX. */
void receive_and_check(uint32_t rx);
void relink_mode(void);
