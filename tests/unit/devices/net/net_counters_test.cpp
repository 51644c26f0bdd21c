#include "net/net_counters.hpp"

#include <gtest/gtest.h>

namespace minivmm::net {
namespace {

TEST(NetCounters, FormatGivesTotalsAndOnlyTheReasonsThatOccurred) {
    NetCounters c;
    c.tx_frames = 3;
    c.tx_bytes = 180;
    c.rx_frames = 2;
    c.rx_bytes = 3028;
    c.tx_short = 4;
    c.rx_no_room = 1;
    std::string out = format_net_counters("net0 (tap0)", c);
    EXPECT_NE(out.find("net0 (tap0): tx 3 frames 180 bytes (4 dropped), rx 2 frames 3028 bytes "
                       "(1 dropped)"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("tx shorter than header: 4"), std::string::npos) << out;
    EXPECT_NE(out.find("rx no room in buffers: 1"), std::string::npos) << out;
    EXPECT_EQ(out.find("too big"), std::string::npos) << out;
}

} // namespace
} // namespace minivmm::net
