// Unit tests for ExplainPort (devices/legacy/explain_port.hpp): two dword writes make one GVA.
#include "legacy/explain_port.hpp"

#include <array>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "bus/bus.hpp"
#include "memory/layout.hpp"

namespace minivmm {
namespace {

struct RecordingExplainPort {
    std::vector<uint64_t> gvas;
    ExplainPort port{[this](uint64_t gva) { gvas.push_back(gva); }};
};

TEST(ExplainPort, LowThenHighDwordGivesTheGva) {
    RecordingExplainPort e;
    const std::array<uint8_t, 4> low{0xbc, 0x7a, 0x56, 0x34}, high{0x12, 0x7f, 0, 0};
    e.port.write(0, low);
    EXPECT_TRUE(e.gvas.empty()) << "the low half alone must not trigger";
    e.port.write(4, high);
    EXPECT_EQ(e.gvas, (std::vector<uint64_t>{0x7f12'3456'7abcULL}));
    e.port.write(4, high);   // the low half is kept: the same GVA again
    EXPECT_EQ(e.gvas.size(), 2u);
    EXPECT_EQ(e.gvas[1], 0x7f12'3456'7abcULL);
}

TEST(ExplainPort, ByteWritesAndOutOfRangeBytes) {
    RecordingExplainPort e;
    for (uint64_t i = 0; i < 7; ++i) e.port.write(i, std::array<uint8_t, 1>{uint8_t(i + 1)});
    EXPECT_TRUE(e.gvas.empty());
    e.port.write(7, std::array<uint8_t, 4>{8, 0xee, 0xee, 0xee});   // 3 bytes past the end dropped
    EXPECT_EQ(e.gvas, (std::vector<uint64_t>{0x0807'0605'0403'0201ULL}));
    e.port.write(9, std::array<uint8_t, 4>{1, 2, 3, 4});   // wholly outside: nothing
    e.port.write(~0ULL, std::array<uint8_t, 4>{1, 2, 3, 4});
    EXPECT_EQ(e.gvas.size(), 1u);
}

TEST(ExplainPort, ReadsReturnZeroThroughTheBus) {
    std::vector<uint64_t> gvas;
    Bus bus("pio");
    ASSERT_TRUE(bus.insert({layout::EXPLAIN_PORT, ExplainPort::PORT_COUNT},
                           std::make_shared<ExplainPort>([&](uint64_t g) { gvas.push_back(g); }),
                           "explain")
                    .has_value());
    std::array<uint8_t, 4> word{0xff, 0xff, 0xff, 0xff};
    EXPECT_TRUE(bus.read(layout::EXPLAIN_PORT + 4, word).handled);
    EXPECT_EQ(word, (std::array<uint8_t, 4>{0, 0, 0, 0}));
    EXPECT_TRUE(bus.write(layout::EXPLAIN_PORT, std::array<uint8_t, 4>{1, 0, 0, 0}).handled);
    EXPECT_TRUE(bus.write(layout::EXPLAIN_PORT + 4, std::array<uint8_t, 4>{}).handled);
    EXPECT_EQ(gvas, (std::vector<uint64_t>{1}));
}

} // namespace
} // namespace minivmm
