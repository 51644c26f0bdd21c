#include "net/vnet_header.hpp"

#include <gtest/gtest.h>
#include <linux/if_tun.h>

#include "net_test_util.hpp"

namespace minivmm::test {
namespace {

using net::TxHeaderCheck;

TEST(VnetHeader, SizeIsTwelveWithVersion1OrMrgRxbufAndTenOtherwise) {
    EXPECT_EQ(net::vnet_header_size(0), 10u);
    EXPECT_EQ(net::vnet_header_size(CSUM | GUEST_CSUM), 10u);
    EXPECT_EQ(net::vnet_header_size(V1), 12u);
    EXPECT_EQ(net::vnet_header_size(MRG), 12u);
    EXPECT_EQ(net::vnet_header_size(V1 | MRG), 12u);
}

TEST(VnetHeader, NegotiationLatchesOnlyOfferedBits) {
    // A driver acking what was never offered (HASH_REPORT, GUEST_UFO, MQ, CTRL_VQ).
    const uint64_t not_offered = bit(VIRTIO_NET_F_HASH_REPORT) | bit(VIRTIO_NET_F_GUEST_UFO) |
                                 bit(VIRTIO_NET_F_MQ) | bit(VIRTIO_NET_F_CTRL_VQ) |
                                 bit(VIRTIO_NET_F_HOST_UFO) | bit(VIRTIO_NET_F_GUEST_ECN);
    EXPECT_EQ(net::offered_features() & not_offered, 0u);
    EXPECT_EQ(net::negotiate_features(not_offered | V1), V1);
    EXPECT_EQ(net::negotiate_features(~uint64_t{0}), net::offered_features());
    // The header size follows what was latched, not what was acked.
    EXPECT_EQ(net::vnet_header_size(net::negotiate_features(bit(VIRTIO_NET_F_HASH_REPORT))), 10u);
}

TEST(VnetHeader, NegotiationDropsSegmentationWithoutItsChecksumFeature) {
    EXPECT_EQ(net::negotiate_features(V1 | GUEST_TSO4 | GUEST_TSO6), V1);
    EXPECT_EQ(net::negotiate_features(V1 | HOST_TSO4 | HOST_TSO6), V1);
    EXPECT_EQ(net::negotiate_features(V1 | GUEST_CSUM | GUEST_TSO4), V1 | GUEST_CSUM | GUEST_TSO4);
    EXPECT_EQ(net::negotiate_features(V1 | CSUM | HOST_TSO6), V1 | CSUM | HOST_TSO6);
}

TEST(VnetHeader, TapOffloadsFollowExactlyTheGuestReceiveFeatures) {
    struct Case { uint64_t features; unsigned tun; };
    const Case cases[] = {
        {0, 0},
        {V1 | CSUM | HOST_TSO4 | HOST_TSO6 | MRG, 0},   // transmit offloads are not the tap's
        {GUEST_CSUM, TUN_F_CSUM},
        {GUEST_CSUM | GUEST_TSO4, TUN_F_CSUM | TUN_F_TSO4},
        {GUEST_CSUM | GUEST_TSO6, TUN_F_CSUM | TUN_F_TSO6},
        {GUEST_CSUM | GUEST_TSO4 | GUEST_TSO6, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6},
    };
    for (const auto& c : cases) EXPECT_EQ(net::tun_offloads(c.features), c.tun) << c.features;
}

virtio_net_hdr_v1 hdr(uint8_t flags, uint8_t gso, uint16_t gso_size = 0, uint16_t csum_start = 0,
                      uint16_t csum_offset = 0) {
    virtio_net_hdr_v1 h{};
    h.flags = flags;
    h.gso_type = gso;
    h.gso_size = gso_size;
    h.csum_start = csum_start;
    h.csum_offset = csum_offset;
    return h;
}

TEST(VnetHeader, TransmitHeaderMayOnlyUseNegotiatedOffloads) {
    const uint8_t NC = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    const uint64_t all = V1 | CSUM | HOST_TSO4 | HOST_TSO6;
    struct Case { virtio_net_hdr_v1 h; uint64_t f; size_t len; TxHeaderCheck want; const char* what; };
    const Case cases[] = {
        {hdr(0, 0), V1, 60, TxHeaderCheck::Ok, "plain frame"},
        {hdr(NC, 0, 0, 34, 16), V1, 60, TxHeaderCheck::BadFlags, "NEEDS_CSUM without CSUM"},
        {hdr(NC, 0, 0, 34, 16), V1 | CSUM, 60, TxHeaderCheck::Ok, "NEEDS_CSUM with CSUM"},
        {hdr(NC, 0, 0, 50, 8), V1 | CSUM, 60, TxHeaderCheck::Ok, "checksum ends at the frame end"},
        {hdr(NC, 0, 0, 50, 9), V1 | CSUM, 60, TxHeaderCheck::BadCsum, "checksum past the end"},
        {hdr(NC, 0, 0, 0xffff, 0xffff), V1 | CSUM, 60, TxHeaderCheck::BadCsum, "huge offsets"},
        {hdr(VIRTIO_NET_HDR_F_DATA_VALID, 0), all, 60, TxHeaderCheck::BadFlags, "DATA_VALID"},
        {hdr(0x80, 0), all, 60, TxHeaderCheck::BadFlags, "unknown flag"},
        {hdr(NC, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16), V1 | CSUM, 9000, TxHeaderCheck::BadGso,
         "TSO4 not negotiated"},
        {hdr(NC, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16), all, 9000, TxHeaderCheck::Ok, "TSO4"},
        {hdr(NC, VIRTIO_NET_HDR_GSO_TCPV6, 1440, 54, 16), V1 | CSUM | HOST_TSO4, 9000,
         TxHeaderCheck::BadGso, "TSO6 not negotiated"},
        {hdr(NC, VIRTIO_NET_HDR_GSO_TCPV6, 1440, 54, 16), all, 9000, TxHeaderCheck::Ok, "TSO6"},
        {hdr(NC, VIRTIO_NET_HDR_GSO_UDP, 1448, 34, 6), all, 9000, TxHeaderCheck::BadGso, "UFO"},
        {hdr(NC, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448, 34, 16), all, 9000,
         TxHeaderCheck::BadGso, "ECN"},
        {hdr(NC, VIRTIO_NET_HDR_GSO_TCPV4, 0, 34, 16), all, 9000, TxHeaderCheck::BadGso,
         "gso_size 0"},
        {hdr(0, VIRTIO_NET_HDR_GSO_TCPV4, 1448), all, 9000, TxHeaderCheck::BadGso,
         "GSO without NEEDS_CSUM"},
        {hdr(0, 7), all, 60, TxHeaderCheck::BadGso, "unknown GSO type"},
    };
    for (const auto& c : cases) EXPECT_EQ(net::check_tx_header(c.h, c.f, c.len), c.want) << c.what;
}

TEST(VnetHeader, ReceiveHeaderRefusesOffloadsTheGuestDidNotAccept) {
    const uint8_t NC = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    EXPECT_FALSE(net::rx_header_for_guest(hdr(NC, 0, 0, 34, 16), V1));
    EXPECT_TRUE(net::rx_header_for_guest(hdr(NC, 0, 0, 34, 16), V1 | GUEST_CSUM));
    EXPECT_FALSE(net::rx_header_for_guest(hdr(NC, VIRTIO_NET_HDR_GSO_TCPV4, 1448), V1 | GUEST_CSUM));
    EXPECT_TRUE(net::rx_header_for_guest(hdr(NC, VIRTIO_NET_HDR_GSO_TCPV4, 1448),
                                         V1 | GUEST_CSUM | GUEST_TSO4));
    EXPECT_FALSE(net::rx_header_for_guest(hdr(NC, VIRTIO_NET_HDR_GSO_TCPV6, 1448),
                                          V1 | GUEST_CSUM | GUEST_TSO4));
    EXPECT_FALSE(net::rx_header_for_guest(hdr(NC, VIRTIO_NET_HDR_GSO_UDP, 1448),
                                          net::offered_features()));
}

TEST(VnetHeader, ReceiveHeaderKeepsDataValidOnlyWithGuestCsumAndClearsNumBuffers) {
    virtio_net_hdr_v1 h = hdr(VIRTIO_NET_HDR_F_DATA_VALID | VIRTIO_NET_HDR_F_RSC_INFO, 0);
    h.num_buffers = 77;
    auto plain = net::rx_header_for_guest(h, V1);
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->flags, 0);
    EXPECT_EQ(plain->num_buffers, 0);
    auto valid = net::rx_header_for_guest(h, V1 | GUEST_CSUM);
    ASSERT_TRUE(valid);
    EXPECT_EQ(valid->flags, VIRTIO_NET_HDR_F_DATA_VALID);
}

} // namespace
} // namespace minivmm::test
