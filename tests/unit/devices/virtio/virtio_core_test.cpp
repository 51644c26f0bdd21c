// Tests of virtio::VirtioCore without any transport: the driver's operations called directly,
// the interrupt status readable while the I/O thread is inside the device, and the queue
// configuration window of §3.1.1.
#include "virtio/virtio_core.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "core_fixture.hpp"

namespace minivmm::virtio {
namespace {

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
    start_held_pass();
    auto handler = std::async(std::launch::async, [&] {
        uint32_t pending = core.interrupt_status();
        core.acknowledge_interrupt(pending);
        return std::pair{pending, core.interrupt_status()};
    });
    const bool answered = handler.wait_for(std::chrono::seconds(2)) == std::future_status::ready;
    finish_held_pass();
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
