// Virtio 1.2 §5.1.3 (feature bits), §5.1.6.2 (transmit header), §5.1.6.4 (receive header).
#include "net/vnet_header.hpp"

#include <linux/if_tun.h>

#include "virtio/virtio_ring.hpp"

namespace minivmm::net {

uint64_t offered_features(bool offloads) {
    const uint64_t base = bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_NET_F_MAC) |
                          bit(VIRTIO_NET_F_STATUS) | bit(VIRTIO_NET_F_MRG_RXBUF) |
                          virtio::FEATURE_EVENT_IDX | virtio::FEATURE_INDIRECT_DESC;
    if (!offloads) return base;
    return base | bit(VIRTIO_NET_F_CSUM) | bit(VIRTIO_NET_F_GUEST_CSUM) |
           bit(VIRTIO_NET_F_HOST_TSO4) | bit(VIRTIO_NET_F_HOST_TSO6) |
           bit(VIRTIO_NET_F_GUEST_TSO4) | bit(VIRTIO_NET_F_GUEST_TSO6);
}

uint64_t negotiate_features(uint64_t acked, bool offloads) {
    uint64_t f = acked & offered_features(offloads);
    if (!(f & bit(VIRTIO_NET_F_GUEST_CSUM)))
        f &= ~(bit(VIRTIO_NET_F_GUEST_TSO4) | bit(VIRTIO_NET_F_GUEST_TSO6));
    if (!(f & bit(VIRTIO_NET_F_CSUM)))
        f &= ~(bit(VIRTIO_NET_F_HOST_TSO4) | bit(VIRTIO_NET_F_HOST_TSO6));
    return f;
}

size_t vnet_header_size(uint64_t features) {
    return (features & (bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_NET_F_MRG_RXBUF)))
               ? sizeof(virtio_net_hdr_v1)
               : sizeof(virtio_net_hdr);
}

unsigned tun_offloads(uint64_t features) {
    unsigned t = 0;
    if (features & bit(VIRTIO_NET_F_GUEST_CSUM)) t |= TUN_F_CSUM;
    if (features & bit(VIRTIO_NET_F_GUEST_TSO4)) t |= TUN_F_TSO4;
    if (features & bit(VIRTIO_NET_F_GUEST_TSO6)) t |= TUN_F_TSO6;
    return t;
}

namespace {
// Whether a GSO type (ECN bit included) is allowed by the two TSO feature bits given.
bool gso_allowed(uint8_t gso_type, uint64_t features, unsigned tso4, unsigned tso6) {
    switch (gso_type) {
    case VIRTIO_NET_HDR_GSO_TCPV4: return features & bit(tso4);
    case VIRTIO_NET_HDR_GSO_TCPV6: return features & bit(tso6);
    default: return false;   // UDP, ECN and unknown types: never offered
    }
}
} // namespace

TxHeaderCheck check_tx_header(const virtio_net_hdr_v1& hdr, uint64_t features, size_t frame_len) {
    const bool needs_csum = hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
    if (hdr.flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM) return TxHeaderCheck::BadFlags;
    if (needs_csum) {
        if (!(features & bit(VIRTIO_NET_F_CSUM))) return TxHeaderCheck::BadFlags;
        // Summed in size_t: both fields are 16-bit, no overflow.
        if (size_t{hdr.csum_start} + hdr.csum_offset + 2 > frame_len) return TxHeaderCheck::BadCsum;
    }
    if (hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
        if (!gso_allowed(hdr.gso_type, features, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6) ||
            hdr.gso_size == 0 || !needs_csum)
            return TxHeaderCheck::BadGso;
    }
    return TxHeaderCheck::Ok;
}

std::optional<virtio_net_hdr_v1> rx_header_for_guest(const virtio_net_hdr_v1& from_tap,
                                                     uint64_t features) {
    virtio_net_hdr_v1 hdr = from_tap;
    hdr.num_buffers = 0;
    const bool guest_csum = features & bit(VIRTIO_NET_F_GUEST_CSUM);
    if ((hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !guest_csum) return std::nullopt;
    if (hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE &&
        !gso_allowed(hdr.gso_type, features, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6))
        return std::nullopt;
    uint8_t allowed = VIRTIO_NET_HDR_F_NEEDS_CSUM | (guest_csum ? VIRTIO_NET_HDR_F_DATA_VALID : 0);
    hdr.flags = static_cast<uint8_t>(hdr.flags & allowed);
    return hdr;
}

} // namespace minivmm::net
