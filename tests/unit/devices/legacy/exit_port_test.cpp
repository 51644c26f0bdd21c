// Unit tests for ExitPort (devices/legacy/exit_port.hpp): the written byte is the exit status.
#include "legacy/exit_port.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "bus/bus.hpp"
#include "memory/layout.hpp"

namespace minivmm {
namespace {

// An exit port that records the statuses it was asked to exit with.
struct RecordingExitPort {
    void out(uint8_t value) {
        const std::array<uint8_t, 1> b{value};
        port.write(0, b);
    }
    std::vector<uint8_t> statuses;
    ExitPort port{[this](uint8_t status) { statuses.push_back(status); }};
};

TEST(ExitPort, StatusZeroIsExact) {
    RecordingExitPort e;
    e.out(0);
    EXPECT_EQ(e.statuses, (std::vector<uint8_t>{0}));
}

TEST(ExitPort, Status255IsExact) {
    RecordingExitPort e;
    e.out(255);
    EXPECT_EQ(e.statuses, (std::vector<uint8_t>{255}));
}

TEST(ExitPort, EveryStatusPassesThroughUnchanged) {
    RecordingExitPort e;
    for (unsigned v = 0; v <= 255; ++v) e.out(static_cast<uint8_t>(v));
    ASSERT_EQ(e.statuses.size(), 256u);
    for (unsigned v = 0; v <= 255; ++v) EXPECT_EQ(e.statuses[v], v);
}

TEST(ExitPort, WideWriteUsesLowByte) {
    RecordingExitPort e;
    const std::array<uint8_t, 4> word{0x07, 0x01, 0x02, 0x03};
    e.port.write(0, word);
    EXPECT_EQ(e.statuses, (std::vector<uint8_t>{7}));
}

TEST(ExitPort, ReadsReturnZero) {
    RecordingExitPort e;
    std::array<uint8_t, 4> word{0xff, 0xff, 0xff, 0xff};
    e.port.read(0, word);
    EXPECT_EQ(word, (std::array<uint8_t, 4>{0, 0, 0, 0}));
    EXPECT_TRUE(e.statuses.empty()) << "a read must not end the VM";
}

TEST(ExitPort, WorksThroughPioBus) {
    std::vector<uint8_t> statuses;
    Bus bus("pio");
    ASSERT_TRUE(bus.insert({layout::EXIT_PORT, 1},
                           std::make_shared<ExitPort>(
                               [&](uint8_t status) { statuses.push_back(status); }),
                           "exit")
                    .has_value());
    const std::array<uint8_t, 1> zero{0};
    EXPECT_TRUE(bus.write(layout::EXIT_PORT, zero).handled);
    EXPECT_EQ(statuses, (std::vector<uint8_t>{0}));
}

} // namespace
} // namespace minivmm
