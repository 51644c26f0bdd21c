// The virtio-net header (Virtio 1.2 §5.1.6) as pure functions: which features are latched,
// how big the header is, which tap offloads follow from them, and what a transmitted header
// may ask for / what a received one may tell the guest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include <linux/virtio_config.h>
// The uapi header names a field `class` (virtio_net_ctrl_hdr, control queue, unused here), which
// C++ cannot parse: include it with the keyword renamed.
#define class class_
#include <linux/virtio_net.h>
#undef class

namespace minivmm::net {

constexpr uint64_t bit(unsigned n) { return uint64_t{1} << n; }

// Largest Ethernet frame (vnet header excluded) either way: 64 KiB of GSO payload plus headers.
// With the 12-byte header this is Firecracker's 65562-byte chain limit.
constexpr size_t MAX_FRAME_SIZE = 65550;
constexpr size_t MAX_VNET_HDR_SIZE = sizeof(virtio_net_hdr_v1);   // 12
static_assert(sizeof(virtio_net_hdr) == 10 && sizeof(virtio_net_hdr_v1) == 12);

// Every feature the device offers (VIRTIO_F_VERSION_1 included); without `offloads` (a
// backend that carries no vnet header) no checksum or segmentation offload.
uint64_t offered_features(bool offloads = true);

// What is latched from the driver's acknowledgement: bits not offered are dropped, and so are
// offloads whose prerequisite is missing (GUEST_TSO* without GUEST_CSUM, HOST_TSO* without
// CSUM), as §5.1.3.1 forbids them.
uint64_t negotiate_features(uint64_t acked, bool offloads = true);

// 12 bytes (virtio_net_hdr_v1, num_buffers included) with VERSION_1 or MRG_RXBUF, else 10.
size_t vnet_header_size(uint64_t features);

// TUN_F_* for TUNSETOFFLOAD: exactly what the guest accepts on receive (GUEST_CSUM -> CSUM,
// GUEST_TSO4/6 -> TSO4/6).
unsigned tun_offloads(uint64_t features);

enum class TxHeaderCheck : uint8_t {
    Ok,
    BadFlags,   // DATA_VALID/RSC_INFO/unknown bits, or NEEDS_CSUM without CSUM
    BadCsum,    // csum_start + csum_offset + 2 beyond the frame
    BadGso,     // a GSO type not negotiated (or UDP/ECN), no gso_size, or GSO without NEEDS_CSUM
};

// A transmitted header (copied out of the guest) against the negotiated features and the frame
// length (header excluded).
TxHeaderCheck check_tx_header(const virtio_net_hdr_v1& hdr, uint64_t features, size_t frame_len);

// The header the guest gets for a frame the tap delivered: nothing when the frame uses an
// offload the guest did not accept (the frame is dropped); DATA_VALID is cleared without
// GUEST_CSUM (it is a hint). num_buffers is left 0: the device fills it in.
std::optional<virtio_net_hdr_v1> rx_header_for_guest(const virtio_net_hdr_v1& from_tap,
                                                     uint64_t features);

} // namespace minivmm::net
