// virtio-net on a stream backend (StreamIo: passt's framing), the test's end of a stream
// socketpair playing passt.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "net/stream_io.hpp"
#include "net_rig.hpp"
#include "net_test_util.hpp"

namespace minivmm::test {
namespace {

struct StreamRig {
    explicit StreamRig(int buffer = 0, uint16_t queue_size = 256,
                       size_t max_frame = net::MAX_FRAME_SIZE) {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) throw std::runtime_error("socketpair");
        if (buffer > 0) {
            ::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
            ::setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
        }
        peer = UniqueFd(sv[1]);
        device_end = sv[0];
        rig = std::make_unique<NetRig>(
            queue_size, std::make_unique<net::StreamIo>(UniqueFd(sv[0]), "stream", max_frame));
    }
    // Reads what the peer has, without waiting.
    void drain(std::vector<uint8_t>& into) const {
        uint8_t buf[65536];
        for (;;) {
            ssize_t n = ::recv(peer.get(), buf, sizeof buf, MSG_DONTWAIT);
            if (n <= 0) return;
            into.insert(into.end(), buf, buf + static_cast<size_t>(n));
        }
    }
    std::unique_ptr<NetRig> rig;
    UniqueFd peer;
    int device_end = -1;   // owned by the StreamIo
};

std::vector<uint8_t> framed(const std::vector<uint8_t>& frame) {
    std::vector<uint8_t> out(4);
    net::FrameReader::encode_length(static_cast<uint32_t>(frame.size()), out.data());
    out.insert(out.end(), frame.begin(), frame.end());
    return out;
}

TEST(NetStream, OffersNoOffloadsOnABackendWithoutAVnetHeader) {
    StreamRig s;
    const uint64_t offered = s.rig->device->features();
    EXPECT_EQ(offered & (CSUM | GUEST_CSUM | HOST_TSO4 | HOST_TSO6 | GUEST_TSO4 | GUEST_TSO6), 0u);
    EXPECT_NE(offered & MRG, 0u);
    ASSERT_TRUE(s.rig->activate(V1 | MRG | CSUM | GUEST_CSUM | GUEST_TSO4));
    EXPECT_EQ(s.rig->device->negotiated_features(), V1 | MRG);
}

TEST(NetStream, FramesCrossBothWaysWithoutTheHeaderOnTheStream) {
    StreamRig s;
    NetRig& rig = *s.rig;
    ASSERT_TRUE(rig.activate(V1 | MRG));
    auto out = pattern(1000, 3);
    rig.send_tx(with_header(12, out));
    rig.kick_tx();
    std::vector<uint8_t> got;
    s.drain(got);
    EXPECT_EQ(got, framed(out));

    auto buf = rig.post_rx({2048});
    auto in = pattern(1514, 9);
    auto f = framed(in);
    ASSERT_EQ(::send(s.peer.get(), f.data(), f.size(), 0), static_cast<ssize_t>(f.size()));
    rig.backend_ready();
    auto used = rig.rx.pop_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(used->len, 12u + 1514u);
    EXPECT_EQ(rig.rx.read(buf[0] + 12, 1514), in);
    auto hdr = rig.rx.read(buf[0], 12);
    EXPECT_EQ(hdr[0], 0);                        // flags: nothing to finish
    EXPECT_EQ(hdr[1], VIRTIO_NET_HDR_GSO_NONE);
    EXPECT_EQ(hdr[10], 1);                       // num_buffers
}

// A peer that does not read (a slow passt): the guest's frames are taken as far as the socket
// has room, the vCPU never blocks, the device asks for EPOLLOUT, and once the peer reads every
// frame arrives whole and in order; none is lost and none is completed before it is taken.
TEST(NetStream, ASlowPeerHoldsFramesBackWithoutLosingOrBlocking) {
    StreamRig s(8192);
    NetRig& rig = *s.rig;
    ASSERT_TRUE(rig.activate(V1 | MRG));
    std::vector<uint8_t> expected;
    constexpr int FRAMES = 40;
    for (int i = 0; i < FRAMES; ++i) {
        auto frame = pattern(20000 + static_cast<size_t>(i), static_cast<uint8_t>(i));
        auto f = framed(frame);
        expected.insert(expected.end(), f.begin(), f.end());
        rig.send_tx(with_header(12, frame));
    }
    rig.kick_tx();   // returns: nothing blocks on the full socket
    EXPECT_LT(rig.device->counters().tx_frames, uint64_t{FRAMES});
    EXPECT_NE(rig.watch.current & EPOLLOUT, 0u);

    std::vector<uint8_t> got;
    for (int round = 0; round < 10000 && got.size() < expected.size(); ++round) {
        s.drain(got);
        rig.backend_ready();   // what EPOLLOUT would do
    }
    EXPECT_EQ(got.size(), expected.size());
    EXPECT_TRUE(got == expected);
    EXPECT_EQ(rig.device->counters().tx_frames, uint64_t{FRAMES});
    size_t completed = 0;
    while (rig.tx.pop_used()) ++completed;
    EXPECT_EQ(completed, size_t{FRAMES});
    EXPECT_EQ(rig.watch.current & EPOLLOUT, 0u);   // nothing pending any more
}

TEST(NetStream, APeerThatClosesTakesTheLinkDown) {
    StreamRig s;
    NetRig& rig = *s.rig;
    ASSERT_TRUE(rig.activate(V1 | MRG));
    rig.post_rx({2048});
    s.peer.reset();
    rig.backend_ready();
    EXPECT_FALSE(rig.device->link_up());
    EXPECT_EQ(rig.device->counters().link_lost, 1u);
    rig.send_tx(with_header(12, pattern(100)));
    rig.kick_tx();   // completed and counted as dropped, as on a vanished tap
    EXPECT_TRUE(rig.tx.pop_used());
}

// A stream reads many frames at once, so frames can wait in the reader while the socket has
// nothing more: its EPOLLIN will not come. Here a 2-entry ring (a receive budget of 2 frames
// per wake-up) spends its budget on two frames too big to receive (dropped, no buffer used),
// read together with two small ones; the small ones must still arrive with no more bytes from
// the peer. (They once waited for the peer's next bytes: a TCP transfer through passt stalled,
// the sender waiting for the guest's ACK of frames that sat here.)
TEST(NetStream, FramesAlreadyReadFromTheStreamArriveWithoutTheSocketBecomingReadable) {
    StreamRig s(1 << 20, 2, 70000);
    NetRig& rig = *s.rig;
    ASSERT_TRUE(rig.activate(V1 | MRG));
    const GuestAddress buf1 = rig.post_rx({2048})[0], buf2 = rig.post_rx({2048})[0];
    std::vector<uint8_t> bytes;
    for (size_t size : {size_t{66000}, size_t{66000}}) {
        auto f = framed(pattern(size, 1));
        bytes.insert(bytes.end(), f.begin(), f.end());
    }
    const auto small1 = pattern(100, 7), small2 = pattern(200, 8);
    for (const auto* small : {&small1, &small2}) {
        auto f = framed(*small);
        bytes.insert(bytes.end(), f.begin(), f.end());
    }
    ASSERT_EQ(::send(s.peer.get(), bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));

    rig.watch.timer.reset();
    rig.backend_ready();   // the EPOLLIN those bytes raised
    EXPECT_EQ(rig.device->counters().rx_too_big, 2u);
    pollfd d{s.device_end, POLLIN, 0};
    ASSERT_EQ(::poll(&d, 1, 0), 0) << "the device's end still has bytes: the case is not set up";
    // What the event loop does: wake the device for its timer, as long as it asks.
    for (int round = 0; round < 10 && rig.watch.timer; ++round) {
        rig.watch.timer.reset();
        rig.backend_ready();
    }
    auto u1 = rig.rx.pop_used(), u2 = rig.rx.pop_used();
    ASSERT_TRUE(u1 && u2) << "frames read from the stream were left waiting for EPOLLIN";
    EXPECT_EQ(rig.rx.read(buf1 + 12, 100), small1);
    EXPECT_EQ(rig.rx.read(buf2 + 12, 200), small2);
}

} // namespace
} // namespace minivmm::test
