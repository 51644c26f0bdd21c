// Tests of virtio::VirtioCore without any transport: the driver's operations called directly,
// the interrupt status readable while the I/O thread is inside the device, and the queue
// configuration window of §3.1.1.
#include "virtio/virtio_core.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "counting_irq_line.hpp"
#include "guest_driver.hpp"
#include "test_memory.hpp"

namespace minivmm::virtio {
namespace {

using test::DriverBuffer;
using test::GuestDriver;

constexpr uint64_t VERSION_1 = 1ULL << VIRTIO_F_VERSION_1;

// One queue; each pass completes what is available, after waiting for `gate` if one is set.
class GatedDevice : public VirtioDevice {
public:
    uint32_t device_type() const override { return VIRTIO_ID_RNG; }
    uint64_t features() const override { return VERSION_1; }
    size_t num_queues() const override { return 1; }
    size_t config_size() const override { return 0; }
    void read_config(uint64_t, std::span<uint8_t>) const override {}
    Result<void> activate(DeviceContext&, uint64_t) override { return {}; }
    void process_queue(DeviceContext& ctx, size_t index) noexcept override {
        if (entered) entered->set_value();
        if (gate) gate->wait();
        Queue& q = ctx.queue(index);
        while (auto head = q.pop()) (void)q.add_used(*head, 0);
        ctx.signal_used();
    }
    void reset() noexcept override {}

    std::promise<void>* entered = nullptr;
    std::shared_future<void>* gate = nullptr;
};

class VirtioCoreTest : public ::testing::Test {
protected:
    VirtioCoreTest()
        : mem(test::make_memory()), device(std::make_shared<GatedDevice>()),
          core(device, mem, make_irq(), "test"), ring(mem, 16, GuestAddress(0x1000)) {}

    std::unique_ptr<IrqLine> make_irq() {
        auto line = std::make_unique<CountingIrqLine>();
        irq = line.get();
        return line;
    }
    // §3.1.1 through the core's operations.
    void init() {
        core.write_status(VIRTIO_CONFIG_S_ACKNOWLEDGE);
        core.write_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
        core.write_driver_features(0, static_cast<uint32_t>(VERSION_1));
        core.write_driver_features(1, static_cast<uint32_t>(VERSION_1 >> 32));
        const uint32_t ok = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                            VIRTIO_CONFIG_S_FEATURES_OK;
        core.write_status(ok);
        core.set_queue_size(0, ring.size());
        core.set_queue_address(0, VirtioCore::Ring::Desc, ring.desc_table().value());
        core.set_queue_address(0, VirtioCore::Ring::Avail, ring.avail_ring().value());
        core.set_queue_address(0, VirtioCore::Ring::Used, ring.used_ring().value());
        core.set_queue_ready(0, true);
        core.write_status(ok | VIRTIO_CONFIG_S_DRIVER_OK);
    }
    void add_buffer() {
        auto buf = ring.alloc(16);
        ring.add_chain({DriverBuffer{buf, 16, Direction::Writable}});
        ring.publish();
    }

    GuestMemory mem;
    std::shared_ptr<GatedDevice> device;
    CountingIrqLine* irq = nullptr;
    VirtioCore core;
    GuestDriver ring;
};

TEST_F(VirtioCoreTest, ActivatesAndSignalsUsedBuffers) {
    init();
    EXPECT_TRUE(core.queue_ready(0));
    EXPECT_EQ(core.driver_features(), VERSION_1);
    add_buffer();
    EXPECT_FALSE(core.notify(0));
    EXPECT_EQ(ring.used_idx(), 1);
    EXPECT_EQ(core.interrupt_status(), VirtioCore::INT_USED_BUFFER);
    EXPECT_EQ(irq->triggers.load(), 1u);
    core.acknowledge_interrupt(VirtioCore::INT_USED_BUFFER);
    EXPECT_EQ(core.interrupt_status(), 0u);
}

// The point of the core's lock-free interrupt status: the I/O thread holds the lock for a
// whole queue pass; the interrupt status is read and acknowledged meanwhile, without waiting.
TEST_F(VirtioCoreTest, InterruptStatusIsReadAndAcknowledgedWhileTheDeviceIsBusy) {
    init();
    add_buffer();
    core.notify(0);
    std::promise<void> entered, release;
    std::shared_future<void> gate = release.get_future().share();
    device->entered = &entered;
    device->gate = &gate;
    add_buffer();
    std::thread io([&] { core.notify(0); });
    entered.get_future().wait();
    auto handler = std::async(std::launch::async, [&] {
        uint32_t pending = core.interrupt_status();
        core.acknowledge_interrupt(pending);
        return std::pair{pending, core.interrupt_status()};
    });
    const bool answered = handler.wait_for(std::chrono::seconds(2)) == std::future_status::ready;
    release.set_value();
    io.join();
    ASSERT_TRUE(answered);
    EXPECT_EQ(handler.get(), std::pair(VirtioCore::INT_USED_BUFFER, 0u));
    EXPECT_EQ(core.interrupt_status(), VirtioCore::INT_USED_BUFFER);   // the busy pass's signal
}

TEST_F(VirtioCoreTest, QueueConfigurationOnlyBetweenFeaturesOkAndDriverOk) {
    core.set_queue_size(0, 8);   // before FEATURES_OK: ignored
    core.set_queue_address(0, VirtioCore::Ring::Desc, 0x8000);
    EXPECT_EQ(core.queue_address(0, VirtioCore::Ring::Desc), 0u);
    init();
    core.set_queue_address(0, VirtioCore::Ring::Desc, 0x8000);   // live: frozen
    core.set_queue_ready(0, false);
    EXPECT_TRUE(core.queue_ready(0));
    EXPECT_EQ(core.queue_address(0, VirtioCore::Ring::Desc), ring.desc_table().value());
    EXPECT_EQ(core.queue_max_size(1), 0);   // out of range
    EXPECT_FALSE(core.queue_ready(1));
    core.write_status(0);
    EXPECT_EQ(core.status(), 0u);
    EXPECT_FALSE(core.queue_ready(0));
    EXPECT_EQ(core.queue_address(0, VirtioCore::Ring::Desc), 0u);
}

TEST_F(VirtioCoreTest, RingProtocolViolationSetsNeedsResetWithAConfigInterrupt) {
    init();
    ring.set_avail_idx(100);   // more than the queue size ahead
    core.notify(0);
    EXPECT_NE(core.status() & VIRTIO_CONFIG_S_NEEDS_RESET, 0u);
    EXPECT_NE(core.interrupt_status() & VirtioCore::INT_CONFIG, 0u);
    auto view = core.view(std::chrono::milliseconds(100));
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->device_type, uint32_t{VIRTIO_ID_RNG});
    EXPECT_TRUE(view->queues.at(0).broken);
}

} // namespace
} // namespace minivmm::virtio
