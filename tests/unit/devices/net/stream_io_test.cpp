#include "net/stream_io.hpp"

#include <cstring>
#include <gtest/gtest.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <vector>

namespace minivmm::net {
namespace {

struct Rig {
    std::unique_ptr<StreamIo> io;
    UniqueFd peer;
};

Rig make_rig(int sndbuf = 0) {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    if (sndbuf > 0) {
        ::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        ::setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof sndbuf);
    }
    Rig rig{std::make_unique<StreamIo>(UniqueFd(sv[0]), "test"), UniqueFd(sv[1])};
    EXPECT_TRUE(rig.io->configure(12, 0));
    return rig;
}

std::vector<uint8_t> read_all(int fd, size_t n) {
    std::vector<uint8_t> out(n);
    size_t got = 0;
    while (got < n) {
        ssize_t k = ::recv(fd, out.data() + got, n - got, 0);
        if (k <= 0) break;
        got += static_cast<size_t>(k);
    }
    out.resize(got);
    return out;
}

void put_frame(int fd, const std::string& payload, uint32_t len_override = 0, bool use = false) {
    uint8_t prefix[4];
    FrameReader::encode_length(use ? len_override : static_cast<uint32_t>(payload.size()), prefix);
    ASSERT_EQ(::send(fd, prefix, 4, 0), 4);
    if (!payload.empty()) {
        ASSERT_EQ(::send(fd, payload.data(), payload.size(), 0),
                  static_cast<ssize_t>(payload.size()));
    }
}

TEST(StreamIo, SendsTheFrameWithoutItsHeaderBehindABigEndianLength) {
    Rig rig = make_rig();
    EXPECT_FALSE(rig.io->carries_vnet_header());
    uint8_t hdr[12];
    std::memset(hdr, 0xee, sizeof hdr);   // whatever the header holds, it is not sent
    char part1[] = "abc", part2[] = "defgh";
    // The header split across two pieces, as a guest's chain may split it.
    iovec pieces[] = {{hdr, 5}, {hdr + 5, 7}, {part1, 3}, {part2, 5}};
    auto r = rig.io->send(pieces);
    EXPECT_EQ(r.status, IoStatus::Ok);
    EXPECT_EQ(r.bytes, 20u);
    EXPECT_FALSE(rig.io->output_pending());
    auto got = read_all(rig.peer.get(), 12);
    const std::vector<uint8_t> want = {0, 0, 0, 8, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'};
    EXPECT_EQ(got, want);
}

TEST(StreamIo, ReceivesFramesBehindAZeroedHeaderAndSkipsEmptyOnes) {
    Rig rig = make_rig();
    uint8_t buf[256];
    EXPECT_EQ(rig.io->recv(buf).status, IoStatus::WouldBlock);
    put_frame(rig.peer.get(), "");
    put_frame(rig.peer.get(), "frame-one");
    put_frame(rig.peer.get(), "2");
    std::memset(buf, 0xaa, sizeof buf);
    auto r = rig.io->recv(buf);
    ASSERT_EQ(r.status, IoStatus::Ok);
    EXPECT_EQ(r.bytes, 12u + 9u);
    EXPECT_FALSE(r.truncated);
    for (int i = 0; i < 12; ++i) EXPECT_EQ(buf[i], 0) << i;
    EXPECT_EQ(std::string(reinterpret_cast<char*>(buf) + 12, 9), "frame-one");
    r = rig.io->recv(buf);
    EXPECT_EQ(r.bytes, 13u);
    EXPECT_EQ(rig.io->empty_frames(), 1u);
    EXPECT_EQ(rig.io->recv(buf).status, IoStatus::WouldBlock);

    // Larger than the buffer: reported truncated, and the stream stays in step.
    put_frame(rig.peer.get(), std::string(100, 'x'));
    put_frame(rig.peer.get(), "after");
    r = rig.io->recv(std::span<uint8_t>(buf, 50));
    EXPECT_EQ(r.status, IoStatus::Ok);
    EXPECT_TRUE(r.truncated);
    r = rig.io->recv(buf);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(buf) + 12, r.bytes - 12), "after");
}

TEST(StreamIo, ALengthAboveTheBoundOrAClosedPeerIsGone) {
    for (uint32_t len : {65551u, 0xffffffffu}) {
        Rig rig = make_rig();
        put_frame(rig.peer.get(), "", len, true);
        uint8_t buf[64];
        auto r = rig.io->recv(buf);
        EXPECT_EQ(r.status, IoStatus::Gone) << len;
        EXPECT_EQ(r.err, EPROTO);
        uint8_t frame[20] = {};
        iovec piece{frame, sizeof frame};
        EXPECT_EQ(rig.io->send({&piece, 1}).status, IoStatus::Gone);
    }
    Rig rig = make_rig();
    put_frame(rig.peer.get(), "whole");
    rig.peer.reset();
    uint8_t buf[64];
    EXPECT_EQ(rig.io->recv(buf).status, IoStatus::Ok);   // what came before the close
    EXPECT_EQ(rig.io->recv(buf).status, IoStatus::Gone);
    uint8_t frame[20] = {};
    iovec piece{frame, sizeof frame};
    EXPECT_EQ(rig.io->send({&piece, 1}).status, IoStatus::Gone);
}

// A slow peer: the socket takes part of a frame. The frame still counts as sent (the guest was
// told so), its rest goes out first when there is room, later frames wait (WouldBlock), and
// the peer receives every byte of every frame, in order.
TEST(StreamIo, APartlySentFrameIsFinishedBeforeTheNextAndNothingIsLost) {
    Rig rig = make_rig(4096);
    std::vector<uint8_t> expected;
    std::vector<uint8_t> received;
    uint8_t hdr[12] = {};
    int partial = 0, blocked = 0;
    for (int i = 0; i < 20; ++i) {
        std::vector<uint8_t> frame(30000 + static_cast<size_t>(i) * 100);
        for (size_t k = 0; k < frame.size(); ++k) frame[k] = static_cast<uint8_t>(static_cast<size_t>(i) * 7 + k);
        iovec pieces[] = {{hdr, 12}, {frame.data(), frame.size()}};
        for (;;) {
            auto r = rig.io->send(pieces);
            if (r.status == IoStatus::Ok) break;
            ASSERT_EQ(r.status, IoStatus::WouldBlock);
            ++blocked;
            // The peer reads a little; the device would wait for EPOLLOUT and flush.
            uint8_t chunk[8192];
            ssize_t k = ::recv(rig.peer.get(), chunk, sizeof chunk, 0);
            ASSERT_GT(k, 0);
            received.insert(received.end(), chunk, chunk + static_cast<size_t>(k));
            (void)rig.io->flush_output();
        }
        partial += rig.io->output_pending() ? 1 : 0;
        uint8_t prefix[4];
        FrameReader::encode_length(static_cast<uint32_t>(frame.size()), prefix);
        expected.insert(expected.end(), prefix, prefix + 4);
        expected.insert(expected.end(), frame.begin(), frame.end());
    }
    while (rig.io->output_pending()) {
        uint8_t chunk[8192];
        ssize_t k = ::recv(rig.peer.get(), chunk, sizeof chunk, 0);
        ASSERT_GT(k, 0);
        received.insert(received.end(), chunk, chunk + static_cast<size_t>(k));
        (void)rig.io->flush_output();
    }
    auto rest = read_all(rig.peer.get(), expected.size() - received.size());
    received.insert(received.end(), rest.begin(), rest.end());
    EXPECT_GT(partial, 0);   // the case under test happened
    EXPECT_GT(blocked, 0);
    EXPECT_TRUE(received == expected);
}

} // namespace
} // namespace minivmm::net
