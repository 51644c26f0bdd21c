// Receive path, on a socketpair standing in for the
// tap: the test's end of the pair plays the network.
#include "net/net_device.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/epoll.h>

#include "net_rig.hpp"
#include "net_test_util.hpp"

namespace minivmm::test {
namespace {

// Reads the header the device wrote for the guest.
virtio_net_hdr_v1 header_at(NetRig& rig, GuestAddress addr) {
    virtio_net_hdr_v1 h{};
    auto bytes = rig.rx.read(addr, sizeof h);
    std::memcpy(&h, bytes.data(), sizeof h);
    return h;
}

bool device_end_readable(NetRig& rig) {
    pollfd p{rig.socket->fd(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

TEST(NetRx, DeliversAFrameIntoAPostedBufferWithUsedLengthEqualToBytesWritten) {
    for (uint64_t features : {uint64_t{0}, V1, V1 | MRG}) {
        NetRig rig;
        ASSERT_TRUE(rig.activate(features));
        const size_t hdr = rig.device->header_size();
        auto buf = rig.post_rx({2048});
        auto frame = pattern(1514, 7);
        rig.peer_send(with_header(hdr, frame));
        rig.backend_ready();
        auto used = rig.rx.pop_used();
        ASSERT_TRUE(used) << features;
        EXPECT_EQ(used->len, hdr + 1514);
        EXPECT_EQ(rig.rx.read(buf[0] + hdr, 1514), frame);
        if (hdr == 12) {
            EXPECT_EQ(header_at(rig, buf[0]).num_buffers, 1);   // 1 with or without MRG_RXBUF
        }
        EXPECT_EQ(rig.device->counters().rx_frames, 1u);
        EXPECT_EQ(rig.device->counters().rx_bytes, 1514u);
        EXPECT_EQ(rig.ctx.used_signals, 1u);
    }
}

TEST(NetRx, AFrameLargerThanTheBufferIsDroppedAndNothingIsWrittenPastIt) {
    // Without MRG_RXBUF: the buffer goes back with length 0; the bytes after it are
    // untouched.
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1));
    auto small = rig.post_rx({100});
    GuestAddress after = rig.rx.alloc(256);
    rig.rx.fill(after, std::vector<uint8_t>(256, 0xee));
    rig.peer_send(with_header(12, pattern(200)));
    rig.peer_send(with_header(12, pattern(60)));
    rig.backend_ready();
    auto used = rig.rx.pop_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(used->len, 0u);
    EXPECT_EQ(rig.rx.read(after, 256), std::vector<uint8_t>(256, 0xee));
    EXPECT_EQ(rig.device->counters().rx_no_room, 1u);
    // The next frame fits in the next buffer.
    auto big = rig.post_rx({1526});
    rig.kick_rx();
    used = rig.rx.pop_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(used->len, 72u);
    (void)small;
    (void)big;
}

TEST(NetRx, ABufferSmallerThanTheHeaderIsRefusedEvenWithMergeableBuffers) {
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1 | MRG));
    rig.post_rx({8});
    rig.peer_send(with_header(12, pattern(60)));
    rig.backend_ready();
    auto used = rig.rx.pop_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(used->len, 0u);
    EXPECT_EQ(rig.device->counters().rx_no_room, 1u);
}

TEST(NetRx, MergeableBuffersCarryALargeFrameAndNumBuffersCountsThem) {
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1 | MRG));
    std::vector<GuestAddress> bufs;
    for (int i = 0; i < 4; ++i) bufs.push_back(rig.post_rx({1000})[0]);
    auto frame = pattern(2500, 3);
    rig.peer_send(with_header(12, frame));
    rig.backend_ready();
    std::vector<uint8_t> joined;
    const uint32_t want[] = {1000, 1000, 512};
    for (int i = 0; i < 3; ++i) {
        auto used = rig.rx.pop_used();
        ASSERT_TRUE(used) << i;
        EXPECT_EQ(used->len, want[i]) << i;
        auto part = rig.rx.read(bufs[size_t(i)], used->len);
        joined.insert(joined.end(), part.begin(), part.end());
    }
    EXPECT_FALSE(rig.rx.pop_used());   // the 4th buffer is still the guest's
    EXPECT_EQ(header_at(rig, bufs[0]).num_buffers, 3);
    EXPECT_EQ(std::vector<uint8_t>(joined.begin() + 12, joined.end()), frame);
    EXPECT_EQ(rig.ctx.used_signals, 1u);
}

TEST(NetRx, MergeableFrameWaitsForMoreBuffersWithoutPublishingAnyPart) {
    // num_buffers is written while every buffer is still the device's; none is used
    // before the whole frame is in place.
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1 | MRG));
    auto first = rig.post_rx({1000});
    rig.peer_send(with_header(12, pattern(2500)));
    rig.backend_ready();
    EXPECT_EQ(rig.rx.used_idx(), 0);
    EXPECT_EQ(rig.watch.current, 0u);   // stopped reading the tap
    rig.post_rx({1000});
    rig.post_rx({1000});
    rig.kick_rx();
    EXPECT_EQ(rig.rx.used_idx(), 3);
    EXPECT_EQ(header_at(rig, first[0]).num_buffers, 3);
    EXPECT_EQ(rig.device->counters().rx_frames, 1u);
}

TEST(NetRx, MergeableFrameLargerThanTheWholeRingIsDroppedAndTheBuffersReturned) {
    NetRig rig(4);
    ASSERT_TRUE(rig.activate(V1 | MRG));
    for (int i = 0; i < 4; ++i) rig.post_rx({100});
    rig.peer_send(with_header(12, pattern(1000)));
    rig.backend_ready();
    EXPECT_EQ(rig.device->counters().rx_no_room, 1u);
    for (int i = 0; i < 4; ++i) {
        auto used = rig.rx.pop_used();
        ASSERT_TRUE(used);
        EXPECT_EQ(used->len, 0u);
    }
}

TEST(NetRx, NoBuffersStopsReadingTheTapAndBuffersResumeIt) {
    // A flood with no receive buffers. The device reads nothing (bounded memory), stops
    // watching the descriptor (no busy loop), and resumes on the RX notification.
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1));
    for (int i = 0; i < 50; ++i) rig.peer_send(with_header(12, pattern(60, uint8_t(i))));
    rig.backend_ready();
    EXPECT_EQ(rig.watch.current, 0u);
    EXPECT_EQ(rig.device->counters().rx_no_buffers, 1u);
    EXPECT_TRUE(device_end_readable(rig));   // the frames are still queued in the "tap"
    EXPECT_EQ(rig.device->counters().rx_frames, 0u);
    EXPECT_EQ(rig.device->counters().rx_drops(), 0u);
    // The driver asked for RX kicks (notifications enabled again).
    EXPECT_EQ(rig.rx.used_flags() & VRING_USED_F_NO_NOTIFY, 0);
    // Ten buffers: ten frames, in order, then stalled again.
    std::vector<GuestAddress> bufs;
    for (int i = 0; i < 10; ++i) bufs.push_back(rig.post_rx({128})[0]);
    rig.kick_rx();
    EXPECT_EQ(rig.device->counters().rx_frames, 10u);
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(rig.rx.read(bufs[size_t(i)] + 12, 60), pattern(60, uint8_t(i))) << i;
    EXPECT_EQ(rig.watch.current, 0u);
    EXPECT_EQ(rig.device->counters().rx_no_buffers, 2u);
    for (int i = 0; i < 40; ++i) rig.post_rx({128});
    rig.kick_rx();
    EXPECT_EQ(rig.device->counters().rx_frames, 50u);
    EXPECT_EQ(rig.watch.current, 0u);   // all 40 buffers used up again
}

TEST(NetRx, TheTapIsNoLongerWatchedOnceTheLastBufferIsUsedEvenOnTheLastFrameOfTheBudget) {
    // A 1-entry ring: a wakeup's budget is one frame. The frame that takes the last buffer
    // ends the wakeup, and the device stops watching the tap right then.
    NetRig rig(1);
    ASSERT_TRUE(rig.activate(V1));
    rig.post_rx({128});
    rig.peer_send(with_header(12, pattern(60, 1)));
    rig.peer_send(with_header(12, pattern(60, 2)));
    rig.backend_ready();
    EXPECT_EQ(rig.device->counters().rx_frames, 1u);
    EXPECT_EQ(rig.watch.current, 0u);
    EXPECT_EQ(rig.device->counters().rx_no_buffers, 1u);
    ASSERT_TRUE(rig.rx.pop_used());   // the driver takes the frame and posts the buffer again
    rig.post_rx({128});
    rig.kick_rx();
    EXPECT_EQ(rig.device->counters().rx_frames, 2u);
    EXPECT_EQ(rig.watch.current, 0u);
}

TEST(NetRx, BufferPostedWithoutAKickIsStillSeenWhenTheTapWakesUs) {
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1));
    rig.post_rx({128});
    rig.peer_send(with_header(12, pattern(60)));
    rig.backend_ready();
    EXPECT_EQ(rig.device->counters().rx_frames, 1u);
    EXPECT_EQ(rig.watch.current, 0u);   // the ring is empty again: wait for the next buffers
}

TEST(NetRx, ChainsWithDeviceReadableBuffersAreRejectedAndTheFrameTakesTheNextOne) {
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1));
    GuestAddress r = rig.rx.alloc(64), w = rig.rx.alloc(128);
    uint16_t bad = rig.rx.add_chain(
        {{r, 64, virtio::Direction::Readable}, {w, 128, virtio::Direction::Writable}});
    rig.rx.publish();
    auto good = rig.post_rx({128});
    rig.peer_send(with_header(12, pattern(60)));
    rig.backend_ready();
    auto u1 = rig.rx.pop_used();
    ASSERT_TRUE(u1);
    EXPECT_EQ(u1->id, bad);
    EXPECT_EQ(u1->len, 0u);
    auto u2 = rig.rx.pop_used();
    ASSERT_TRUE(u2);
    EXPECT_EQ(u2->len, 72u);
    EXPECT_EQ(rig.rx.read(good[0] + 12, 60), pattern(60));
    EXPECT_EQ(rig.device->counters().rx_bad_chain, 1u);
}

TEST(NetRx, ShortOversizedAndUnacceptedFramesFromTheBackendAreDroppedAndCounted) {
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1));   // no GUEST_CSUM / GUEST_TSO
    rig.post_rx({2048});
    rig.peer_send(pattern(5));                                            // < header
    rig.peer_send(with_header(12, pattern(net::MAX_FRAME_SIZE + 100)));   // > max
    virtio_net_hdr_v1 gso{};
    gso.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    gso.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    gso.gso_size = 1448;
    rig.peer_send(with_header(gso, 12, pattern(3000)));                   // offload refused
    rig.peer_send(with_header(12, pattern(60)));
    rig.backend_ready();
    const auto& c = rig.device->counters();
    EXPECT_EQ(c.rx_short, 1u);
    EXPECT_EQ(c.rx_too_big, 1u);
    EXPECT_EQ(c.rx_bad_header, 1u);
    EXPECT_EQ(c.rx_frames, 1u);
    auto used = rig.rx.pop_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(used->len, 72u);
}

TEST(NetRx, OffloadedFramesReachAGuestThatAcceptedThem) {
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1 | GUEST_CSUM | GUEST_TSO4 | MRG));
    for (int i = 0; i < 8; ++i) rig.post_rx({4096});
    virtio_net_hdr_v1 gso{};
    gso.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    gso.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    gso.gso_size = 1448;
    gso.csum_start = 34;
    gso.csum_offset = 16;
    rig.peer_send(with_header(gso, 12, pattern(9000)));
    rig.backend_ready();
    EXPECT_EQ(rig.device->counters().rx_frames, 1u);
    EXPECT_EQ(rig.rx.used_idx(), 3);   // 9012 bytes in 4096-byte buffers
}

TEST(NetRx, NothingToReadLeavesTheDeviceWaitingForReadability) {
    // EAGAIN on receive.
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1));
    rig.post_rx({128});
    rig.backend_ready();
    EXPECT_EQ(rig.watch.current, uint32_t{EPOLLIN});
    EXPECT_EQ(rig.rx.used_idx(), 0);
    EXPECT_EQ(rig.device->counters().rx_drops(), 0u);
}

TEST(NetRx, AVanishedBackendIsReportedOnceAndNoLongerWatched) {
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1));
    rig.post_rx({128});
    rig.peer.reset();
    rig.backend_ready();
    rig.backend_ready();
    EXPECT_FALSE(rig.device->link_up());
    EXPECT_EQ(rig.ctx.config_signals, 1u);
    EXPECT_EQ(rig.watch.current, 0u);
    EXPECT_EQ(rig.rx.used_idx(), 0);
}

TEST(NetRx, ResetForgetsAPendingFrameAndStopsWork) {
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1 | MRG));
    rig.post_rx({100});
    rig.peer_send(with_header(12, pattern(1000)));
    rig.backend_ready();   // partly placed, waiting for buffers
    EXPECT_EQ(rig.rx.used_idx(), 0);
    rig.device->reset();
    EXPECT_EQ(rig.watch.current, 0u);
    rig.post_rx({2000});
    rig.peer_send(with_header(12, pattern(60)));
    rig.kick_rx();
    rig.backend_ready();
    EXPECT_EQ(rig.rx.used_idx(), 0);   // an inactive device touches no ring
    EXPECT_EQ(rig.device->counters().rx_frames, 0u);
}

} // namespace
} // namespace minivmm::test
