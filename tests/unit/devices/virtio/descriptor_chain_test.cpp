// Tests of virtio::DescriptorChain::parse: bounds, loops, lengths, order, indirect tables.
#include "virtio/descriptor_chain.hpp"

#include <gtest/gtest.h>

#include "test_memory.hpp"
#include "virtio/virtio_ring.hpp"

namespace minivmm::virtio {
namespace {

using test::make_memory;
using test::MIB;

constexpr uint16_t SIZE = 8;
constexpr GuestAddress TABLE(0x1000);
constexpr GuestAddress INDIRECT_TABLE(0x8000);
constexpr uint64_t DATA = 0x10000;
constexpr uint16_t NEXT = VRING_DESC_F_NEXT;
constexpr uint16_t WRITE = VRING_DESC_F_WRITE;
constexpr uint16_t INDIRECT = VRING_DESC_F_INDIRECT;

struct DescriptorChainTest : ::testing::Test {
    GuestMemory mem = make_memory();

    void put(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags = 0, uint16_t next = 0,
             GuestAddress table = TABLE) {
        vring_desc d{addr, len, flags, next};
        ASSERT_TRUE(mem.write_obj(table + 16ULL * i, d));
    }
    Result<DescriptorChain> parse(uint16_t head, Indirect indirect = Indirect::Refused,
                                  uint16_t size = SIZE) {
        return DescriptorChain::parse(mem, {TABLE, size}, head, indirect);
    }
};

TEST_F(DescriptorChainTest, ProducesBuffersReadableThenWritable) {
    put(2, DATA, 16, NEXT, 5);
    put(5, DATA + 0x100, 100, NEXT | WRITE, 1);
    put(1, DATA + 0x200, 1, WRITE);
    auto chain = parse(2);
    ASSERT_TRUE(chain) << chain.error().message();
    EXPECT_EQ(chain->head(), 2);
    ASSERT_EQ(chain->buffers().size(), 3u);
    EXPECT_EQ(chain->buffers()[0].addr, GuestAddress(DATA));
    EXPECT_EQ(chain->buffers()[0].direction, Direction::Readable);
    EXPECT_EQ(chain->buffers()[1].len, 100u);
    EXPECT_EQ(chain->buffers()[2].direction, Direction::Writable);
    EXPECT_EQ(chain->readable_len(), 16u);
    EXPECT_EQ(chain->writable_len(), 101u);
}

// Defensive: Queue::pop already refuses such heads.
TEST_F(DescriptorChainTest, RefusesHeadOutOfRange) {
    EXPECT_FALSE(parse(SIZE));
    EXPECT_FALSE(parse(0xFFFF));
}

TEST_F(DescriptorChainTest, RefusesNextOutOfRange) {
    put(0, DATA, 16, NEXT, SIZE);
    EXPECT_FALSE(parse(0));
    put(0, DATA, 16, NEXT, 0xFFFF);
    EXPECT_FALSE(parse(0));
}

TEST_F(DescriptorChainTest, RefusesLoops) {
    put(0, DATA, 16, NEXT, 0);   // self-loop
    EXPECT_FALSE(parse(0));
    put(0, DATA, 16, NEXT, 1);   // 2-cycle
    put(1, DATA, 16, NEXT, 0);
    EXPECT_FALSE(parse(0));
    put(0, DATA, 16, NEXT, 1);   // cycle entered after 2 descriptors: 0 -> 1 -> 2 -> 3 -> 2
    put(1, DATA, 16, NEXT, 2);
    put(2, DATA, 16, NEXT, 3);
    put(3, DATA, 16, NEXT, 2);
    EXPECT_FALSE(parse(0));
    for (uint16_t i = 0; i < SIZE; ++i)   // loop through the whole table
        put(i, DATA, 16, NEXT, static_cast<uint16_t>((i + 1) % SIZE));
    EXPECT_FALSE(parse(3));
}

TEST_F(DescriptorChainTest, AcceptsChainOfQueueSizeAndRefusesOneMore) {
    for (uint16_t i = 0; i + 1 < SIZE; ++i) put(i, DATA, 16, NEXT, static_cast<uint16_t>(i + 1));
    put(SIZE - 1, DATA, 16);
    auto chain = parse(0);
    ASSERT_TRUE(chain) << chain.error().message();
    EXPECT_EQ(chain->buffers().size(), SIZE);
    put(SIZE - 1, DATA, 16, NEXT, 0);   // one more via a reused index
    put(0, DATA, 16, NEXT, 1);
    EXPECT_FALSE(parse(0));
}

// Chains up to 4 buffers are kept inside the object, longer ones on the heap: every length
// across that boundary keeps every buffer, in order, also after the chain is copied or moved.
TEST_F(DescriptorChainTest, KeepsEveryBufferInOrderAtEveryLength) {
    for (uint16_t n = 1; n <= SIZE; ++n) {
        for (uint16_t i = 0; i < n; ++i) {
            const bool last = i + 1 == n;
            put(i, DATA + 0x100ULL * i, 10u + i, last ? 0 : NEXT, static_cast<uint16_t>(i + 1));
        }
        auto parsed = parse(0);
        ASSERT_TRUE(parsed) << parsed.error().message();
        const DescriptorChain copy = *parsed;
        const DescriptorChain moved = std::move(*parsed);
        for (const DescriptorChain* chain : {&copy, &moved}) {
            ASSERT_EQ(chain->buffers().size(), n);
            for (uint16_t i = 0; i < n; ++i) {
                EXPECT_EQ(chain->buffers()[i].addr, GuestAddress(DATA + 0x100ULL * i)) << n;
                EXPECT_EQ(chain->buffers()[i].len, 10u + i) << n;
            }
            EXPECT_EQ(chain->readable_len(), n * 10u + n * (n - 1u) / 2u);
        }
    }
}

TEST_F(DescriptorChainTest, RefusesBuffersOutsideRam) {
    mem = make_memory({{GuestAddress(0), MIB}, {GuestAddress(2 * MIB), MIB}});
    const std::pair<uint64_t, uint32_t> cases[] = {
        {MIB - 8, 16},            // straddles the end of a region
        {MIB - 8, 8 + MIB},       // spans the hole into the next region
        {MIB + 64, 16},           // in the hole
        {~0ULL - 7, 16},          // addr + len wraps 2^64
        {DATA, 0xFFFFFFFF},       // longer than RAM
    };
    for (auto [addr, len] : cases) {
        put(0, addr, len);
        EXPECT_FALSE(parse(0)) << addr;
    }
    put(0, MIB - 8, 8);   // ends exactly at the end of the region
    EXPECT_TRUE(parse(0));
}

TEST_F(DescriptorChainTest, RefusesTotalLengthAbove4GiB) {
    mem = make_memory({{GuestAddress(0), 64 * MIB}});   // anonymous, untouched: cheap
    const uint32_t len = 32 * MIB;
    for (uint16_t i = 0; i < SIZE; ++i)
        put(i, 32 * MIB, len, i + 1 < SIZE ? NEXT : 0, static_cast<uint16_t>(i + 1));
    // 8 x 32 MiB = 256 MiB fits; 128 x 32 MiB = 4 GiB does not fit in a u32 length.
    EXPECT_TRUE(parse(0));
    for (uint16_t i = 0; i < 256; ++i)
        put(i, 32 * MIB, len, i + 1 < 256 ? NEXT : 0, static_cast<uint16_t>(i + 1));
    EXPECT_FALSE(parse(128, Indirect::Refused, 256));   // 128 descriptors: exactly 2^32
    EXPECT_TRUE(parse(129, Indirect::Refused, 256));    // 127 descriptors: below 2^32
}

// Zero-length descriptors are skipped, never turned into buffers.
TEST_F(DescriptorChainTest, SkipsZeroLengthDescriptors) {
    put(0, 0xdead0000ULL, 0);   // address not used
    auto one = parse(0);
    ASSERT_TRUE(one);
    EXPECT_TRUE(one->buffers().empty());
    for (uint16_t i = 0; i < SIZE; ++i)
        put(i, ~0ULL, 0, i + 1 < SIZE ? NEXT : 0, static_cast<uint16_t>(i + 1));
    auto all = parse(0);
    ASSERT_TRUE(all);
    EXPECT_TRUE(all->buffers().empty());
    put(0, DATA, 8, NEXT, 1);
    put(1, DATA, 0, WRITE | NEXT, 2);   // zero-length writable does not start the writable part
    put(2, DATA, 4, NEXT, 3);
    put(3, DATA, 4, WRITE);
    auto mixed = parse(0);
    ASSERT_TRUE(mixed) << mixed.error().message();
    ASSERT_EQ(mixed->buffers().size(), 3u);
    EXPECT_EQ(mixed->readable_len(), 12u);
    EXPECT_EQ(mixed->writable_len(), 4u);
    put(7, DATA, 0, NEXT, 7);   // zero-length loop: still bounded
    EXPECT_FALSE(parse(7));
}

TEST_F(DescriptorChainTest, RefusesReadableAfterWritable) {
    put(0, DATA, 8, WRITE | NEXT, 1);
    put(1, DATA, 8);
    EXPECT_FALSE(parse(0));
}

// The chain holds copies; rewriting the descriptors afterwards changes nothing.
TEST_F(DescriptorChainTest, KeepsCopiesOfDescriptors) {
    put(0, DATA, 8, NEXT, 1);
    put(1, DATA + 8, 8, WRITE);
    auto chain = parse(0);
    ASSERT_TRUE(chain);
    put(0, ~0ULL, 0xFFFFFFFF, WRITE | NEXT, 0);
    put(1, 0, 0, 0);
    ASSERT_EQ(chain->buffers().size(), 2u);
    EXPECT_EQ(chain->buffers()[0].addr, GuestAddress(DATA));
    EXPECT_EQ(chain->buffers()[0].len, 8u);
    EXPECT_EQ(chain->buffers()[1].direction, Direction::Writable);
}

TEST_F(DescriptorChainTest, FollowsIndirectTableAfterDirectDescriptors) {
    put(0, DATA, 4, NEXT, 1);
    put(1, INDIRECT_TABLE.value(), 3 * 16, INDIRECT | WRITE);   // WRITE ignored here
    put(0, DATA + 4, 4, NEXT, 2, INDIRECT_TABLE);
    put(2, DATA + 8, 4, NEXT | WRITE, 1, INDIRECT_TABLE);
    put(1, DATA + 12, 4, WRITE, 0, INDIRECT_TABLE);
    auto chain = parse(0, Indirect::Allowed);
    ASSERT_TRUE(chain) << chain.error().message();
    ASSERT_EQ(chain->buffers().size(), 4u);
    EXPECT_EQ(chain->readable_len(), 8u);
    EXPECT_EQ(chain->writable_len(), 8u);
    EXPECT_EQ(chain->buffers()[3].addr, GuestAddress(DATA + 12));
}

TEST_F(DescriptorChainTest, RefusesBadIndirectDescriptors) {
    put(0, DATA, 8, 0, 0, INDIRECT_TABLE);
    put(0, INDIRECT_TABLE.value(), 16, INDIRECT);
    EXPECT_TRUE(parse(0, Indirect::Allowed));
    EXPECT_FALSE(parse(0, Indirect::Refused));   // feature not negotiated

    const struct { uint64_t addr; uint32_t len; uint16_t flags; } cases[] = {
        {INDIRECT_TABLE.value(), 0, INDIRECT},                // len 0
        {INDIRECT_TABLE.value(), 24, INDIRECT},               // len % 16 != 0
        {INDIRECT_TABLE.value(), 16, INDIRECT | NEXT},        // INDIRECT|NEXT
        {MIB - 16, 32, INDIRECT},                             // table leaves RAM
        {~0ULL - 15, 32, INDIRECT},                           // table address wraps
        {INDIRECT_TABLE.value(), 257 * 16, INDIRECT},         // more than 256 entries
    };
    for (const auto& c : cases) {
        put(0, c.addr, c.len, c.flags, 1);
        put(1, DATA, 8);
        EXPECT_FALSE(parse(0, Indirect::Allowed)) << c.addr << " " << c.len;
    }
    // Nested: an indirect descriptor inside the indirect table.
    put(0, INDIRECT_TABLE.value(), 16, INDIRECT);
    put(0, INDIRECT_TABLE.value(), 16, INDIRECT, 0, INDIRECT_TABLE);
    EXPECT_FALSE(parse(0, Indirect::Allowed));
    // A loop inside the indirect table is bounded by its entry count.
    put(0, INDIRECT_TABLE.value(), 32, INDIRECT);
    put(0, DATA, 8, NEXT, 1, INDIRECT_TABLE);
    put(1, DATA, 8, NEXT, 0, INDIRECT_TABLE);
    EXPECT_FALSE(parse(0, Indirect::Allowed));
    // `next` beyond the indirect table's entries.
    put(1, DATA, 8, NEXT, 2, INDIRECT_TABLE);
    EXPECT_FALSE(parse(0, Indirect::Allowed));
}

TEST_F(DescriptorChainTest, AcceptsIndirectTableOf256Entries) {
    for (uint16_t i = 0; i < 256; ++i)
        put(i, DATA, 1, i + 1 < 256 ? NEXT : 0, static_cast<uint16_t>(i + 1), INDIRECT_TABLE);
    put(0, INDIRECT_TABLE.value(), 256 * 16, INDIRECT);
    auto chain = parse(0, Indirect::Allowed);
    ASSERT_TRUE(chain) << chain.error().message();
    EXPECT_EQ(chain->readable_len(), 256u);
}

} // namespace
} // namespace minivmm::virtio
