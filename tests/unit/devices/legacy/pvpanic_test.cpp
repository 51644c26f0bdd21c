// Unit tests for PvPanic and InitStartedPort (devices/legacy/pvpanic.hpp).
#include "legacy/pvpanic.hpp"

#include <array>
#include <cstdint>

#include <gtest/gtest.h>

namespace minivmm {
namespace {

TEST(PvPanic, ReadGivesThePanickedCapability) {
    PvPanic p([] {});
    std::array<uint8_t, 1> b{0xff};
    p.read(0, b);
    EXPECT_EQ(b[0], PvPanic::PANICKED);
    std::array<uint8_t, 4> wide{0xff, 0xff, 0xff, 0xff};
    p.read(0, wide);
    EXPECT_EQ(wide, (std::array<uint8_t, 4>{1, 0, 0, 0}));
}

TEST(PvPanic, OnlyBitZeroReportsAPanic) {
    int panics = 0;
    PvPanic p([&] { ++panics; });
    for (unsigned v = 0; v <= 255; ++v) {
        const std::array<uint8_t, 1> b{static_cast<uint8_t>(v)};
        p.write(0, b);
    }
    EXPECT_EQ(panics, 128);   // every odd value
    const std::array<uint8_t, 1> crash_loaded{2};
    p.write(0, crash_loaded);
    EXPECT_EQ(panics, 128) << "CRASH_LOADED is not a panic";
    p.write(0, std::span<const uint8_t>());
    EXPECT_EQ(panics, 128) << "an empty access means nothing";
}

TEST(InitStartedPort, AnyWriteSignalsAndReadsAreZero) {
    int started = 0;
    InitStartedPort port([&] { ++started; });
    std::array<uint8_t, 2> b{0xff, 0xff};
    port.read(0, b);
    EXPECT_EQ(b, (std::array<uint8_t, 2>{0, 0}));
    EXPECT_EQ(started, 0);
    const std::array<uint8_t, 1> one{1};
    port.write(0, one);
    EXPECT_EQ(started, 1);
}

} // namespace
} // namespace minivmm
