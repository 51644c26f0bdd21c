// Tests of virtio::ChainReader / ChainWriter over validated chains.
#include "virtio/chain_io.hpp"

#include <gtest/gtest.h>

#include <array>
#include <numeric>

#include "test_memory.hpp"
#include "virtio/virtio_ring.hpp"

namespace minivmm::virtio {
namespace {

using test::make_memory;

constexpr GuestAddress TABLE(0x1000);

struct ChainIoTest : ::testing::Test {
    GuestMemory mem = make_memory();

    // Builds the chain 0 -> 1 -> ... from (addr, len, flags) and parses it.
    DescriptorChain chain(std::initializer_list<std::tuple<uint64_t, uint32_t, uint16_t>> descs) {
        uint16_t i = 0;
        for (auto [addr, len, flags] : descs) {
            const bool last = i + 1u == descs.size();
            vring_desc d{addr, len, static_cast<uint16_t>(flags | (last ? 0 : VRING_DESC_F_NEXT)),
                         static_cast<uint16_t>(i + 1)};
            EXPECT_TRUE(mem.write_obj(TABLE + 16ULL * i, d));
            ++i;
        }
        auto c = DescriptorChain::parse(mem, {TABLE, 16}, 0, Indirect::Refused);
        if (!c) throw std::runtime_error(c.error().message());
        return std::move(*c);
    }
    void fill(uint64_t addr, std::span<const uint8_t> bytes) {
        ASSERT_TRUE(mem.write(GuestAddress(addr), bytes));
    }
    uint8_t byte_at(uint64_t addr) { return *mem.read_obj<uint8_t>(GuestAddress(addr)); }
};

TEST_F(ChainIoTest, ReaderStreamsAcrossDescriptors) {
    std::array<uint8_t, 10> src{};
    std::iota(src.begin(), src.end(), uint8_t{1});
    fill(0x10000, std::span(src).first(3));
    fill(0x20000, std::span(src).subspan(3));
    auto c = chain({{0x10000, 3, 0}, {0x20000, 7, 0}, {0x30000, 8, VRING_DESC_F_WRITE}});
    ChainReader reader(mem, c);
    EXPECT_EQ(reader.remaining(), 10u);
    std::array<uint8_t, 4> a{};
    ASSERT_TRUE(reader.read(a));
    EXPECT_EQ(a, (std::array<uint8_t, 4>{1, 2, 3, 4}));
    ASSERT_TRUE(reader.skip(1));
    std::array<uint8_t, 5> b{};
    ASSERT_TRUE(reader.read(b));
    EXPECT_EQ(b, (std::array<uint8_t, 5>{6, 7, 8, 9, 10}));
    EXPECT_EQ(reader.remaining(), 0u);
}

TEST_F(ChainIoTest, ReaderRefusesReadPastReadablePartAndConsumesNothing) {
    fill(0x10000, std::array<uint8_t, 4>{9, 8, 7, 6});
    auto c = chain({{0x10000, 4, 0}, {0x20000, 64, VRING_DESC_F_WRITE}});
    ChainReader reader(mem, c);
    std::array<uint8_t, 5> big{};
    EXPECT_FALSE(reader.read(big));   // the writable part is not readable
    EXPECT_FALSE(reader.skip(5));
    EXPECT_EQ(reader.remaining(), 4u);
    auto v = reader.read_obj<uint32_t>();
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, 0x06070809u);
}

TEST_F(ChainIoTest, WriterFillsOnlyWritableBuffers) {
    fill(0x10000, std::array<uint8_t, 4>{0xAA, 0xAA, 0xAA, 0xAA});
    auto c = chain({{0x10000, 4, 0}, {0x20000, 2, VRING_DESC_F_WRITE},
                    {0x30000, 3, VRING_DESC_F_WRITE}});
    ChainWriter writer(mem, c);
    EXPECT_EQ(writer.remaining(), 5u);
    ASSERT_TRUE(writer.write(std::array<uint8_t, 3>{1, 2, 3}));
    ASSERT_TRUE(writer.write_obj(uint8_t{4}));
    EXPECT_EQ(writer.bytes_written(), 4u);
    EXPECT_EQ(byte_at(0x20000), 1);
    EXPECT_EQ(byte_at(0x20001), 2);
    EXPECT_EQ(byte_at(0x30000), 3);
    EXPECT_EQ(byte_at(0x30001), 4);
    EXPECT_EQ(byte_at(0x30002), 0);
    EXPECT_EQ(byte_at(0x10000), 0xAA);   // the readable buffer is untouched
}

TEST_F(ChainIoTest, WriterRefusesOverflowAndWritesNothing) {
    auto c = chain({{0x20000, 2, VRING_DESC_F_WRITE}});
    ChainWriter writer(mem, c);
    EXPECT_FALSE(writer.write(std::array<uint8_t, 3>{1, 2, 3}));
    EXPECT_EQ(writer.bytes_written(), 0u);
    EXPECT_EQ(byte_at(0x20000), 0);
    EXPECT_EQ(writer.remaining(), 2u);
}

TEST_F(ChainIoTest, ReadOnlyChainHasNothingToWrite) {
    auto c = chain({{0x10000, 8, 0}});
    ChainWriter writer(mem, c);
    EXPECT_EQ(writer.remaining(), 0u);
    EXPECT_FALSE(writer.write_obj(uint8_t{1}));
    EXPECT_TRUE(writer.write({}));
}

} // namespace
} // namespace minivmm::virtio
