#include "net/socket_pair_io.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace minivmm::net {
namespace {

TEST(SocketPairIo, KeepsFrameBoundariesAndReportsEagainTruncationAndClose) {
    auto pair = SocketPairIo::create();
    ASSERT_TRUE(pair);
    auto& [io, peer] = *pair;
    uint8_t buf[64];
    EXPECT_EQ(io->recv(buf).status, IoStatus::WouldBlock);

    const char a[] = "first", b[] = "second";
    ASSERT_EQ(::send(peer.get(), a, 5, 0), 5);
    ASSERT_EQ(::send(peer.get(), b, 6, 0), 6);
    auto r1 = io->recv(buf);
    EXPECT_EQ(r1.status, IoStatus::Ok);
    EXPECT_EQ(r1.bytes, 5u);
    auto r2 = io->recv(std::span<uint8_t>(buf, 3));
    EXPECT_EQ(r2.bytes, 3u);
    EXPECT_TRUE(r2.truncated);

    iovec pieces[2] = {{const_cast<char*>(a), 2}, {const_cast<char*>(b), 3}};
    EXPECT_EQ(io->send(pieces).bytes, 5u);
    char got[16];
    EXPECT_EQ(::recv(peer.get(), got, sizeof got, 0), 5);
    EXPECT_EQ(std::string(got, 5), "fisec");

    peer.reset();
    EXPECT_EQ(io->recv(buf).status, IoStatus::Gone);
    EXPECT_EQ(io->send(pieces).status, IoStatus::Gone);
}

TEST(SocketPairIo, RecordsTheConfigurationItIsGiven) {
    auto pair = SocketPairIo::create();
    ASSERT_TRUE(pair);
    auto& io = pair->first;
    ASSERT_TRUE(io->configure(12, 3));
    EXPECT_EQ(io->vnet_hdr_size(), 12u);
    EXPECT_EQ(io->offloads(), 3u);
    EXPECT_EQ(io->configure_calls(), 1u);
}

} // namespace
} // namespace minivmm::net
