// FakeDeviceContext: the DeviceContext a virtio device test lends the device instead of a
// transport: real queues on a real GuestMemory, counted notifications.
#pragma once

#include <cstddef>
#include <vector>

#include "virtio/virtio_device.hpp"

namespace minivmm::test {

class FakeDeviceContext : public virtio::DeviceContext {
public:
    // `num_queues` queues of `max_size`; configure them (GuestDriver::configure) and activate
    // them before handing the context to the device.
    FakeDeviceContext(const GuestMemory& mem, size_t num_queues,
                      uint16_t max_size = virtio::Queue::DEFAULT_MAX_SIZE)
        : mem_(mem), queues_(num_queues, virtio::Queue(max_size)) {}

    const GuestMemory& memory() const override { return mem_; }
    virtio::Queue& queue(size_t index) override { return queues_.at(index); }
    void signal_used() noexcept override { ++used_signals; }
    void signal_config() noexcept override { ++config_signals; }
    void set_needs_reset() noexcept override { needs_reset = true; }
    void requeue(size_t) noexcept override { ++requeues; }

    unsigned used_signals = 0;
    unsigned config_signals = 0;
    bool needs_reset = false;
    unsigned requeues = 0;

private:
    const GuestMemory& mem_;
    std::vector<virtio::Queue> queues_;
};

} // namespace minivmm::test
