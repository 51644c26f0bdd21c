// Tests of virtio::Queue: geometry checks, pop/add_used, ring protocol violations, wrap, reset.
#include "virtio/queue.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>

#include "guest_driver.hpp"
#include "test_memory.hpp"
#include "virtio/chain_io.hpp"

namespace minivmm::virtio {
namespace {

using test::DriverBuffer;
using test::GuestDriver;
using test::make_memory;
using test::MIB;

constexpr GuestAddress DESC(0x1000);
constexpr GuestAddress AVAIL(0x3000);
constexpr GuestAddress USED(0x4000);

Queue configured(uint16_t size, GuestAddress desc = DESC, GuestAddress avail = AVAIL,
                 GuestAddress used = USED) {
    Queue q;
    q.set_size(size);
    q.set_desc_table(desc);
    q.set_avail_ring(avail);
    q.set_used_ring(used);
    return q;
}

TEST(Queue, ActivatesPowerOfTwoSizesUpToMax) {
    auto mem = make_memory();
    for (uint16_t size : std::initializer_list<uint16_t>{1, 2, 64, 256}) {
        Queue q = configured(size);
        ASSERT_TRUE(q.activate(mem)) << size;
        EXPECT_TRUE(q.ready());
        EXPECT_EQ(q.size(), size);
    }
}

TEST(Queue, RefusesSizeNotPowerOfTwoOrAboveMax) {
    auto mem = make_memory();
    for (uint16_t size : std::initializer_list<uint16_t>{0, 3, 255, 257, 512, 65535}) {
        Queue q = configured(size);
        EXPECT_FALSE(q.activate(mem)) << size;
        EXPECT_FALSE(q.ready());
        EXPECT_EQ(q.pop(), std::nullopt);   // no slot arithmetic on a bad size
        EXPECT_EQ(q.available(), 0);
        EXPECT_FALSE(q.add_used(0, 0));
    }
}

TEST(Queue, RefusesMisalignedRings) {
    auto mem = make_memory();
    EXPECT_FALSE(configured(16, GuestAddress(0x1008)).activate(mem));
    EXPECT_FALSE(configured(16, DESC, GuestAddress(0x3001)).activate(mem));
    EXPECT_FALSE(configured(16, DESC, AVAIL, GuestAddress(0x4002)).activate(mem));
    EXPECT_TRUE(configured(16, DESC, GuestAddress(0x3002), GuestAddress(0x4004)).activate(mem));
}

TEST(Queue, RefusesRingsOutsideRam) {
    // RAM [0, 1 MiB) and [2 MiB, 3 MiB), a hole between them.
    auto mem = make_memory({{GuestAddress(0), MIB}, {GuestAddress(2 * MIB), MIB}});
    const GuestAddress cases[] = {
        GuestAddress(MIB - 16),       // straddles the end of the first region
        GuestAddress(MIB + 0x1000),   // in the hole
        GuestAddress(2 * MIB - 16),   // starts in the hole, ends in RAM
        GuestAddress(64 * MIB),       // past the end of RAM
        GuestAddress(~0ULL - 15),     // 2^64-16: addr + len wraps
    };
    for (GuestAddress bad : cases) {
        EXPECT_FALSE(configured(16, bad).activate(mem)) << bad.value();
        EXPECT_FALSE(configured(16, DESC, bad).activate(mem)) << bad.value();
        EXPECT_FALSE(configured(16, DESC, AVAIL, bad).activate(mem)) << bad.value();
    }
    EXPECT_FALSE(configured(16, DESC, AVAIL, GuestAddress(~0ULL - 7)).activate(mem));
    // The used ring is 6+8N bytes: ending exactly at the end of RAM is fine, one byte more not.
    EXPECT_TRUE(configured(16, DESC, AVAIL, GuestAddress(3 * MIB - 136)).activate(mem));
    EXPECT_FALSE(configured(16, DESC, AVAIL, GuestAddress(3 * MIB - 132)).activate(mem));
}

TEST(Queue, IgnoresConfigWritesWhileReady) {
    auto mem = make_memory();
    Queue q = configured(16);
    ASSERT_TRUE(q.activate(mem));
    q.set_size(4);
    EXPECT_EQ(q.size(), 16);
    EXPECT_FALSE(q.activate(mem));
}

struct Fixture : ::testing::Test {
    static constexpr uint16_t SIZE = 8;
    GuestMemory mem = make_memory();
    GuestDriver driver{mem, SIZE};
    Queue q;

    void SetUp() override {
        driver.configure(q);
        ASSERT_TRUE(q.activate(mem));
    }
    uint16_t add_simple() {
        return driver.add_chain({{driver.alloc(16), 16, Direction::Readable}});
    }
};

using QueuePop = Fixture;

TEST_F(QueuePop, ReturnsHeadsInOrderThenNothing) {
    const uint16_t a = add_simple(), b = add_simple();
    EXPECT_EQ(q.pop(), std::nullopt);   // not published yet
    driver.publish();
    EXPECT_EQ(q.available(), 2);
    EXPECT_EQ(q.pop(), a);
    EXPECT_EQ(q.pop(), b);
    EXPECT_EQ(q.pop(), std::nullopt);
    EXPECT_EQ(q.in_flight(), 2);
    EXPECT_FALSE(q.broken());
}

// avail->idx is read once per batch: heads up to the value read are served from it, and a bad
// index written meanwhile is caught at the next read.
TEST_F(QueuePop, ReadsTheAvailIndexOncePerBatch) {
    const uint16_t a = add_simple(), b = add_simple(), c = add_simple();
    driver.publish();
    EXPECT_EQ(q.pop(), a);
    driver.set_avail_idx(3 + SIZE + 1);   // the driver breaks the ring after the read
    EXPECT_EQ(q.pop(), b);
    EXPECT_EQ(q.pop(), c);
    EXPECT_FALSE(q.broken());
    EXPECT_EQ(q.pop(), std::nullopt);     // the next read sees the bad index
    EXPECT_TRUE(q.broken());
}

TEST_F(QueuePop, BreaksOnAvailIndexTooFarAhead) {
    for (uint16_t ahead : {uint16_t{SIZE + 1}, uint16_t{0x8000}, uint16_t{0xFFFF}}) {
        q.reset();
        driver.configure(q);
        ASSERT_TRUE(q.activate(mem));
        driver.set_avail_idx(ahead);
        EXPECT_EQ(q.pop(), std::nullopt) << ahead;
        EXPECT_TRUE(q.broken());
        EXPECT_EQ(q.pop(), std::nullopt);   // stays broken, processes nothing
        EXPECT_EQ(q.in_flight(), 0);
    }
}

TEST_F(QueuePop, AcceptsAvailIndexExactlySizeAhead) {
    for (uint16_t i = 0; i < SIZE; ++i) add_simple();
    driver.publish();
    for (uint16_t i = 0; i < SIZE; ++i) EXPECT_TRUE(q.pop().has_value());
    EXPECT_FALSE(q.broken());
    EXPECT_EQ(q.in_flight(), SIZE);
}

TEST_F(QueuePop, BreaksOnHeadOutOfRange) {
    for (uint16_t head : {uint16_t{SIZE}, uint16_t{0xFFFF}}) {
        q.reset();
        driver.configure(q);
        ASSERT_TRUE(q.activate(mem));
        driver.set_avail_idx(0);
        driver.push_head(head);
        driver.publish();
        EXPECT_EQ(q.pop(), std::nullopt) << head;
        EXPECT_TRUE(q.broken());
        EXPECT_FALSE(q.chain(head));
    }
}

TEST_F(QueuePop, BreaksOnHeadMadeAvailableTwiceWhileInFlight) {
    const uint16_t head = add_simple();
    driver.push_head(head);
    driver.publish();
    EXPECT_EQ(q.pop(), head);
    EXPECT_EQ(q.pop(), std::nullopt);
    EXPECT_TRUE(q.broken());
    EXPECT_TRUE(q.add_used(head, 0));
    EXPECT_FALSE(q.add_used(head, 0));   // exactly one used entry
    EXPECT_EQ(driver.used_idx(), 1);
}

TEST_F(QueuePop, DeferredUsedEntriesAppearTogetherAtPublish) {
    const uint16_t a = add_simple(), b = add_simple();
    driver.publish();
    ASSERT_EQ(q.pop(), a);
    ASSERT_EQ(q.pop(), b);
    EXPECT_TRUE(q.add_used_deferred(a, 1));
    EXPECT_TRUE(q.add_used_deferred(b, 2));
    EXPECT_FALSE(q.add_used_deferred(a, 1));   // completed already (not published yet)
    EXPECT_EQ(driver.used_idx(), 0);           // the driver sees nothing yet
    EXPECT_EQ(q.next_used(), 2);
    q.publish_used();
    EXPECT_EQ(driver.used_idx(), 2);
    auto ua = driver.pop_used(), ub = driver.pop_used();
    ASSERT_TRUE(ua && ub);
    EXPECT_EQ(ua->id, a);
    EXPECT_EQ(ua->len, 1u);
    EXPECT_EQ(ub->id, b);
    EXPECT_EQ(ub->len, 2u);
}

TEST_F(QueuePop, RefusesAddUsedForHeadNotInFlight) {
    EXPECT_FALSE(q.add_used(0, 0));
    EXPECT_FALSE(q.add_used(SIZE, 0));
    const uint16_t head = add_simple();
    driver.publish();
    ASSERT_EQ(q.pop(), head);
    EXPECT_TRUE(q.add_used(head, 3));
    EXPECT_FALSE(q.add_used(head, 3));
    EXPECT_EQ(driver.used_idx(), 1);
    EXPECT_EQ(driver.used_elem(0).id, head);
    EXPECT_EQ(driver.used_elem(0).len, 3u);
}

TEST_F(QueuePop, BoundsInFlightBySize) {
    for (uint16_t i = 0; i < SIZE; ++i) add_simple();
    driver.publish();
    while (q.pop()) ASSERT_LE(q.in_flight(), SIZE);
    // The guest never consumes the used ring and offers the same heads again.
    for (uint16_t h = 0; h < SIZE; ++h) driver.push_head(h);
    driver.publish();
    EXPECT_EQ(q.pop(), std::nullopt);
    EXPECT_EQ(q.in_flight(), SIZE);
}

TEST_F(QueuePop, CountsAvailableAcrossIndexWrap) {
    const GuestAddress buf = driver.alloc(16);
    for (uint32_t i = 0; i < 0xFFFE; ++i) {
        const uint16_t head = driver.add_chain({{buf, 16, Direction::Readable}});
        driver.publish();
        ASSERT_EQ(q.pop(), head);
        ASSERT_TRUE(q.add_used(head, 0));
        driver.pop_used();
    }
    EXPECT_EQ(q.next_avail(), 0xFFFE);
    for (int i = 0; i < 4; ++i) add_simple();
    driver.publish();   // avail->idx = 2, numerically below next_avail
    EXPECT_EQ(q.available(), 4);
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(q.pop().has_value());
    EXPECT_EQ(q.pop(), std::nullopt);
    EXPECT_FALSE(q.broken());
    EXPECT_EQ(q.next_avail(), 2);
    driver.set_avail_idx(static_cast<uint16_t>(2 + SIZE + 1));
    EXPECT_EQ(q.pop(), std::nullopt);
    EXPECT_TRUE(q.broken());
}

TEST_F(QueuePop, ResetDropsInFlightAndRestartsOnNewRings) {
    const uint16_t a = add_simple();
    add_simple();
    driver.publish();
    ASSERT_EQ(q.pop(), a);
    q.reset();
    EXPECT_FALSE(q.ready());
    EXPECT_FALSE(q.add_used(a, 1));   // late completion after reset
    EXPECT_EQ(driver.used_idx(), 0);
    EXPECT_EQ(driver.used_elem(0).id, 0u);
    EXPECT_EQ(driver.used_elem(0).len, 0u);

    GuestDriver other(mem, 4, GuestAddress(0x80000));
    other.configure(q);
    ASSERT_TRUE(q.activate(mem));
    EXPECT_EQ(q.next_avail(), 0);
    const uint16_t b = other.add_chain({{other.alloc(8), 8, Direction::Writable}});
    other.publish();
    ASSERT_EQ(q.pop(), b);
    EXPECT_TRUE(q.add_used(b, 8));
    EXPECT_EQ(other.used_idx(), 1);
    EXPECT_EQ(driver.used_idx(), 0);   // the old rings are untouched
}

// 70,000 requests, so both 16-bit ring indices wrap.
TEST(QueueWrap, CompletesSeventyThousandRequestsAcrossIndexWrap) {
    auto mem = make_memory();
    constexpr uint16_t SIZE = 16;
    GuestDriver driver(mem, SIZE);
    Queue q;
    driver.configure(q);
    ASSERT_TRUE(q.activate(mem));
    std::array<GuestAddress, SIZE> in{}, out{};
    for (auto& a : in) a = driver.alloc(8);
    for (auto& a : out) a = driver.alloc(16);

    constexpr uint32_t TOTAL = 70000;
    std::array<uint32_t, SIZE> slot_of{}, number_of{};
    uint32_t submitted = 0, completed = 0;
    while (completed < TOTAL) {
        // A batch of 1..3 requests, each: 8 readable bytes (the request number), 16 writable.
        for (uint32_t k = 0; k < 1 + submitted % 3 && submitted < TOTAL; ++k, ++submitted) {
            const uint32_t slot = submitted % SIZE;
            driver.fill(in[slot], {reinterpret_cast<const uint8_t*>(&submitted), 4});
            const uint16_t head = driver.add_chain(
                {{in[slot], 8, Direction::Readable}, {out[slot], 16, Direction::Writable}});
            slot_of[head] = slot;
            number_of[head] = submitted;
        }
        driver.publish();
        while (auto head = q.pop()) {
            auto chain = q.chain(*head);
            ASSERT_TRUE(chain);
            ChainReader reader(mem, *chain);
            auto number = reader.read_obj<uint32_t>();
            ASSERT_TRUE(number);
            ChainWriter writer(mem, *chain);
            ASSERT_TRUE(writer.write_obj(*number + 1));
            ASSERT_TRUE(q.add_used(*head, writer.bytes_written()));
        }
        while (auto e = driver.pop_used()) {
            ++completed;
            ASSERT_LT(e->id, SIZE);
            ASSERT_EQ(e->len, 4u);   // what the device wrote, within the 16 writable bytes
            const auto reply = driver.read(out[slot_of[e->id]], 4);
            uint32_t value = 0;
            std::memcpy(&value, reply.data(), 4);
            ASSERT_EQ(value, number_of[e->id] + 1);
        }
        ASSERT_EQ(driver.used_idx(), static_cast<uint16_t>(completed));
        ASSERT_EQ(completed, submitted);
    }
    EXPECT_EQ(q.next_used(), static_cast<uint16_t>(TOTAL));
    EXPECT_EQ(q.next_avail(), static_cast<uint16_t>(TOTAL));
    // The readable buffer of the last request still holds its number: nothing written there.
    const auto last = driver.read(in[(TOTAL - 1) % SIZE], 4);
    uint32_t n = 0;
    std::memcpy(&n, last.data(), 4);
    EXPECT_EQ(n, TOTAL - 1);
    EXPECT_FALSE(q.broken());
}

} // namespace
} // namespace minivmm::virtio
