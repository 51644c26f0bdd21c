// Tests of virtio::Queue notification suppression (Virtio 1.2 §2.7.7, §2.7.10) and of a driver
// thread racing the device on the rings.
#include "virtio/queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "guest_driver.hpp"
#include "test_memory.hpp"

namespace minivmm::virtio {
namespace {

using test::GuestDriver;
using test::make_memory;

// The window test stays right across the 16-bit wrap.
TEST(NeedEvent, TrueOnlyWhenEventIndexIsPassed) {
    EXPECT_TRUE(need_event(0, 1, 0));
    EXPECT_FALSE(need_event(1, 1, 0));
    EXPECT_TRUE(need_event(2, 5, 1));
    EXPECT_FALSE(need_event(0, 5, 1));   // already signalled past it
    EXPECT_TRUE(need_event(0xFFFF, 1, 0xFFFE));
    EXPECT_TRUE(need_event(0, 1, 0xFFFE));
    EXPECT_FALSE(need_event(2, 1, 0xFFFE));
    EXPECT_FALSE(need_event(0xFFFD, 1, 0xFFFE));
}

struct QueueNotify : ::testing::Test {
    static constexpr uint16_t SIZE = 8;
    GuestMemory mem = make_memory();
    GuestDriver driver{mem, SIZE};
    Queue q;

    void start(uint64_t features) {
        driver.configure(q, features);
        ASSERT_TRUE(q.activate(mem));
    }
    void complete_one() {
        driver.add_chain({{driver.alloc(8), 8, Direction::Writable}});
        driver.publish();
        auto head = q.pop();
        ASSERT_TRUE(head);
        ASSERT_TRUE(q.add_used(*head, 0));
    }
};

TEST_F(QueueNotify, InterruptsUnlessDriverSetsNoInterrupt) {
    start(0);
    complete_one();
    EXPECT_TRUE(q.needs_notification());
    driver.set_avail_flags(VRING_AVAIL_F_NO_INTERRUPT);
    complete_one();
    EXPECT_FALSE(q.needs_notification());
}

TEST_F(QueueNotify, EventIdxInterruptsWhenUsedEventIsPassed) {
    start(FEATURE_EVENT_IDX);
    driver.set_avail_flags(VRING_AVAIL_F_NO_INTERRUPT);   // ignored with EVENT_IDX
    driver.set_used_event(2);
    complete_one();                          // used idx 1
    EXPECT_TRUE(q.needs_notification());     // first check always signals
    complete_one();                          // used idx 2: entry 2 not used yet
    EXPECT_FALSE(q.needs_notification());
    complete_one();                          // used idx 3: passes used_event 2
    EXPECT_TRUE(q.needs_notification());
    EXPECT_FALSE(q.needs_notification());    // nothing new since
}

TEST_F(QueueNotify, NoNotifyFlagFollowsEnableAndDisable) {
    start(0);
    q.disable_notification();
    EXPECT_EQ(driver.used_flags(), VRING_USED_F_NO_NOTIFY);
    EXPECT_FALSE(q.enable_notification());
    EXPECT_EQ(driver.used_flags(), 0);
}

TEST_F(QueueNotify, EventIdxEnableWritesAvailEvent) {
    start(FEATURE_EVENT_IDX);
    complete_one();
    complete_one();
    q.disable_notification();
    EXPECT_EQ(driver.used_flags(), 0);   // EVENT_IDX: flags unused
    EXPECT_FALSE(q.enable_notification());
    EXPECT_EQ(driver.avail_event(), 2);
}

// Both orders of "driver publishes + decides to kick" and "device re-enables and
// rechecks" end with the buffer processed: either the device sees it or the driver kicks.
TEST_F(QueueNotify, NoLostWakeupInEitherOrder) {
    for (uint64_t features : {uint64_t{0}, FEATURE_EVENT_IDX}) {
        for (bool driver_first : {true, false}) {
            q.reset();
            GuestDriver d(mem, SIZE, GuestAddress(driver_first ? 0x40000 : 0x60000));
            d.configure(q, features);
            ASSERT_TRUE(q.activate(mem));
            // Two requests done while notifications were enabled, then the device disables
            // them (with EVENT_IDX that leaves avail_event stale at 0).
            EXPECT_FALSE(q.enable_notification());
            for (int i = 0; i < 2; ++i) {
                d.add_chain({{d.alloc(8), 8, Direction::Readable}});
                d.publish();
                auto head = q.pop();
                ASSERT_TRUE(head);
                ASSERT_TRUE(q.add_used(*head, 0));
                d.pop_used();
            }
            q.disable_notification();
            auto driver_adds = [&] {
                d.add_chain({{d.alloc(8), 8, Direction::Readable}});
                d.publish();
                // Linux virtqueue_kick_prepare: with EVENT_IDX, kick if avail_event is in
                // (old, new] = (2, 3]; otherwise unless NO_NOTIFY is set.
                return features != 0 ? need_event(d.avail_event(), 3, 2)
                                     : (d.used_flags() & VRING_USED_F_NO_NOTIFY) == 0;
            };
            bool kicked = false, device_sees = false;
            if (driver_first) {
                kicked = driver_adds();
                device_sees = q.enable_notification();
            } else {
                device_sees = q.enable_notification();
                kicked = driver_adds();
            }
            EXPECT_TRUE(kicked || device_sees) << features << driver_first;
            EXPECT_TRUE(q.pop().has_value());
        }
    }
}

TEST_F(QueueNotify, PollAvailableReturnsAtOnceWhenBuffersWait) {
    start(0);
    driver.add_chain({{driver.alloc(8), 8, Direction::Writable}});
    driver.publish();
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(q.poll_available(std::chrono::seconds(30)));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
    EXPECT_TRUE(q.poll_available(std::chrono::nanoseconds(0)));
    EXPECT_TRUE(q.pop());
}

TEST_F(QueueNotify, PollAvailableGivesUpAfterItsBudget) {
    start(0);
    EXPECT_FALSE(q.poll_available(std::chrono::nanoseconds(0)));
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(q.poll_available(std::chrono::milliseconds(20)));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(20));
}

// A driver thread publishes while the device polls: the poll sees it (acquire on avail->idx).
TEST_F(QueueNotify, PollAvailableSeesABufferPublishedMeanwhile) {
    start(0);
    const GuestAddress buf = driver.alloc(8);
    std::thread publisher([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        driver.add_chain({{buf, 8, Direction::Writable}});
        driver.publish();
    });
    const bool seen = q.poll_available(std::chrono::seconds(30));
    publisher.join();
    EXPECT_TRUE(seen);
    EXPECT_TRUE(q.pop());
}

// A driver thread polls used->idx (acquire) while the device thread completes
// (release). Every used entry the driver reads must be complete and in order; run under TSan
// (MINIVMM_SANITIZE=thread) to check for races.
TEST(QueueThreads, DriverPollingUsedIndexSeesCompleteEntries) {
    auto mem = make_memory();
    constexpr uint16_t SIZE = 32;
    constexpr uint32_t TOTAL = 20000;
    GuestDriver driver(mem, SIZE);
    Queue q;
    driver.configure(q);
    ASSERT_TRUE(q.activate(mem));
    const GuestAddress buf = driver.alloc(64);
    std::atomic<bool> stop{false};

    std::thread device([&] {
        uint32_t done = 0;
        while (done < TOTAL && !stop.load()) {
            if (auto head = q.pop()) {
                // The descriptors were written before the driver's release of avail->idx.
                auto chain = q.chain(*head);
                if (!chain || chain->writable_len() != 64) break;
                if (!q.add_used(*head, *head + 1u)) break;
                ++done;
            } else {
                std::this_thread::yield();
            }
        }
    });
    uint32_t submitted = 0, completed = 0;
    bool ok = true;
    while (completed < TOTAL && ok) {
        while (submitted < TOTAL && driver.free_descriptors() > 0) {
            driver.add_chain({{buf, 64, Direction::Writable}});
            ++submitted;
        }
        driver.publish();
        const uint16_t idx = driver.used_idx();
        // The device never completes more than is in flight. (Not "idx moves at most SIZE
        // between two reads": the device may complete more between a read and pop_used, whose
        // descriptors are then submitted again before the next read.)
        ok = static_cast<uint16_t>(idx - static_cast<uint16_t>(completed)) <= submitted - completed;
        while (auto e = driver.pop_used()) {
            ok = ok && e->id < SIZE && e->len == e->id + 1;
            ++completed;
        }
        if (completed < TOTAL) std::this_thread::yield();
    }
    stop = true;
    device.join();
    EXPECT_TRUE(ok);
    EXPECT_EQ(completed, TOTAL);
    EXPECT_FALSE(q.broken());
}

} // namespace
} // namespace minivmm::virtio
