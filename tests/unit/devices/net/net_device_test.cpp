#include "net/net_device.hpp"

#include <gtest/gtest.h>
#include <stdexcept>
#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <sys/epoll.h>

#include "net_rig.hpp"
#include "net_test_util.hpp"
#include "vanishing_io.hpp"

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
        {V1 | GUEST_TSO4, 12, 0},   // TSO without GUEST_CSUM is not latched
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

// A rig whose backend can vanish and come back (`io` points into it).
struct VanishingRig {
    VanishingRig() {
        auto pair = net::SocketPairIo::create();
        if (!pair) throw std::runtime_error(pair.error().message());
        auto owned = std::make_unique<VanishingIo>(std::move(pair->first));
        io = owned.get();
        rig = std::make_unique<NetRig>(256, std::move(owned));
        rig->peer = std::move(pair->second);
    }
    uint16_t link_status() {
        uint8_t status[2] = {};
        rig->device->read_config(6, status);
        return static_cast<uint16_t>(status[0] | status[1] << 8);
    }
    VanishingIo* io;
    std::unique_ptr<NetRig> rig;
};

TEST(NetDevice, AVanishedTapIsTriedOnATimerAndOnceBackTheLinkComesUpAndFramesFlow) {
    VanishingRig v;
    NetRig& rig = *v.rig;
    ASSERT_TRUE(rig.activate(V1 | MRG | CSUM | GUEST_CSUM));
    const unsigned configured = v.io->inner().configure_calls();
    rig.post_rx({2000});
    v.io->gone = true;
    rig.send_tx(with_header(12, pattern(60)));
    rig.kick_tx();
    // Lost: link down with one configuration interrupt, the frame completed and counted, the
    // descriptor no longer watched, the timer armed.
    EXPECT_FALSE(rig.device->link_up());
    EXPECT_EQ(v.link_status(), 0);
    EXPECT_EQ(rig.ctx.config_signals, 1u);
    EXPECT_EQ(rig.tx.used_idx(), 1);
    EXPECT_EQ(rig.device->counters().tx_backend_gone, 1u);
    EXPECT_EQ(rig.device->counters().link_lost, 1u);
    EXPECT_EQ(rig.watch.current, 0u);
    ASSERT_TRUE(rig.watch.timer);
    EXPECT_EQ(*rig.watch.timer, net::NetDevice::REATTACH_PERIOD);

    // The timer fires while it is still gone: one try, the timer armed again, nothing else.
    rig.watch.timer.reset();
    rig.backend_ready();
    EXPECT_EQ(v.io->reattach_calls, 1u);
    EXPECT_TRUE(rig.watch.timer);
    EXPECT_FALSE(rig.device->link_up());
    EXPECT_EQ(rig.ctx.config_signals, 1u);

    // Back: configured as at activation, link up with a second interrupt, watched again.
    v.io->exists_again = true;
    rig.watch.timer.reset();
    rig.backend_ready();
    EXPECT_TRUE(rig.device->link_up());
    EXPECT_EQ(v.link_status(), VIRTIO_NET_S_LINK_UP);
    EXPECT_EQ(rig.ctx.config_signals, 2u);
    EXPECT_FALSE(rig.watch.timer);
    EXPECT_EQ(v.io->inner().configure_calls(), configured + 1);
    EXPECT_EQ(v.io->inner().vnet_hdr_size(), 12u);
    EXPECT_EQ(v.io->inner().offloads(), unsigned{TUN_F_CSUM});
    EXPECT_EQ(rig.watch.current, uint32_t{EPOLLIN});
    EXPECT_EQ(rig.device->counters().link_back, 1u);

    // Traffic both ways again.
    rig.send_tx(with_header(12, pattern(80)));
    rig.kick_tx();
    auto out = rig.peer_recv(1000);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->size(), 92u);
    ASSERT_TRUE(rig.peer_send(with_header(12, pattern(70))));
    rig.backend_ready();
    EXPECT_EQ(rig.rx.used_idx(), 1);
    EXPECT_EQ(rig.device->counters().rx_frames, 1u);
}

TEST(NetDevice, ABackendThatCannotComeBackArmsNoTimer) {
    NetRig rig;   // a socketpair: its closed peer never returns
    ASSERT_TRUE(rig.activate(V1));
    rig.peer.reset();
    rig.send_tx(with_header(12, pattern(60)));
    rig.kick_tx();
    EXPECT_FALSE(rig.device->link_up());
    EXPECT_FALSE(rig.watch.timer);
}

TEST(NetDevice, ATapGoneBeforeActivationActivatesWithTheLinkDownAndIsTriedAgain) {
    VanishingRig v;
    NetRig& rig = *v.rig;
    v.io->gone = true;
    rig.post_rx({2000});
    ASSERT_TRUE(rig.activate(V1));   // not a failed activation: a cable that is not plugged in
    EXPECT_FALSE(rig.device->link_up());
    EXPECT_TRUE(rig.watch.timer);
    EXPECT_EQ(rig.watch.current, 0u);
    v.io->exists_again = true;
    rig.backend_ready();
    EXPECT_TRUE(rig.device->link_up());
    EXPECT_EQ(v.io->inner().vnet_hdr_size(), 12u);
    EXPECT_EQ(rig.watch.current, uint32_t{EPOLLIN});
}

TEST(NetDevice, AResetWhileGoneStopsTheTriesUntilTheDriverIsBack) {
    VanishingRig v;
    NetRig& rig = *v.rig;
    ASSERT_TRUE(rig.activate(V1));
    v.io->gone = true;
    rig.send_tx(with_header(12, pattern(60)));
    rig.kick_tx();
    rig.device->reset();
    rig.watch.timer.reset();
    rig.backend_ready();   // an inactive device does nothing (the core would not call it)
    EXPECT_EQ(v.io->reattach_calls, 0u);
    EXPECT_FALSE(rig.watch.timer);
    // The driver again (its queues kept): the link is still down, the tries resume.
    ASSERT_TRUE(rig.device->activate(rig.ctx, V1));
    EXPECT_FALSE(rig.device->link_up());
    EXPECT_TRUE(rig.watch.timer);
}

} // namespace
} // namespace minivmm::test
