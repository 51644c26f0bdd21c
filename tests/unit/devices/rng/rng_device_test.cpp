// virtio-rng against plain guest memory: GuestDriver plays the driver, the clock and the
// entropy are the test's, the refill timer is recorded.
#include "rng/rng_device.hpp"

#include <gtest/gtest.h>
#include <linux/virtio_ids.h>

#include "fake_device_context.hpp"
#include "guest_driver.hpp"
#include "recording_event_sources.hpp"
#include "test_memory.hpp"

namespace minivmm::rng {
namespace {

using namespace std::chrono_literals;
using test::DriverBuffer;
using virtio::Direction;

// 0, 1, 2, ... (mod 256) across calls, so every byte written can be traced; can be told to fail.
class CountingSource : public EntropySource {
public:
    Result<void> fill(std::span<uint8_t> out) override {
        if (fail) return Error(ErrorCode::Host, "no entropy today");
        for (uint8_t& b : out) b = next++;
        return {};
    }
    uint8_t next = 0;
    bool fail = false;
};

struct Rig {
    explicit Rig(uint64_t rate = RngTuning::DEFAULT_RATE, unsigned max_requests = 256)
        : mem(test::make_memory({{GuestAddress(0), 4 * test::MIB}})), drv(mem, 64),
          ctx(mem, 1, 64) {
        auto s = std::make_unique<CountingSource>();
        source = s.get();
        RngTuning tuning;
        tuning.bytes_per_sec = rate;
        tuning.max_requests = max_requests;
        device = std::make_unique<RngDevice>(std::move(s), events, tuning, [this] { return now; });
        drv.configure(ctx.queue(0), 0);
        if (!ctx.queue(0).activate(mem)) throw std::runtime_error("queue activation");
        if (!device->activate(ctx, device->features())) throw std::runtime_error("activate");
    }
    // One request of writable buffers of these lengths (after one readable buffer if asked).
    uint16_t request(std::vector<uint32_t> lens, bool readable_first = false) {
        std::vector<DriverBuffer> bufs;
        if (readable_first) bufs.push_back({drv.alloc(8), 8, Direction::Readable});
        for (uint32_t len : lens) {
            GuestAddress a = drv.alloc(len);
            drv.fill(a, std::vector<uint8_t>(len, 0xee));
            bufs.push_back({a, len, Direction::Writable});
            addrs.push_back(a);
        }
        return drv.add_chain(bufs);
    }

    GuestMemory mem;
    test::GuestDriver drv;
    test::FakeDeviceContext ctx;
    test::RecordingEventSources events;
    CountingSource* source = nullptr;
    std::chrono::nanoseconds now = 10s;
    std::unique_ptr<RngDevice> device;
    std::vector<GuestAddress> addrs;   // the writable buffers, in order
};

TEST(RngDevice, IsTypeFourWithOneQueueAndNoConfiguration) {
    Rig rig;
    EXPECT_EQ(rig.device->device_type(), uint32_t{VIRTIO_ID_RNG});
    EXPECT_EQ(rig.device->device_type(), 4u);
    EXPECT_EQ(rig.device->num_queues(), 1u);
    EXPECT_EQ(rig.device->config_size(), 0u);
    EXPECT_EQ(rig.device->features(), uint64_t{1} << 32);   // VIRTIO_F_VERSION_1 only
}

TEST(RngDevice, FillsEveryWritableBufferOfARequestOfAnyShape) {
    Rig rig;
    const uint16_t head = rig.request({3, 100, 1}, /*readable_first=*/true);
    const uint16_t single = rig.request({4096});
    rig.drv.publish();
    rig.device->process_queue(rig.ctx, 0);
    auto used = rig.drv.pop_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(used->id, head);
    EXPECT_EQ(used->len, 104u);
    // The entropy in order across the buffers; the readable buffer is ignored.
    std::vector<uint8_t> got;
    for (size_t i = 0; i < 3; ++i) {
        auto part = rig.drv.read(rig.addrs[i], i == 0 ? 3 : i == 1 ? 100 : 1);
        got.insert(got.end(), part.begin(), part.end());
    }
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], static_cast<uint8_t>(i));
    used = rig.drv.pop_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(used->id, single);
    EXPECT_EQ(used->len, 4096u);
    EXPECT_EQ(rig.ctx.used_signals, 1u);   // one interrupt for the pass
    EXPECT_EQ(rig.device->counters().bytes, 4200u);
}

TEST(RngDevice, AChainWithNoWritableBufferCompletesWithNothingWritten) {
    Rig rig;
    GuestAddress r = rig.drv.alloc(16);
    rig.drv.fill(r, std::vector<uint8_t>(16, 0xee));
    const uint16_t head = rig.drv.add_chain({{r, 16, Direction::Readable}});
    const uint16_t next = rig.request({8});
    rig.drv.publish();
    rig.device->process_queue(rig.ctx, 0);
    auto used = rig.drv.pop_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(used->id, head);
    EXPECT_EQ(used->len, 0u);
    EXPECT_EQ(rig.drv.read(r, 16), std::vector<uint8_t>(16, 0xee));
    used = rig.drv.pop_used();
    ASSERT_TRUE(used);   // the device goes on with the next request
    EXPECT_EQ(used->id, next);
    EXPECT_EQ(used->len, 8u);
    EXPECT_FALSE(rig.ctx.needs_reset);
}

TEST(RngDevice, RequestsBeyondTheBudgetWaitForTheNextPeriodAndAreNeverDropped) {
    Rig rig(1000);   // 100 bytes per 100 ms
    rig.now = 10s + 30ms;
    rig.request({80});
    rig.request({80});
    rig.request({80});
    rig.drv.publish();
    rig.device->process_queue(rig.ctx, 0);
    auto a = rig.drv.pop_used();
    auto b = rig.drv.pop_used();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->len, 80u);
    EXPECT_EQ(b->len, 20u);   // what was left of the period's budget
    EXPECT_FALSE(rig.drv.pop_used());   // the third waits on the ring
    EXPECT_TRUE(rig.device->waiting());
    ASSERT_TRUE(rig.events.timer);
    EXPECT_EQ(*rig.events.timer, 70ms);   // until the next period
    // A notification meanwhile changes nothing: still waiting, nothing served.
    rig.device->process_queue(rig.ctx, 0);
    EXPECT_FALSE(rig.drv.pop_used());
    // The timer fires at the next period: the third is served.
    rig.now = 10s + 100ms;
    rig.device->process_backend(rig.ctx);
    auto c = rig.drv.pop_used();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->len, 80u);
    EXPECT_FALSE(rig.device->waiting());
    EXPECT_EQ(rig.device->counters().requests, 3u);
    EXPECT_EQ(rig.device->counters().waits, 1u);
}

TEST(RngDevice, OverASecondItServesNoMoreThanTheRate) {
    Rig rig(10'000);   // 1000 bytes per period
    uint64_t bytes = 0;
    for (int step = 0; step < 10; ++step) {   // 10 periods, 64 requests of 64 bytes each time
        for (int i = 0; i < 16; ++i) rig.request({64});
        rig.drv.publish();
        rig.device->process_queue(rig.ctx, 0);
        if (rig.device->waiting()) rig.device->process_backend(rig.ctx);   // a stale wake-up
        while (auto u = rig.drv.pop_used()) bytes += u->len;
        rig.now += 100ms;
        if (rig.device->waiting()) rig.device->process_backend(rig.ctx);
        while (auto u = rig.drv.pop_used()) bytes += u->len;
    }
    EXPECT_LE(bytes, 11'000u);   // ten periods, and the first of the eleventh
    EXPECT_GE(bytes, 10'000u);
}

TEST(RngDevice, ResetDisarmsTheTimerAndDoesNotRefillTheBudget) {
    Rig rig(1000);
    rig.request({100});
    rig.request({10});
    rig.drv.publish();
    rig.device->process_queue(rig.ctx, 0);
    EXPECT_TRUE(rig.device->waiting());
    EXPECT_TRUE(rig.events.timer);
    rig.device->reset();
    EXPECT_FALSE(rig.device->waiting());
    EXPECT_FALSE(rig.events.timer);
    // The driver sets the device up again within the same period: the budget stays spent.
    test::GuestDriver drv2(rig.mem, 64, GuestAddress(0x200000));
    rig.ctx.queue(0).reset();
    drv2.configure(rig.ctx.queue(0), 0);
    ASSERT_TRUE(rig.ctx.queue(0).activate(rig.mem));
    ASSERT_TRUE(rig.device->activate(rig.ctx, rig.device->features()));
    GuestAddress a = drv2.alloc(10);
    drv2.add_chain({{a, 10, Direction::Writable}});
    drv2.publish();
    rig.device->process_queue(rig.ctx, 0);
    EXPECT_FALSE(drv2.pop_used());
    EXPECT_TRUE(rig.events.timer);
    rig.now += 100ms;
    rig.device->process_backend(rig.ctx);
    auto u = drv2.pop_used();
    ASSERT_TRUE(u);
    EXPECT_EQ(u->len, 10u);
}

TEST(RngDevice, YieldsTheThreadAfterItsRequestBudget) {
    Rig rig(RngTuning::DEFAULT_RATE, 4);
    for (int i = 0; i < 6; ++i) rig.request({16});
    rig.drv.publish();
    rig.device->process_queue(rig.ctx, 0);
    EXPECT_EQ(rig.ctx.requeues, 1u);
    EXPECT_EQ(rig.drv.used_idx(), 4u);
    rig.device->process_queue(rig.ctx, 0);
    EXPECT_EQ(rig.ctx.requeues, 1u);
    EXPECT_EQ(rig.drv.used_idx(), 6u);
}

TEST(RngDevice, AFailingSourceCompletesTheRequestEmpty) {
    Rig rig;
    rig.source->fail = true;
    rig.request({32});
    rig.drv.publish();
    rig.device->process_queue(rig.ctx, 0);
    auto u = rig.drv.pop_used();
    ASSERT_TRUE(u);
    EXPECT_EQ(u->len, 0u);
    EXPECT_EQ(rig.device->counters().source_errors, 1u);
}

TEST(RngDevice, ABrokenRingServesNothing) {
    Rig rig;
    rig.drv.set_avail_idx(200);   // more than the queue size ahead
    rig.device->process_queue(rig.ctx, 0);
    EXPECT_TRUE(rig.ctx.queue(0).broken());
    EXPECT_EQ(rig.drv.used_idx(), 0u);
}

} // namespace
} // namespace minivmm::rng
