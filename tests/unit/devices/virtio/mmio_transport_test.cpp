// Tests of virtio::MmioTransport: the register file, the status state machine, queue
// registers, notifications and config space.
#include "virtio/mmio_transport.hpp"

#include <gtest/gtest.h>

#include <array>
#include <linux/virtio_ids.h>
#include "virtio/virtio_ring.hpp"
#include <functional>
#include <future>
#include <thread>

#include <linux/virtio_config.h>
#include "virtio/transport_report.hpp"

#include "counting_irq_line.hpp"
#include "guest_driver.hpp"
#include "mmio_driver.hpp"
#include "test_memory.hpp"

namespace minivmm::virtio {
namespace {

using test::DriverBuffer;
using test::GuestDriver;
using test::MmioDriver;

constexpr uint64_t VERSION_1 = 1ULL << VIRTIO_F_VERSION_1;
constexpr uint64_t DEVICE_BIT = 1ULL << 5;   // some device-specific feature

// A device that completes every chain with length 0 and records what the transport asks.
class FakeDevice : public VirtioDevice {
public:
    uint32_t device_type() const override { return VIRTIO_ID_BLOCK; }
    uint64_t features() const override {
        return VERSION_1 | DEVICE_BIT | (1ULL << VIRTIO_RING_F_EVENT_IDX);
    }
    size_t num_queues() const override { return 2; }
    uint16_t queue_max_size() const override { return 64; }
    size_t config_size() const override { return config.size(); }
    void read_config(uint64_t offset, std::span<uint8_t> data) const override {
        std::copy_n(config.begin() + static_cast<long>(offset), data.size(), data.begin());
    }
    void write_config(uint64_t offset, std::span<const uint8_t> data) override {
        std::copy(data.begin(), data.end(), config.begin() + static_cast<long>(offset));
    }
    Result<void> activate(DeviceContext&, uint64_t features) override {
        ++activations;
        acked = features;
        if (fail_activate) return Error(ErrorCode::Host, "backend refused");
        return {};
    }
    void process_queue(DeviceContext& ctx, size_t index) noexcept override {
        ++processed;
        if (on_process) on_process();
        Queue& q = ctx.queue(index);
        for (unsigned n = 0; n < max_per_call; ++n) {
            auto head = q.pop();
            if (!head) break;
            ++chains;
            (void)q.add_used(*head, 0);
        }
        if (q.needs_notification()) ctx.signal_used();
        if (q.available() != 0) ctx.requeue(index);
    }
    void process_backend(DeviceContext& ctx) noexcept override {
        ++backend_calls;
        if (config_change) ctx.signal_config();
    }
    void reset() noexcept override { ++resets; }

    std::array<uint8_t, 12> config{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    bool fail_activate = false;
    bool config_change = false;
    unsigned max_per_call = ~0u;   // chains per process_queue call before it yields (requeue)
    unsigned activations = 0, processed = 0, chains = 0, resets = 0, backend_calls = 0;
    uint64_t acked = 0;
    std::function<void()> on_process;   // runs at the start of each process_queue call
};

class MmioTransportTest : public ::testing::Test {
protected:
    MmioTransportTest()
        : mem(test::make_memory()), device(std::make_shared<FakeDevice>()),
          transport(device, mem, make_irq()), drv(transport), ring0(mem, 16, GuestAddress(0x1000)),
          ring1(mem, 16, GuestAddress(0x10000)) {}

    std::unique_ptr<IrqLine> make_irq() {
        auto line = std::make_unique<CountingIrqLine>();
        irq = line.get();
        return line;
    }
    void init(uint64_t features = VERSION_1) {
        const GuestDriver* rings[] = {&ring0, &ring1};
        drv.init(features, rings);
    }
    uint32_t reg(uint64_t offset) { return drv.read32(offset); }

    GuestMemory mem;
    std::shared_ptr<FakeDevice> device;
    CountingIrqLine* irq = nullptr;
    MmioTransport transport;
    MmioDriver drv;
    GuestDriver ring0, ring1;
};

TEST_F(MmioTransportTest, IdentifiesAsModernVirtioMmio) {
    EXPECT_EQ(reg(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976u);
    EXPECT_EQ(reg(VIRTIO_MMIO_VERSION), 2u);
    EXPECT_EQ(reg(VIRTIO_MMIO_DEVICE_ID), uint32_t{VIRTIO_ID_BLOCK});
    EXPECT_EQ(reg(VIRTIO_MMIO_VENDOR_ID), MmioTransport::VENDOR_ID);
    EXPECT_EQ(drv.device_features(), device->features());
    drv.write32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
    EXPECT_EQ(reg(VIRTIO_MMIO_DEVICE_FEATURES), 0u);
    EXPECT_EQ(reg(VIRTIO_MMIO_STATUS), 0u);
}

TEST_F(MmioTransportTest, RegistersNeedAligned32BitAccesses) {
    uint8_t two[2] = {0xff, 0xff};
    transport.read(VIRTIO_MMIO_MAGIC_VALUE, two);
    EXPECT_EQ(two[0], 0);
    EXPECT_EQ(two[1], 0);
    uint8_t four[4] = {0xff, 0xff, 0xff, 0xff};
    transport.read(VIRTIO_MMIO_MAGIC_VALUE + 1, four);
    EXPECT_EQ(four[0], 0);
    uint8_t one[1] = {VIRTIO_CONFIG_S_ACKNOWLEDGE};
    transport.write(VIRTIO_MMIO_STATUS, one);
    EXPECT_EQ(transport.status(), 0u);
}

TEST_F(MmioTransportTest, InitialisesAndActivatesWithAcceptedFeatures) {
    init(VERSION_1 | DEVICE_BIT);
    EXPECT_EQ(transport.status(), uint32_t{VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                                          VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK});
    EXPECT_EQ(device->activations, 1u);
    EXPECT_EQ(device->acked, VERSION_1 | DEVICE_BIT);
    drv.write32(VIRTIO_MMIO_QUEUE_SEL, 1);
    EXPECT_EQ(reg(VIRTIO_MMIO_QUEUE_READY), 1u);
    EXPECT_EQ(reg(VIRTIO_MMIO_QUEUE_NUM_MAX), 64u);
}

TEST_F(MmioTransportTest, RefusesFeaturesOkForFeaturesNotOffered) {
    drv.negotiate(VERSION_1 | (1ULL << 7));
    EXPECT_EQ(transport.status() & VIRTIO_CONFIG_S_FEATURES_OK, 0u);
    drv.negotiate(DEVICE_BIT);   // modern only: VERSION_1 is required
    EXPECT_EQ(transport.status() & VIRTIO_CONFIG_S_FEATURES_OK, 0u);
    drv.negotiate(VERSION_1);
    drv.write32(VIRTIO_MMIO_STATUS, 0);
    drv.add_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    drv.write_driver_features(VERSION_1);
    drv.write32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
    drv.write32(VIRTIO_MMIO_DRIVER_FEATURES, 1);   // a bit in page 2, never offered
    drv.add_status(VIRTIO_CONFIG_S_FEATURES_OK);
    EXPECT_EQ(transport.status() & VIRTIO_CONFIG_S_FEATURES_OK, 0u);
}

TEST_F(MmioTransportTest, IgnoresInvalidStatusTransitions) {
    drv.write32(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_DRIVER);   // DRIVER without ACKNOWLEDGE
    EXPECT_EQ(transport.status(), 0u);
    drv.add_status(VIRTIO_CONFIG_S_ACKNOWLEDGE);
    drv.add_status(VIRTIO_CONFIG_S_DRIVER);
    drv.add_status(VIRTIO_CONFIG_S_DRIVER_OK);   // without FEATURES_OK
    EXPECT_EQ(transport.status(), uint32_t{VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER});
    drv.write32(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);   // clearing DRIVER
    EXPECT_EQ(transport.status(), uint32_t{VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER});
    drv.write32(VIRTIO_MMIO_STATUS, 0x3 | 0x10);   // an undefined bit
    EXPECT_EQ(transport.status(), uint32_t{VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER});
    drv.add_status(VIRTIO_CONFIG_S_NEEDS_RESET);   // device-owned: not set by the driver
    EXPECT_EQ(transport.status() & VIRTIO_CONFIG_S_NEEDS_RESET, 0u);
    EXPECT_EQ(device->activations, 0u);
}

TEST_F(MmioTransportTest, FreezesQueueRegistersAfterDriverOk) {
    init();
    drv.write32(VIRTIO_MMIO_QUEUE_SEL, 0);
    drv.write32(VIRTIO_MMIO_QUEUE_NUM, 8);
    drv.write64(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x8000);
    drv.write32(VIRTIO_MMIO_QUEUE_READY, 0);
    EXPECT_EQ(reg(VIRTIO_MMIO_QUEUE_READY), 1u);
    // The queue still works on its original rings.
    auto buf = ring0.alloc(16);
    ring0.add_chain({DriverBuffer{buf, 16, Direction::Writable}});
    ring0.publish();
    transport.notify(0);
    EXPECT_EQ(device->chains, 1u);
    EXPECT_TRUE(ring0.pop_used().has_value());
}

TEST_F(MmioTransportTest, QueueSelectorOutOfRangeReadsZeroAndIgnoresWrites) {
    drv.negotiate(VERSION_1);
    for (uint32_t sel : {2u, 0xffffu, 0xffffffffu}) {
        drv.write32(VIRTIO_MMIO_QUEUE_SEL, sel);
        EXPECT_EQ(reg(VIRTIO_MMIO_QUEUE_NUM_MAX), 0u);
        drv.write32(VIRTIO_MMIO_QUEUE_NUM, 16);
        drv.write32(VIRTIO_MMIO_QUEUE_READY, 1);
        EXPECT_EQ(reg(VIRTIO_MMIO_QUEUE_READY), 0u);
    }
    EXPECT_EQ(transport.status() & VIRTIO_CONFIG_S_NEEDS_RESET, 0u);
    init();
    for (uint32_t q : {2u, 0xffffu, 0x80000000u}) drv.write32(VIRTIO_MMIO_QUEUE_NOTIFY, q);
    transport.notify(0xffff);
    EXPECT_EQ(device->processed, 0u);
}

TEST_F(MmioTransportTest, IgnoresNotifyBeforeDriverOkOrOnQueueNotReady) {
    drv.negotiate(VERSION_1);
    drv.setup_queue(0, ring0);
    auto buf = ring0.alloc(16);
    ring0.add_chain({DriverBuffer{buf, 16, Direction::Writable}});
    ring0.publish();
    drv.write32(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    transport.notify(0);
    EXPECT_EQ(device->processed, 0u);
    drv.add_status(VIRTIO_CONFIG_S_DRIVER_OK);   // queue 1 left not ready
    transport.notify(1);
    EXPECT_EQ(device->processed, 0u);
    drv.write32(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    EXPECT_EQ(device->processed, 1u);
    EXPECT_EQ(device->chains, 1u);
}

// A bad size is refused at QueueReady, never used.
TEST_F(MmioTransportTest, BadQueueSizeSetsNeedsResetAndQueueStaysUnused) {
    for (uint32_t size : {0u, 3u, 255u, 65u, 128u, 65535u, 0x10000u}) {
        drv.negotiate(VERSION_1);
        drv.write32(VIRTIO_MMIO_QUEUE_SEL, 0);
        drv.write32(VIRTIO_MMIO_QUEUE_NUM, size);
        drv.write64(VIRTIO_MMIO_QUEUE_DESC_LOW, ring0.desc_table().value());
        drv.write64(VIRTIO_MMIO_QUEUE_AVAIL_LOW, ring0.avail_ring().value());
        drv.write64(VIRTIO_MMIO_QUEUE_USED_LOW, ring0.used_ring().value());
        drv.write32(VIRTIO_MMIO_QUEUE_READY, 1);
        EXPECT_EQ(reg(VIRTIO_MMIO_QUEUE_READY), 0u) << size;
        EXPECT_NE(transport.status() & VIRTIO_CONFIG_S_NEEDS_RESET, 0u) << size;
        drv.add_status(VIRTIO_CONFIG_S_DRIVER_OK);
        transport.notify(0);
        EXPECT_EQ(device->processed, 0u);
        EXPECT_EQ(device->activations, 0u);   // a broken device is not activated
    }
}

TEST_F(MmioTransportTest, FailedActivationSetsNeedsResetWithConfigInterrupt) {
    device->fail_activate = true;
    init();
    EXPECT_NE(transport.status() & VIRTIO_CONFIG_S_NEEDS_RESET, 0u);
    EXPECT_EQ(reg(VIRTIO_MMIO_INTERRUPT_STATUS), uint32_t{VIRTIO_MMIO_INT_CONFIG});
    EXPECT_EQ(irq->triggers.load(), 1u);
    transport.notify(0);
    EXPECT_EQ(device->processed, 0u);
    // The driver resets and retries.
    device->fail_activate = false;
    drv.write32(VIRTIO_MMIO_STATUS, 0);
    EXPECT_EQ(transport.status(), 0u);
    EXPECT_EQ(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 0u);
    GuestDriver fresh0(mem, 16, GuestAddress(0x20000)), fresh1(mem, 16, GuestAddress(0x30000));
    const GuestDriver* rings[] = {&fresh0, &fresh1};
    drv.init(VERSION_1, rings);
    EXPECT_EQ(transport.status() & VIRTIO_CONFIG_S_NEEDS_RESET, 0u);
    EXPECT_EQ(device->activations, 2u);
}

// A device that yields with work left (DeviceContext::requeue) makes notify() ask to be called
// again; the machine then re-signals the queue's ioeventfd.
TEST_F(MmioTransportTest, NotifyAsksToBeCalledAgainWhileTheDeviceYieldsWithWorkLeft) {
    init();
    device->max_per_call = 2;
    auto buf = ring0.alloc(16);
    for (int i = 0; i < 5; ++i) ring0.add_chain({DriverBuffer{buf, 16, Direction::Writable}});
    ring0.publish();
    EXPECT_TRUE(transport.notify(0));
    EXPECT_EQ(device->chains, 2u);
    EXPECT_TRUE(transport.notify(0));
    EXPECT_FALSE(transport.notify(0));
    EXPECT_EQ(device->chains, 5u);
    EXPECT_FALSE(transport.notify(0));   // nothing left: no further call asked for
    EXPECT_EQ(device->processed, 4u);
}

// Without an ioeventfd nobody would come back: a QueueNotify register write is served to the end.
TEST_F(MmioTransportTest, QueueNotifyRegisterWriteServesAYieldingDeviceToTheEnd) {
    init();
    device->max_per_call = 2;
    auto buf = ring0.alloc(16);
    for (int i = 0; i < 5; ++i) ring0.add_chain({DriverBuffer{buf, 16, Direction::Writable}});
    ring0.publish();
    drv.write32(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    EXPECT_EQ(device->chains, 5u);
    EXPECT_EQ(device->processed, 3u);
}

// A device reset between the yield and the next call: nothing more is asked for.
TEST_F(MmioTransportTest, NotifyStopsAskingOnceTheDriverResetTheDevice) {
    init();
    device->max_per_call = 1;
    auto buf = ring0.alloc(16);
    for (int i = 0; i < 3; ++i) ring0.add_chain({DriverBuffer{buf, 16, Direction::Writable}});
    ring0.publish();
    EXPECT_TRUE(transport.notify(0));
    drv.write32(VIRTIO_MMIO_STATUS, 0);
    EXPECT_FALSE(transport.notify(0));
    EXPECT_EQ(device->chains, 1u);
}

TEST_F(MmioTransportTest, UsedInterruptIsAcknowledged) {
    init();
    auto buf = ring0.alloc(16);
    ring0.add_chain({DriverBuffer{buf, 16, Direction::Writable}});
    ring0.publish();
    transport.notify(0);
    EXPECT_EQ(irq->triggers.load(), 1u);
    EXPECT_EQ(reg(VIRTIO_MMIO_INTERRUPT_STATUS), uint32_t{VIRTIO_MMIO_INT_VRING});
    drv.write32(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    EXPECT_EQ(reg(VIRTIO_MMIO_INTERRUPT_STATUS), 0u);
}

TEST_F(MmioTransportTest, BackendWorkRunsOnlyWhenActiveAndBumpsConfigGeneration) {
    device->config_change = true;
    transport.backend_ready();
    EXPECT_EQ(device->backend_calls, 0u);
    init();
    uint32_t generation = reg(VIRTIO_MMIO_CONFIG_GENERATION);
    transport.backend_ready();
    EXPECT_EQ(device->backend_calls, 1u);
    EXPECT_EQ(reg(VIRTIO_MMIO_CONFIG_GENERATION), generation + 1);
    EXPECT_EQ(reg(VIRTIO_MMIO_INTERRUPT_STATUS), uint32_t{VIRTIO_MMIO_INT_CONFIG});
}

TEST_F(MmioTransportTest, ConfigSpaceAccessIsBoundsChecked) {
    const uint64_t base = MmioTransport::CONFIG_OFFSET;
    uint8_t eight[8] = {};
    transport.read(base + 4, eight);
    EXPECT_EQ(eight[0], 5);
    EXPECT_EQ(eight[7], 12);
    uint8_t one[1] = {};
    transport.read(base + 11, one);   // odd offset, last byte
    EXPECT_EQ(one[0], 12);
    std::fill(std::begin(eight), std::end(eight), 0xaa);
    transport.read(base + 8, eight);   // crosses the end: zero, nothing read past it
    for (uint8_t b : eight) EXPECT_EQ(b, 0);
    uint8_t four[4] = {0xaa, 0xaa, 0xaa, 0xaa};
    transport.read(base + 12, four);   // at the end
    EXPECT_EQ(four[0], 0);
    transport.read(base + 0xefc, four);
    EXPECT_EQ(four[0], 0);
    const uint8_t value[8] = {0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee};
    transport.write(base + 8, value);   // crosses the end: ignored whole
    transport.write(base + 12, std::span(value, 1));
    EXPECT_EQ(device->config[8], 9);
    EXPECT_EQ(device->config[11], 12);
    transport.write(base + 3, std::span(value, 2));   // inside: reaches the device
    EXPECT_EQ(device->config[3], 0xee);
    EXPECT_EQ(device->config[4], 0xee);
}

TEST_F(MmioTransportTest, ResetWithRequestsInFlightRestartsCleanOnNewRings) {
    init();
    auto buf = ring0.alloc(16);
    ring0.add_chain({DriverBuffer{buf, 16, Direction::Writable}});
    ring0.add_chain({DriverBuffer{buf, 16, Direction::Writable}});
    ring0.publish();
    unsigned resets = device->resets;
    drv.write32(VIRTIO_MMIO_STATUS, 0);
    EXPECT_EQ(device->resets, resets + 1);
    EXPECT_EQ(transport.status(), 0u);
    drv.write32(VIRTIO_MMIO_QUEUE_SEL, 0);
    EXPECT_EQ(reg(VIRTIO_MMIO_QUEUE_READY), 0u);
    transport.notify(0);   // late notification for the old rings
    EXPECT_EQ(device->processed, 0u);
    EXPECT_EQ(ring0.used_idx(), 0);

    GuestDriver fresh0(mem, 32, GuestAddress(0x40000)), fresh1(mem, 16, GuestAddress(0x50000));
    const GuestDriver* rings[] = {&fresh0, &fresh1};
    drv.init(VERSION_1, rings);
    auto buf2 = fresh0.alloc(16);
    fresh0.add_chain({DriverBuffer{buf2, 16, Direction::Writable}});
    fresh0.publish();
    transport.notify(0);
    EXPECT_EQ(device->chains, 1u);
    EXPECT_EQ(fresh0.used_idx(), 1);
    EXPECT_EQ(ring0.used_idx(), 0);   // nothing written to the old rings
}

TEST_F(MmioTransportTest, RingProtocolViolationSetsNeedsReset) {
    init();
    ring0.set_avail_idx(100);   // more than the queue size ahead
    transport.notify(0);
    EXPECT_NE(transport.status() & VIRTIO_CONFIG_S_NEEDS_RESET, 0u);
    transport.notify(0);
    EXPECT_EQ(device->processed, 1u);   // not called again until reset
}

// The lock serialises vCPU register traffic and I/O-thread notifications (run under TSan).
TEST_F(MmioTransportTest, RegisterReadsAndNotifiesFromTwoThreads) {
    init();
    std::thread io([&] {
        for (int i = 0; i < 2000; ++i) transport.notify(static_cast<size_t>(i % 2));
    });
    for (int i = 0; i < 2000; ++i) {
        (void)reg(VIRTIO_MMIO_INTERRUPT_STATUS);
        drv.write32(VIRTIO_MMIO_INTERRUPT_ACK, 1);
    }
    io.join();
    EXPECT_EQ(device->processed, 2000u);
}

// A guest's interrupt handler reads InterruptStatus and writes InterruptACK while the I/O
// thread is inside the device (a queue pass may poll for up to 50 us): neither waits for it.
TEST_F(MmioTransportTest, InterruptStatusAndAckDoNotWaitForABusyDevice) {
    init();
    auto buf = ring0.alloc(16);
    ring0.add_chain({DriverBuffer{buf, 16, Direction::Writable}});
    ring0.publish();
    transport.notify(0);   // a used buffer: InterruptStatus bit 0 is pending
    std::promise<void> inside, release;
    auto release_future = release.get_future().share();
    device->on_process = [&] {
        inside.set_value();
        release_future.wait();
    };
    ring0.add_chain({DriverBuffer{buf, 16, Direction::Writable}});
    ring0.publish();
    std::thread io([&] { transport.notify(0); });
    inside.get_future().wait();
    // The handler's accesses, on a thread of their own so that a wait shows as a timeout.
    auto handler = std::async(std::launch::async, [&] {
        uint32_t pending = reg(VIRTIO_MMIO_INTERRUPT_STATUS);
        drv.write32(VIRTIO_MMIO_INTERRUPT_ACK, pending);
        return std::pair{pending, reg(VIRTIO_MMIO_INTERRUPT_STATUS)};
    });
    const bool answered = handler.wait_for(std::chrono::seconds(2)) == std::future_status::ready;
    release.set_value();
    io.join();
    ASSERT_TRUE(answered) << "InterruptStatus/InterruptACK waited for the device's queue pass";
    auto [pending, after_ack] = handler.get();
    EXPECT_EQ(pending, uint32_t{VIRTIO_MMIO_INT_VRING});
    EXPECT_EQ(after_ack, 0u);
}

} // namespace
} // namespace minivmm::virtio

namespace minivmm::virtio {
namespace {

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// The hang report's view: both sides' ring indexes, what is waiting, and who notifies whom.
TEST_F(MmioTransportTest, ViewShowsRingIndexesOnBothSidesAndWhatWaits) {
    init(VERSION_1);
    device->max_per_call = 2;   // takes 2 of 5, leaving 3 waiting
    auto buf = ring0.alloc(16);
    for (int i = 0; i < 5; ++i) ring0.add_chain({DriverBuffer{buf, 16, Direction::Writable}});
    ring0.publish();
    transport.notify(0);
    auto view = transport.view(std::chrono::milliseconds(100));
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->device_type, uint32_t{VIRTIO_ID_BLOCK});
    ASSERT_EQ(view->queues.size(), 2u);
    const Queue::View& q = view->queues[0];
    EXPECT_TRUE(q.ready);
    EXPECT_EQ(q.avail_idx, 5);
    EXPECT_EQ(q.next_avail, 2);
    EXPECT_EQ(q.used_idx, 2);
    EXPECT_EQ(q.in_flight, 0);
    std::string text = format_transport_view("virtio-blk0", *view);
    EXPECT_TRUE(has(text, "virtio-blk0: status 0xf (acknowledge driver features-ok driver-ok), "
                          "interrupt status 0x1 (used-buffer not acknowledged)")) << text;
    EXPECT_TRUE(has(text, "  queue 0: size 16; avail 5 (device took 2: 3 waiting); used 2; "
                          "in flight 0; driver kicks: on; interrupts: on\n")) << text;
    EXPECT_TRUE(has(text, "  queue 1: size 16; avail 0 (device took 0: 0 waiting)")) << text;
}

TEST_F(MmioTransportTest, ViewShowsEventIndexesAndANotReadyQueue) {
    init(VERSION_1 | (1ULL << VIRTIO_RING_F_EVENT_IDX));
    ring0.set_used_event(7);
    auto view = transport.view(std::chrono::milliseconds(100));
    ASSERT_TRUE(view.has_value());
    std::string text = format_transport_view("dev", *view);
    EXPECT_TRUE(has(text, "driver kicks when avail passes 0; device interrupts when used passes 7"))
        << text;
    drv.write32(VIRTIO_MMIO_STATUS, 0);   // reset: queues not ready
    text = format_transport_view("dev", *transport.view(std::chrono::milliseconds(100)));
    EXPECT_TRUE(has(text, "dev: status 0x0 (reset)")) << text;
    EXPECT_TRUE(has(text, "  queue 0: not ready\n")) << text;
}

// The report must not hang behind a device that holds the lock: it says so instead.
TEST_F(MmioTransportTest, ViewGivesUpWhenTheLockStaysHeld) {
    init(VERSION_1);
    std::promise<void> inside, release;
    auto release_future = release.get_future();
    device->on_process = [&] {
        inside.set_value();
        release_future.wait();
    };
    auto buf = ring0.alloc(16);
    ring0.add_chain({DriverBuffer{buf, 16, Direction::Writable}});
    ring0.publish();
    std::thread io([&] { transport.notify(0); });
    inside.get_future().wait();
    auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(transport.view(std::chrono::milliseconds(50)).has_value());
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
    release.set_value();
    io.join();
    EXPECT_TRUE(transport.view(std::chrono::milliseconds(50)).has_value());
}

TEST(TransportReport, NamesStatusBits) {
    EXPECT_EQ(device_status_names(0), "reset");
    EXPECT_EQ(device_status_names(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_NEEDS_RESET),
              "acknowledge NEEDS-RESET");
    EXPECT_EQ(device_status_names(VIRTIO_CONFIG_S_FAILED), "FAILED");
}

} // namespace
} // namespace minivmm::virtio
