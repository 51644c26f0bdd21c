#include "net/net_device.hpp"

#include <gtest/gtest.h>
#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <sys/epoll.h>

#include "net_rig.hpp"
#include "net_test_util.hpp"

namespace minivmm::test {
namespace {

TEST(NetDevice, IsANetworkDeviceWithTwoQueuesAndTheDocumentedFeatures) {
    NetRig rig;
    EXPECT_EQ(rig.device->device_type(), uint32_t{VIRTIO_ID_NET});
    EXPECT_EQ(rig.device->num_queues(), 2u);
    const uint64_t want = V1 | bit(VIRTIO_NET_F_MAC) | bit(VIRTIO_NET_F_STATUS) | CSUM |
                          GUEST_CSUM | HOST_TSO4 | HOST_TSO6 | GUEST_TSO4 | GUEST_TSO6 | MRG |
                          virtio::FEATURE_EVENT_IDX | virtio::FEATURE_INDIRECT_DESC;
    EXPECT_EQ(rig.device->features(), want);
}

TEST(NetDevice, ConfigSpaceHoldsMacLinkUpAndOneQueuePair) {
    NetRig rig;
    ASSERT_EQ(rig.device->config_size(), 10u);
    uint8_t config[10] = {};
    rig.device->read_config(0, config);
    EXPECT_EQ(std::vector<uint8_t>(config, config + 6),
              std::vector<uint8_t>(NetRig::MAC.begin(), NetRig::MAC.end()));
    EXPECT_EQ(config[6] | config[7] << 8, VIRTIO_NET_S_LINK_UP);
    EXPECT_EQ(config[8] | config[9] << 8, 1);
    uint8_t status[2] = {};
    rig.device->read_config(6, status);   // a partial read at an offset
    EXPECT_EQ(status[0], VIRTIO_NET_S_LINK_UP);
}

TEST(NetDevice, ActivationGivesTheBackendTheNegotiatedHeaderSizeAndOffloads) {
    struct Case { uint64_t acked; size_t hdr; unsigned offloads; };
    const Case cases[] = {
        {0, 10, 0},
        {V1, 12, 0},
        {MRG, 12, 0},
        {V1 | GUEST_CSUM | GUEST_TSO4 | GUEST_TSO6, 12, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6},
        {V1 | GUEST_TSO4, 12, 0},   // TSO without GUEST_CSUM is not latched (NET-07)
        {V1 | bit(VIRTIO_NET_F_HASH_REPORT) | bit(VIRTIO_NET_F_GUEST_UFO), 12, 0},
    };
    for (const auto& c : cases) {
        NetRig rig;
        ASSERT_TRUE(rig.activate(c.acked));
        EXPECT_EQ(rig.device->header_size(), c.hdr) << c.acked;
        EXPECT_EQ(rig.socket->vnet_hdr_size(), c.hdr) << c.acked;
        EXPECT_EQ(rig.socket->offloads(), c.offloads) << c.acked;
        EXPECT_EQ(rig.device->negotiated_features(), net::negotiate_features(c.acked));
    }
}

TEST(NetDevice, WatchesTheBackendOnlyWhileActive) {
    NetRig rig;
    EXPECT_EQ(rig.watch.current, 0u);
    ASSERT_TRUE(rig.activate(V1));
    EXPECT_EQ(rig.watch.current, uint32_t{EPOLLIN});
    rig.device->reset();
    EXPECT_EQ(rig.watch.current, 0u);
}

TEST(NetDevice, IgnoresNotificationsBeforeActivation) {
    NetRig rig;
    rig.send_tx(with_header(12, pattern(60)));
    rig.kick_tx();
    rig.backend_ready();
    EXPECT_FALSE(rig.peer_recv());
    EXPECT_EQ(rig.device->counters().tx_frames, 0u);
}

} // namespace
} // namespace minivmm::test
