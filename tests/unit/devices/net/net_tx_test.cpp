// Transmit path, on a socketpair standing in for the tap.
#include "net/net_device.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <thread>
#include <sys/socket.h>

#include "net_rig.hpp"
#include "net_test_util.hpp"

namespace minivmm::test {
namespace {

struct FeatureCase { uint64_t features; size_t hdr; const char* name; };
const FeatureCase FEATURE_CASES[] = {
    {0, 10, "legacy header"},
    {V1, 12, "VERSION_1"},
    {V1 | MRG, 12, "VERSION_1+MRG_RXBUF"},
    {V1 | CSUM | HOST_TSO4 | HOST_TSO6 | GUEST_CSUM | GUEST_TSO4 | GUEST_TSO6 | MRG, 12, "all"},
};

TEST(NetTx, SendsHeaderAndFrameAsOneMessageForEachFeatureSet) {
    for (const auto& c : FEATURE_CASES) {
        NetRig rig;
        ASSERT_TRUE(rig.activate(c.features));
        auto frame = pattern(60);
        uint16_t head = rig.send_tx(with_header(c.hdr, frame));
        rig.kick_tx();
        auto got = rig.peer_recv(1000);
        ASSERT_TRUE(got) << c.name;
        EXPECT_EQ(*got, with_header(c.hdr, frame)) << c.name;
        auto used = rig.tx.pop_used();
        ASSERT_TRUE(used) << c.name;
        EXPECT_EQ(used->id, head);
        EXPECT_EQ(used->len, 0u);
        EXPECT_EQ(rig.device->counters().tx_frames, 1u);
        EXPECT_EQ(rig.device->counters().tx_bytes, 60u);
        EXPECT_EQ(rig.ctx.used_signals, 1u);
    }
}

TEST(NetTx, GathersAHeaderSplitOverDescriptorsAndZeroesNumBuffers) {
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1 | CSUM));
    virtio_net_hdr_v1 hdr{};
    hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    hdr.csum_start = 34;
    hdr.csum_offset = 6;
    hdr.num_buffers = 9;   // meaningless on transmit: not passed on
    auto frame = pattern(1514);
    rig.send_tx(with_header(hdr, 12, frame), {5, 7, 1000, 514});
    rig.kick_tx();
    auto got = rig.peer_recv(1000);
    ASSERT_TRUE(got);
    hdr.num_buffers = 0;
    EXPECT_EQ(*got, with_header(hdr, 12, frame));
}

TEST(NetTx, ChainsShorterThanTheHeaderAreDroppedCountedAndTheDeviceGoesOn) {
    // 0, 1 and 11 bytes with a 12-byte header.
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1));
    GuestAddress empty = rig.tx.alloc(16);
    rig.tx.add_chain({{empty, 0, virtio::Direction::Readable}});   // a zero-length descriptor
    rig.tx.publish();
    rig.send_tx(pattern(1));
    rig.send_tx(pattern(11));
    rig.send_tx(with_header(12, pattern(60)));
    rig.kick_tx();
    EXPECT_EQ(rig.device->counters().tx_short, 3u);
    EXPECT_EQ(rig.device->counters().tx_frames, 1u);
    auto got = rig.peer_recv(1000);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->size(), 72u);
    EXPECT_FALSE(rig.peer_recv());
    for (int i = 0; i < 4; ++i) {
        auto used = rig.tx.pop_used();
        ASSERT_TRUE(used);
        EXPECT_EQ(used->len, 0u);
    }
}

TEST(NetTx, ChainsLongerThanTheMaximumFrameAreDropped) {
    // 65562 bytes (12 + 65550) is the limit.
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1));
    rig.send_tx(with_header(12, pattern(net::MAX_FRAME_SIZE + 1)), {32768, 32768, 27});
    rig.send_tx(with_header(12, pattern(net::MAX_FRAME_SIZE)), {32768, 32768, 26});
    rig.kick_tx();
    EXPECT_EQ(rig.device->counters().tx_too_big, 1u);
    EXPECT_EQ(rig.device->counters().tx_frames, 1u);
    auto got = rig.peer_recv(1000);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->size(), 65562u);
}

TEST(NetTx, ChainsWithDeviceWritableBuffersAreRejectedWithLengthZero) {
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1));
    GuestAddress a = rig.tx.alloc(72), b = rig.tx.alloc(64);
    rig.tx.fill(a, with_header(12, pattern(60)));
    uint16_t head = rig.tx.add_chain(
        {{a, 72, virtio::Direction::Readable}, {b, 64, virtio::Direction::Writable}});
    rig.tx.publish();
    rig.kick_tx();
    EXPECT_FALSE(rig.peer_recv());
    auto used = rig.tx.pop_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(used->id, head);
    EXPECT_EQ(used->len, 0u);
    EXPECT_EQ(rig.device->counters().tx_bad_chain, 1u);
}

TEST(NetTx, HeadersAskingForOffloadsNotNegotiatedAreDropped) {
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1));   // no CSUM, no HOST_TSO
    virtio_net_hdr_v1 hdr{};
    hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    hdr.gso_size = 1448;
    rig.send_tx(with_header(hdr, 12, pattern(3000)));
    rig.kick_tx();
    EXPECT_FALSE(rig.peer_recv());
    EXPECT_EQ(rig.device->counters().tx_bad_header, 1u);
}

TEST(NetTx, EagainWaitsForWritabilityWithoutLosingOrRepeatingFrames) {
    // The backend full. The device keeps the frame, asks for EPOLLOUT, does not spin.
    NetRig rig;
    int small = 4096;
    ASSERT_EQ(::setsockopt(rig.socket->fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    ASSERT_TRUE(rig.activate(V1));
    const int frames = 200;
    for (int i = 0; i < frames; ++i)
        rig.send_tx(with_header(12, pattern(1000, static_cast<uint8_t>(i))));
    rig.kick_tx();
    const auto& c = rig.device->counters();
    ASSERT_GT(c.tx_would_block, 0u);
    EXPECT_LT(c.tx_frames, uint64_t{frames});
    EXPECT_TRUE(rig.watch.current & EPOLLOUT);
    EXPECT_EQ(rig.tx.used_idx(), c.tx_frames);   // the blocked frame is not completed
    // A kick while blocked does not make progress nor drop anything.
    uint64_t sent = c.tx_frames;
    rig.kick_tx();
    EXPECT_EQ(c.tx_frames, sent);
    // The peer drains; each writability wakeup sends more, in order.
    std::vector<std::vector<uint8_t>> got;
    for (int round = 0; round < 10000 && got.size() < frames; ++round) {
        while (auto m = rig.peer_recv()) got.push_back(*m);
        rig.backend_ready();
    }
    ASSERT_EQ(got.size(), size_t{frames});
    for (int i = 0; i < frames; ++i)
        EXPECT_EQ(got[size_t(i)], with_header(12, pattern(1000, static_cast<uint8_t>(i)))) << i;
    EXPECT_EQ(c.tx_frames, uint64_t{frames});
    EXPECT_EQ(c.tx_drops(), 0u);
    EXPECT_FALSE(rig.watch.current & EPOLLOUT);
    EXPECT_EQ(rig.tx.used_idx(), frames);
}

// A backend that tries every frame of a batch in one call, as the tap's io_uring does, and
// can be told to refuse some with EAGAIN (then later ones of the same batch still go out).
class BatchRecorder : public net::PacketIo {
public:
    net::IoResult send(std::span<const iovec> pieces) noexcept override {
        std::vector<uint8_t> f;
        for (const iovec& p : pieces) {
            auto* b = static_cast<const uint8_t*>(p.iov_base);
            f.insert(f.end(), b, b + p.iov_len);
        }
        if (would_block_next > 0) {
            --would_block_next;
            return {net::IoStatus::WouldBlock, 0, EAGAIN};
        }
        sent.push_back(f);
        return {net::IoStatus::Ok, f.size()};
    }
    size_t send_batch(std::span<const std::span<const iovec>> frames,
                      std::span<net::IoResult> results) noexcept override {
        batches.push_back(frames.size());
        for (size_t i = 0; i < frames.size(); ++i) {
            if (block_at && *block_at == i) {
                block_at.reset();
                results[i] = {net::IoStatus::WouldBlock, 0, EAGAIN};
                continue;
            }
            results[i] = send(frames[i]);
        }
        return frames.size();
    }
    net::IoResult recv(std::span<uint8_t>) noexcept override {
        return {net::IoStatus::WouldBlock, 0, EAGAIN};
    }
    int fd() const override { return -1; }
    Result<void> configure(size_t, unsigned) override { return {}; }
    std::string name() const override { return "batch-recorder"; }

    std::vector<std::vector<uint8_t>> sent;
    std::vector<size_t> batches;   // frames offered per send_batch call
    std::optional<size_t> block_at;
    unsigned would_block_next = 0;
};

TEST(NetTx, FramesGoToTheBackendInBatchesOfUpToTxBatch) {
    auto io = std::make_unique<BatchRecorder>();
    BatchRecorder* rec = io.get();
    NetRig rig(256, std::move(io));
    ASSERT_TRUE(rig.activate(V1));
    const size_t frames = net::NetDevice::TX_BATCH * 2 + 5;
    for (size_t i = 0; i < frames; ++i)
        rig.send_tx(with_header(12, pattern(60 + i, static_cast<uint8_t>(i))));
    rig.kick_tx();
    ASSERT_EQ(rec->sent.size(), frames);
    for (size_t i = 0; i < frames; ++i)
        EXPECT_EQ(rec->sent[i], with_header(12, pattern(60 + i, static_cast<uint8_t>(i)))) << i;
    EXPECT_EQ(rec->batches, (std::vector<size_t>{net::NetDevice::TX_BATCH,
                                                 net::NetDevice::TX_BATCH, 5}));
    EXPECT_EQ(rig.tx.used_idx(), frames);
    EXPECT_EQ(rig.ctx.used_signals, 3u);   // one interrupt check per batch, each wanted here
}

TEST(NetTx, AFrameRefusedInTheMiddleOfABatchWaitsAndTheOthersAreCompletedOnce) {
    // The io_uring case: frame 3 of the batch would block, 4.. went out all the same.
    auto io = std::make_unique<BatchRecorder>();
    BatchRecorder* rec = io.get();
    NetRig rig(256, std::move(io));
    ASSERT_TRUE(rig.activate(V1));
    rec->block_at = 3;
    for (int i = 0; i < 8; ++i) rig.send_tx(with_header(12, pattern(60, uint8_t(i))));
    rig.kick_tx();
    const auto& c = rig.device->counters();
    EXPECT_EQ(c.tx_frames, 7u);
    EXPECT_EQ(c.tx_would_block, 1u);
    EXPECT_EQ(rig.tx.used_idx(), 7);
    EXPECT_TRUE(rig.watch.current & EPOLLOUT);
    // Still full: the retry is refused again, nothing is completed twice.
    rec->would_block_next = 1;
    rig.backend_ready();
    EXPECT_EQ(c.tx_frames, 7u);
    EXPECT_EQ(rig.tx.used_idx(), 7);
    rig.backend_ready();
    EXPECT_EQ(c.tx_frames, 8u);
    EXPECT_EQ(rig.tx.used_idx(), 8);
    EXPECT_FALSE(rig.watch.current & EPOLLOUT);
    ASSERT_EQ(rec->sent.size(), 8u);
    EXPECT_EQ(rec->sent.back(), with_header(12, pattern(60, 3)));   // sent once, last
    std::vector<uint32_t> heads;
    for (int i = 0; i < 8; ++i) {
        auto used = rig.tx.pop_used();
        ASSERT_TRUE(used);
        heads.push_back(used->id);
    }
    std::sort(heads.begin(), heads.end());
    EXPECT_EQ(std::adjacent_find(heads.begin(), heads.end()), heads.end());   // each head once
    EXPECT_EQ(c.tx_drops(), 0u);
}

TEST(NetTx, BackendErrorsAreCountedAndTheNextFrameGoesThrough) {
    // EMSGSIZE (a message larger than the socket's send buffer).
    NetRig rig;
    int small = 4096;
    ASSERT_EQ(::setsockopt(rig.socket->fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    ASSERT_TRUE(rig.activate(V1));
    rig.send_tx(with_header(12, pattern(60000)), {30000, 30012});
    rig.send_tx(with_header(12, pattern(60)));
    rig.kick_tx();
    EXPECT_EQ(rig.device->counters().tx_io_errors, 1u);
    EXPECT_EQ(rig.device->counters().tx_frames, 1u);
    auto got = rig.peer_recv(1000);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->size(), 72u);
    EXPECT_EQ(rig.tx.used_idx(), 2);
}

TEST(NetTx, AVanishedBackendIsReportedOnceAndLaterFramesAreCompleted) {
    // EBADF-like: the peer is gone (a deleted tap gives EBADFD, a closed socket EPIPE).
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1));
    rig.peer.reset();
    for (int i = 0; i < 5; ++i) rig.send_tx(with_header(12, pattern(60)));
    rig.kick_tx();
    EXPECT_FALSE(rig.device->link_up());
    EXPECT_EQ(rig.ctx.config_signals, 1u);
    EXPECT_EQ(rig.device->counters().tx_backend_gone, 5u);
    EXPECT_EQ(rig.tx.used_idx(), 5);
    EXPECT_EQ(rig.watch.current, 0u);   // nothing to wait for any more
    uint8_t status[2];
    rig.device->read_config(6, status);
    EXPECT_EQ(status[0], 0);   // link down in the config space
    rig.send_tx(with_header(12, pattern(60)));
    rig.kick_tx();
    EXPECT_EQ(rig.ctx.config_signals, 1u);
    EXPECT_EQ(rig.tx.used_idx(), 6);
}

TEST(NetTx, ABrokenRingAsksForAReset) {
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1));
    rig.tx.set_avail_idx(1000);   // more than the ring size ahead
    rig.kick_tx();
    EXPECT_TRUE(rig.ctx.needs_reset);
}

TEST(NetTx, InterruptsFollowTheDriversSuppressionFlag) {
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1));
    rig.tx.set_avail_flags(VRING_AVAIL_F_NO_INTERRUPT);
    rig.send_tx(with_header(12, pattern(60)));
    rig.kick_tx();
    EXPECT_EQ(rig.ctx.used_signals, 0u);
    rig.tx.set_avail_flags(0);
    rig.send_tx(with_header(12, pattern(60)));
    rig.send_tx(with_header(12, pattern(60)));
    rig.kick_tx();
    EXPECT_EQ(rig.ctx.used_signals, 1u);   // one interrupt for the batch
}

TEST(NetTx, AFullRingIsServedABudgetPerWakeupAndTheLoopBringsTheDeviceBack) {
    // A guest that keeps the ring full must not keep the I/O thread to itself: after its
    // budget the device asks for EPOLLOUT (a tap is writable at once), the loop runs its other
    // work and comes back; notifications stay off meanwhile.
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1));
    rig.device->set_tx_budget(8);
    for (int i = 0; i < 20; ++i) rig.send_tx(with_header(12, pattern(60, uint8_t(i))));
    rig.kick_tx();
    const auto& c = rig.device->counters();
    EXPECT_EQ(c.tx_frames, 8u);
    EXPECT_TRUE(rig.watch.current & EPOLLOUT);
    EXPECT_NE(rig.tx.used_flags() & VRING_USED_F_NO_NOTIFY, 0);
    rig.backend_ready();
    EXPECT_EQ(c.tx_frames, 16u);
    EXPECT_TRUE(rig.watch.current & EPOLLOUT);
    rig.backend_ready();
    EXPECT_EQ(c.tx_frames, 20u);
    EXPECT_FALSE(rig.watch.current & EPOLLOUT);
    EXPECT_EQ(rig.tx.used_flags() & VRING_USED_F_NO_NOTIFY, 0);   // asks for kicks again
    for (int i = 0; i < 20; ++i) {
        auto got = rig.peer_recv(1000);
        ASSERT_TRUE(got) << i;
        EXPECT_EQ(*got, with_header(12, pattern(60, uint8_t(i)))) << i;
    }
    EXPECT_EQ(rig.tx.used_idx(), 20);
}

TEST(NetTx, AnEmptyRingIsPolledBrieflyBeforeNotificationsComeBack) {
    NetRig rig;
    ASSERT_TRUE(rig.activate(V1 | virtio::FEATURE_EVENT_IDX));
    rig.device->set_poll_ns(300'000'000);   // 300 ms, long enough for the other thread
    rig.send_tx(with_header(12, pattern(60, 1)));
    // A frame posted while the device polls is sent in the same wakeup, without a kick.
    std::thread guest([&rig] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        rig.send_tx(with_header(12, pattern(60, 2)));
    });
    auto t0 = std::chrono::steady_clock::now();
    rig.kick_tx();
    auto took = std::chrono::steady_clock::now() - t0;
    guest.join();
    EXPECT_EQ(rig.device->counters().tx_frames, 2u);
    // Then the ring stayed empty through a whole poll: notifications back on (avail_event at
    // the next index), and the wakeup ended.
    EXPECT_GE(took, std::chrono::milliseconds(300));
    EXPECT_LT(took, std::chrono::seconds(5));
    EXPECT_EQ(rig.tx.avail_event(), 2);
    // used_event 0 asks for one interrupt, for the first frame: sent before the poll began.
    EXPECT_EQ(rig.ctx.used_signals, 1u);
}

} // namespace
} // namespace minivmm::test
