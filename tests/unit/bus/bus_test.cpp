// Unit tests for Bus (vmm/bus/bus.hpp): registration rules and guest-controlled dispatch.
#include "bus/bus.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

namespace minivmm {
namespace {

// Records every access it sees; reads return `fill` in every byte.
class RecordingDevice : public BusDevice {
public:
    struct Access {
        bool is_write;
        uint64_t offset;
        std::vector<uint8_t> data;
    };
    explicit RecordingDevice(uint8_t fill = 0x42) : fill_(fill) {}

    void read(uint64_t offset, std::span<uint8_t> data) noexcept override {
        for (auto& b : data) b = fill_;
        accesses.push_back({false, offset, {data.begin(), data.end()}});
    }
    void write(uint64_t offset, std::span<const uint8_t> data) noexcept override {
        accesses.push_back({true, offset, {data.begin(), data.end()}});
    }

    std::vector<Access> accesses;

private:
    uint8_t fill_;
};

TEST(Bus, InsertRefusesZeroLength) {
    Bus bus("pio");
    auto r = bus.insert({0x100, 0}, std::make_shared<RecordingDevice>(), "empty");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::Invalid);
}

TEST(Bus, InsertRefusesWrappingRange) {
    Bus bus("mmio");
    EXPECT_FALSE(bus.insert({UINT64_MAX, 2}, std::make_shared<RecordingDevice>(), "a").has_value());
    EXPECT_FALSE(bus.insert({2, UINT64_MAX}, std::make_shared<RecordingDevice>(), "b").has_value());
    // [1, 2^64) ends exactly at the top and does not wrap.
    EXPECT_TRUE(bus.insert({1, UINT64_MAX}, std::make_shared<RecordingDevice>(), "d").has_value());
    EXPECT_FALSE(bus.insert({UINT64_MAX - 0xfff, 0x1001}, std::make_shared<RecordingDevice>(), "c")
                     .has_value());
}

TEST(Bus, InsertAcceptsRangeEndingAtTopOfAddressSpace) {
    Bus bus("mmio");
    auto dev = std::make_shared<RecordingDevice>(0x77);
    ASSERT_TRUE(bus.insert({UINT64_MAX - 0xfff, 0x1000}, dev, "top").has_value());
    std::array<uint8_t, 8> buf{};
    EXPECT_TRUE(bus.read(UINT64_MAX - 7, buf).handled);
    EXPECT_EQ(buf[7], 0x77);
    ASSERT_EQ(dev->accesses.size(), 1u);
    EXPECT_EQ(dev->accesses[0].offset, 0xff8u);
    // The last byte is reachable, a wider access from it would wrap and is refused.
    std::array<uint8_t, 1> one{};
    EXPECT_TRUE(bus.read(UINT64_MAX, one).handled);
    std::array<uint8_t, 2> two{};
    EXPECT_FALSE(bus.read(UINT64_MAX, two).handled);
    EXPECT_EQ(two, (std::array<uint8_t, 2>{0xff, 0xff}));
}

TEST(Bus, InsertRefusesOverlap) {
    Bus bus("pio");
    ASSERT_TRUE(bus.insert({0x3f8, 8}, std::make_shared<RecordingDevice>(), "com1").has_value());
    const AddressRange overlapping[] = {{0x3f8, 8}, {0x3f0, 9}, {0x3ff, 1},
                                        {0x3fa, 2}, {0x3f0, 0x20}, {0, UINT64_MAX}};
    for (const auto& range : overlapping) {
        auto r = bus.insert(range, std::make_shared<RecordingDevice>(), "other");
        ASSERT_FALSE(r.has_value()) << std::hex << range.base << "+" << range.length;
        EXPECT_EQ(r.error().code(), ErrorCode::Invalid);
    }
    // None of the refused ranges was inserted: 0x3f0 is still unmapped.
    std::array<uint8_t, 1> b{};
    EXPECT_FALSE(bus.read(0x3f0, b).handled);
}

TEST(Bus, InsertAcceptsAdjacentRanges) {
    Bus bus("pio");
    EXPECT_TRUE(bus.insert({0x3f8, 8}, std::make_shared<RecordingDevice>(), "com1").has_value());
    EXPECT_TRUE(bus.insert({0x3f0, 8}, std::make_shared<RecordingDevice>(), "below").has_value());
    EXPECT_TRUE(bus.insert({0x400, 8}, std::make_shared<RecordingDevice>(), "above").has_value());
}

TEST(Bus, DispatchesWithOffsetWithinDevice) {
    Bus bus("mmio");
    auto low = std::make_shared<RecordingDevice>(0x11);
    auto high = std::make_shared<RecordingDevice>(0x22);
    // Inserted out of order on purpose.
    ASSERT_TRUE(bus.insert({0xd000'1000, 0x100}, high, "high").has_value());
    ASSERT_TRUE(bus.insert({0xd000'0000, 0x1000}, low, "low").has_value());

    std::array<uint8_t, 4> buf{};
    auto d = bus.read(0xd000'0010, buf);
    EXPECT_TRUE(d.handled);
    EXPECT_EQ(buf, (std::array<uint8_t, 4>{0x11, 0x11, 0x11, 0x11}));
    ASSERT_EQ(low->accesses.size(), 1u);
    EXPECT_FALSE(low->accesses[0].is_write);
    EXPECT_EQ(low->accesses[0].offset, 0x10u);
    EXPECT_EQ(low->accesses[0].data.size(), 4u);

    const std::array<uint8_t, 2> value{0xab, 0xcd};
    EXPECT_TRUE(bus.write(0xd000'10fe, value).handled);   // last 2 bytes of "high"
    ASSERT_EQ(high->accesses.size(), 1u);
    EXPECT_TRUE(high->accesses[0].is_write);
    EXPECT_EQ(high->accesses[0].offset, 0xfeu);
    EXPECT_EQ(high->accesses[0].data, (std::vector<uint8_t>{0xab, 0xcd}));
    EXPECT_EQ(low->accesses.size(), 1u);
    EXPECT_EQ(bus.unhandled_count(), 0u);
}

TEST(Bus, ReturnsDeviceName) {
    Bus bus("pio");
    ASSERT_TRUE(bus.insert({0x3f8, 8}, std::make_shared<RecordingDevice>(), "com1").has_value());
    ASSERT_TRUE(bus.insert({0x510, 1}, std::make_shared<RecordingDevice>(), "exit").has_value());
    std::array<uint8_t, 1> b{};
    auto d = bus.read(0x3fd, b);
    ASSERT_TRUE(d.handled);
    ASSERT_NE(d.device_name, nullptr);
    EXPECT_EQ(*d.device_name, "com1");
    auto w = bus.write(0x510, b);
    ASSERT_TRUE(w.handled);
    ASSERT_NE(w.device_name, nullptr);
    EXPECT_EQ(*w.device_name, "exit");
    auto miss = bus.read(0x80, b);
    EXPECT_FALSE(miss.handled);
    EXPECT_EQ(miss.device_name, nullptr);
    EXPECT_EQ(bus.name(), "pio");
}

TEST(Bus, AccessStraddlingDeviceEndIsUnhandled) {
    Bus bus("mmio");
    auto dev = std::make_shared<RecordingDevice>();
    ASSERT_TRUE(bus.insert({0x1000, 0x10}, dev, "dev").has_value());
    std::array<uint8_t, 4> buf{};
    EXPECT_FALSE(bus.read(0x100e, buf).handled);   // 2 bytes in, 2 past the end
    EXPECT_FALSE(bus.write(0x100d, buf).handled);
    EXPECT_FALSE(bus.read(0x0ffe, buf).handled);   // straddles the start
    EXPECT_TRUE(dev->accesses.empty());
    EXPECT_TRUE(bus.read(0x100c, buf).handled);    // exactly the last 4 bytes
}

TEST(Bus, AccessStraddlingTwoAdjacentDevicesIsUnhandled) {
    Bus bus("mmio");
    auto a = std::make_shared<RecordingDevice>();
    auto b = std::make_shared<RecordingDevice>();
    ASSERT_TRUE(bus.insert({0x1000, 0x10}, a, "a").has_value());
    ASSERT_TRUE(bus.insert({0x1010, 0x10}, b, "b").has_value());
    std::array<uint8_t, 8> buf{};
    EXPECT_FALSE(bus.read(0x100c, buf).handled);
    EXPECT_TRUE(a->accesses.empty());
    EXPECT_TRUE(b->accesses.empty());
}

TEST(Bus, OddSizesAreUnhandled) {
    Bus bus("mmio");
    auto dev = std::make_shared<RecordingDevice>();
    ASSERT_TRUE(bus.insert({0x1000, 0x100}, dev, "dev").has_value());
    std::array<uint8_t, 3> three{};
    std::array<uint8_t, 16> sixteen{};
    EXPECT_FALSE(bus.read(0x1000, three).handled);
    EXPECT_FALSE(bus.write(0x1000, three).handled);
    EXPECT_FALSE(bus.read(0x1000, sixteen).handled);
    EXPECT_FALSE(bus.write(0x1000, sixteen).handled);
    EXPECT_TRUE(dev->accesses.empty());
    EXPECT_EQ(bus.unhandled_count(), 4u);
    for (size_t size : {1u, 2u, 4u, 8u}) {
        std::array<uint8_t, 8> buf{};
        EXPECT_TRUE(bus.read(0x1000, std::span<uint8_t>(buf.data(), size)).handled) << size;
    }
}

TEST(Bus, UnhandledReadReturnsAllOnesAndIsCounted) {
    Bus bus("pio");
    auto dev = std::make_shared<RecordingDevice>(0);
    ASSERT_TRUE(bus.insert({0x3f8, 8}, dev, "com1").has_value());
    EXPECT_EQ(bus.unhandled_count(), 0u);

    std::array<uint8_t, 4> buf{1, 2, 3, 4};
    EXPECT_FALSE(bus.read(0x60, buf).handled);
    EXPECT_EQ(buf, (std::array<uint8_t, 4>{0xff, 0xff, 0xff, 0xff}));
    EXPECT_EQ(bus.unhandled_count(), 1u);

    std::array<uint8_t, 3> odd{0, 0, 0};
    EXPECT_FALSE(bus.read(0x3f8, odd).handled);
    EXPECT_EQ(odd, (std::array<uint8_t, 3>{0xff, 0xff, 0xff}));
    EXPECT_EQ(bus.unhandled_count(), 2u);

    std::array<uint8_t, 1> one{};
    EXPECT_TRUE(bus.read(0x3f8, one).handled);   // handled accesses are not counted
    EXPECT_EQ(bus.unhandled_count(), 2u);
}

TEST(Bus, UnhandledWriteIsDroppedAndCounted) {
    Bus bus("pio");
    auto dev = std::make_shared<RecordingDevice>();
    ASSERT_TRUE(bus.insert({0x3f8, 8}, dev, "com1").has_value());
    const std::array<uint8_t, 1> b{0x41};
    EXPECT_FALSE(bus.write(0x3f7, b).handled);
    EXPECT_FALSE(bus.write(0x400, b).handled);
    EXPECT_TRUE(dev->accesses.empty());
    EXPECT_EQ(bus.unhandled_count(), 2u);
}

TEST(Bus, EmptyBusHandlesNothing) {
    Bus bus("mmio");
    std::array<uint8_t, 4> buf{};
    EXPECT_FALSE(bus.read(0, buf).handled);
    EXPECT_FALSE(bus.write(UINT64_MAX - 3, buf).handled);
    EXPECT_EQ(bus.unhandled_count(), 2u);
}

TEST(AddressRange, ContainsIsOverflowProof) {
    const AddressRange r{0x1000, 0x100};
    EXPECT_TRUE(r.contains(0x1000, 0x100));
    EXPECT_TRUE(r.contains(0x10ff, 1));
    EXPECT_FALSE(r.contains(0x10ff, 2));
    EXPECT_FALSE(r.contains(0x0fff, 1));
    EXPECT_FALSE(r.contains(0x1001, UINT64_MAX));   // addr + len wraps to 0x1000
    EXPECT_FALSE(r.contains(UINT64_MAX, 0x1002));
}

} // namespace
} // namespace minivmm
