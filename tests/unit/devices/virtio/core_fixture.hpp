// The virtio core tests' device and fixture: a core over a one-queue device whose passes can be
// held at a gate, with a GuestDriver playing the driver (virtio_core_test.cpp,
// virtio_core_lifecycle_test.cpp).
#pragma once

#include <future>
#include <memory>
#include <thread>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "counting_irq_line.hpp"
#include "guest_driver.hpp"
#include "test_memory.hpp"
#include "virtio/virtio_core.hpp"

namespace minivmm::virtio {

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
        while (auto head = q.pop())
            if (!hold) (void)q.add_used(*head, 0);
        ctx.signal_used();
    }
    void reset() noexcept override {}
    // Lifecycle: counted; the device's own state is one byte.
    void pause(DeviceContext&) noexcept override { ++pauses; }
    void resume(DeviceContext&) noexcept override { ++resumes; }
    void save_state(StateWriter& out) const override { out.u8(own_state); }
    Result<void> restore_state(StateReader& in, uint16_t version) override {
        own_state = in.u8();
        if (version != 1) return Error(ErrorCode::Input, "version");
        return in.finish("gated device");
    }

    unsigned pauses = 0, resumes = 0;
    uint8_t own_state = 0;
    bool hold = false;   // pop without completing (requests in flight)
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
    ~VirtioCoreTest() override {
        if (held_.joinable()) finish_held_pass();
    }
    // A pass over one new buffer on another thread, returning once the device is inside it;
    // the device waits there until finish_held_pass().
    void start_held_pass() {
        gate_ = release_.get_future().share();
        device->entered = &entered_;
        device->gate = &gate_;
        add_buffer();
        held_ = std::thread([this] { core.notify(0); });
        entered_.get_future().wait();
    }
    void finish_held_pass() {
        release_.set_value();
        held_.join();
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

private:
    std::promise<void> entered_, release_;
    std::shared_future<void> gate_;
    std::thread held_;
};

} // namespace minivmm::virtio
