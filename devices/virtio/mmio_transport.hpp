// MmioTransport: the virtio-mmio register file, version 2 (modern) only (Virtio 1.2 §4.2.2),
// implemented once for every VirtioDevice: feature pages, the device-status state machine,
// queue registers, interrupt status, and bounds-checked access to the device config space.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include <fmt/format.h>

#include "bus/bus_device.hpp"
#include "irq_line.hpp"
#include "virtio/queue.hpp"
#include "virtio/virtio_device.hpp"

namespace minivmm::virtio {

// Threads and the lock: register accesses (read/write) come from vCPU threads; notify() and
// backend_ready() from the I/O thread. `mutex_` guards every member below and serialises every
// call into the device, so a device never runs on two threads at once and sees queues that
// are not being reconfigured. The DeviceContext methods are only called by the device from
// inside those calls, with `mutex_` already held, and do not take it. No other lock is taken
// while `mutex_` is held except the IrqLine's (an irqfd write takes none).
//
// Guest mistakes never leave the transport: a register access of the wrong width or offset
// reads 0 and is ignored on write; an invalid status transition is ignored; a queue the driver
// sets ready with a bad geometry, a ring protocol violation or a failed activation set
// DEVICE_NEEDS_RESET and raise a configuration interrupt. Warnings about them are limited to
// the first MAX_WARNINGS per transport.
class MmioTransport final : public BusDevice, private DeviceContext {
public:
    static constexpr uint64_t CONFIG_OFFSET = 0x100;   // device config space starts here
    static constexpr uint32_t VENDOR_ID = 0x6d6d766d;  // "mvmm" (drivers do not check it)
    static constexpr unsigned MAX_WARNINGS = 16;

    // `mem` outlives the transport; `irq` is the device's interrupt line.
    MmioTransport(std::shared_ptr<VirtioDevice> device, const GuestMemory& mem,
                  std::unique_ptr<IrqLine> irq);

    // BusDevice, from vCPU threads. Registers (offsets < 0x100) take 32-bit aligned accesses;
    // config space takes widths 1/2/4/8 wholly inside config_size() (else reads 0, writes
    // ignored).
    void read(uint64_t offset, std::span<uint8_t> data) noexcept override;
    void write(uint64_t offset, std::span<const uint8_t> data) noexcept override;

    // The driver notified `queue` (the machine's ioeventfd handler, I/O thread). Ignored before
    // DRIVER_OK, after DEVICE_NEEDS_RESET, and for a queue index out of range or not ready.
    // Returns true when the device stopped with work left (DeviceContext::requeue): the caller
    // must call notify(queue) again soon, after serving its other event sources.
    bool notify(size_t queue) noexcept;
    // The device's backend has work (e.g. a tap became readable); calls process_backend under
    // the lock when the device is active.
    void backend_ready() noexcept;

    // For tests and diagnostics.
    uint32_t status() const;
    uint32_t interrupt_status() const;

    // The transport and its queues for a hang report, or nothing if the lock stayed held for
    // `wait` (a thread is inside the device: that itself is what the report must say).
    struct View {
        uint32_t device_type = 0;
        uint32_t status = 0;
        uint32_t interrupt_status = 0;
        uint64_t driver_features = 0;
        std::vector<Queue::View> queues;
    };
    std::optional<View> view(std::chrono::milliseconds wait) const;

private:
    struct QueueAddresses {
        uint64_t desc = 0, avail = 0, used = 0;
    };

    // DeviceContext (called by the device with mutex_ held).
    const GuestMemory& memory() const override { return mem_; }
    Queue& queue(size_t index) override { return queues_.at(index); }
    void signal_used() noexcept override;
    void signal_config() noexcept override;
    void set_needs_reset() noexcept override;
    void requeue(size_t index) noexcept override;

    uint32_t read_register(uint64_t offset) const;
    void write_register(uint64_t offset, uint32_t value);
    void write_status(uint32_t value);
    void write_queue_register(uint64_t offset, uint32_t value);
    bool notify_locked(uint64_t queue);
    void reset_locked();
    bool features_valid() const;
    bool active() const;
    Queue* selected_queue();
    template <typename... Args>
    void warn(fmt::format_string<Args...> format, Args&&... args);

    const std::shared_ptr<VirtioDevice> device_;
    const GuestMemory& mem_;
    const std::unique_ptr<IrqLine> irq_;
    const uint64_t device_features_;

    mutable std::mutex mutex_;
    std::vector<Queue> queues_;
    std::vector<QueueAddresses> addresses_;   // driver-written ring addresses, per queue
    uint32_t status_ = 0;
    uint32_t interrupt_status_ = 0;
    uint32_t config_generation_ = 0;
    uint32_t device_features_sel_ = 0;
    uint32_t driver_features_sel_ = 0;
    uint64_t driver_features_ = 0;
    bool driver_features_beyond_64_ = false;   // a non-zero write to page >= 2
    uint32_t queue_sel_ = 0;
    bool activated_ = false;                   // device->activate() succeeded
    bool requeued_ = false;                    // set by requeue() during process_queue()
    unsigned warnings_ = 0;
};

} // namespace minivmm::virtio
