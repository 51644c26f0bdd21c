// Unit tests for ScratchDevice (devices/legacy/scratch_device.hpp): ID, scratch and write count.
#include "legacy/scratch_device.hpp"

#include <array>
#include <cstdint>
#include <cstring>

#include <gtest/gtest.h>

namespace minivmm {
namespace {

uint32_t read32(ScratchDevice& dev, uint64_t offset) {
    std::array<uint8_t, 4> b{0xee, 0xee, 0xee, 0xee};
    dev.read(offset, b);
    uint32_t v = 0;
    std::memcpy(&v, b.data(), sizeof v);
    return v;
}

void write32(ScratchDevice& dev, uint64_t offset, uint32_t value) {
    std::array<uint8_t, 4> b{};
    std::memcpy(b.data(), &value, sizeof value);
    dev.write(offset, b);
}

TEST(ScratchDevice, IdReadsMvmm) {
    ScratchDevice dev;
    EXPECT_EQ(read32(dev, ScratchDevice::REG_ID), 0x4d4d564du);
    std::array<uint8_t, 4> b{};
    dev.read(ScratchDevice::REG_ID, b);
    EXPECT_EQ(std::memcmp(b.data(), "MVMM", 4), 0);
}

TEST(ScratchDevice, IdIsReadOnly) {
    ScratchDevice dev;
    write32(dev, ScratchDevice::REG_ID, 0x12345678);
    EXPECT_EQ(read32(dev, ScratchDevice::REG_ID), ScratchDevice::ID);
    EXPECT_EQ(read32(dev, ScratchDevice::REG_SCRATCH), 0u);
}

TEST(ScratchDevice, ScratchReadsBackWrittenValue) {
    ScratchDevice dev;
    EXPECT_EQ(read32(dev, ScratchDevice::REG_SCRATCH), 0u);
    for (uint32_t v : {0xdeadbeefu, 0u, 0xffffffffu, 1u}) {
        write32(dev, ScratchDevice::REG_SCRATCH, v);
        EXPECT_EQ(read32(dev, ScratchDevice::REG_SCRATCH), v);
    }
}

TEST(ScratchDevice, NarrowReadsReturnCoveredBytes) {
    ScratchDevice dev;
    write32(dev, ScratchDevice::REG_SCRATCH, 0xa1b2c3d4);
    std::array<uint8_t, 1> byte{};
    dev.read(5, byte);
    EXPECT_EQ(byte[0], 0xc3);
    std::array<uint8_t, 2> half{};
    dev.read(1, half);
    EXPECT_EQ(half, (std::array<uint8_t, 2>{'V', 'M'}));
    std::array<uint8_t, 8> wide{};
    dev.read(0, wide);
    EXPECT_EQ(wide, (std::array<uint8_t, 8>{'M', 'V', 'M', 'M', 0xd4, 0xc3, 0xb2, 0xa1}));
}

TEST(ScratchDevice, WriteCountCountsEveryWrite) {
    ScratchDevice dev;
    EXPECT_EQ(read32(dev, ScratchDevice::REG_WRITES), 0u);
    write32(dev, ScratchDevice::REG_SCRATCH, 1);
    EXPECT_EQ(read32(dev, ScratchDevice::REG_WRITES), 1u);
    write32(dev, ScratchDevice::REG_ID, 1);          // refused, still counted
    write32(dev, ScratchDevice::REG_WRITES, 100);    // read-only, still counted
    write32(dev, 0x100, 1);                          // unused offset, still counted
    EXPECT_EQ(read32(dev, ScratchDevice::REG_WRITES), 4u);
    EXPECT_EQ(read32(dev, ScratchDevice::REG_SCRATCH), 1u);
    dev.read(ScratchDevice::REG_SCRATCH, std::span<uint8_t>());   // reads do not count
    EXPECT_EQ(read32(dev, ScratchDevice::REG_WRITES), 4u);
}

TEST(ScratchDevice, UnalignedWriteDoesNotChangeScratch) {
    ScratchDevice dev;
    write32(dev, ScratchDevice::REG_SCRATCH, 0x11111111);
    write32(dev, ScratchDevice::REG_SCRATCH + 1, 0x22222222);
    EXPECT_EQ(read32(dev, ScratchDevice::REG_SCRATCH), 0x11111111u);
}

TEST(ScratchDevice, OtherOffsetsReadZero) {
    ScratchDevice dev;
    write32(dev, ScratchDevice::REG_SCRATCH, 0xffffffff);
    EXPECT_EQ(read32(dev, 12), 0u);
    EXPECT_EQ(read32(dev, 0x800), 0u);
    EXPECT_EQ(read32(dev, 0xffc), 0u);
    // An 8-byte read of the last register returns its bytes (a count of 1), then zeros.
    std::array<uint8_t, 8> b{};
    b.fill(0xee);
    dev.read(ScratchDevice::REG_WRITES, b);
    EXPECT_EQ(b, (std::array<uint8_t, 8>{1, 0, 0, 0, 0, 0, 0, 0}));
}

} // namespace
} // namespace minivmm
