// VirtioCore: the device side of one virtio device, whatever its transport (Virtio 1.2 §2.1
// device status, §2.2 feature bits, §2.4 device reset, §2.5 configuration space, §3.1.1 the
// driver's initialisation order): features, the status state machine, the queues, the config
// generation and the interrupt status. A transport (MmioTransport; a PCI one later) is a
// register front-end over it: it decodes the guest's accesses and calls these operations.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include <fmt/format.h>

#include "base/result.hpp"
#include "irq_line.hpp"
#include "virtio/core_state.hpp"
#include "virtio/queue.hpp"
#include "virtio/virtio_device.hpp"

namespace minivmm::virtio {

// Threads and locks: the driver's operations come from vCPU threads, notify() and
// backend_ready() from the I/O thread. `mutex_` guards the status, the features, the queues
// and their addresses, and serialises every call into the device, so a device never runs on
// two threads at once and sees queues that are not being reconfigured. The DeviceContext
// methods are only called by the device from inside those calls, with `mutex_` held, and do
// not take it. No other lock is taken while `mutex_` is held except the IrqLine's (an irqfd
// write takes none).
//
// Lock-free, so that a guest's interrupt handler never waits for a queue pass (which may poll
// the ring for tens of microseconds): the interrupt status (read and acknowledged), the config
// generation, and the constant identity (type, offered features, queue count).
//
// Guest mistakes never leave the core: an invalid status transition or a queue configured
// outside negotiation is ignored; a queue set ready with a bad geometry, a ring protocol
// violation or a failed activation set DEVICE_NEEDS_RESET and raise a configuration interrupt.
// Warnings about them are limited to the first MAX_WARNINGS per device.
class VirtioCore final : private DeviceContext {
public:
    // InterruptStatus bits; the same in virtio-mmio's register (§4.2.2) and PCI's ISR (§4.1.4.5).
    static constexpr uint32_t INT_USED_BUFFER = 1;
    static constexpr uint32_t INT_CONFIG = 2;
    static constexpr unsigned MAX_WARNINGS = 16;
    enum class Ring { Desc, Avail, Used };

    // `mem` outlives the core; `irq` is the device's interrupt line; `transport` prefixes the
    // warnings ("virtio-mmio").
    VirtioCore(std::shared_ptr<VirtioDevice> device, const GuestMemory& mem,
               std::unique_ptr<IrqLine> irq, const char* transport);

    // Constant, lock-free.
    uint32_t device_type() const { return device_type_; }
    uint64_t device_features() const { return device_features_; }   // VERSION_1 included
    size_t num_queues() const { return num_queues_; }

    // Lock-free (vCPU threads, any time).
    uint32_t interrupt_status() const noexcept;
    void acknowledge_interrupt(uint32_t bits) noexcept;   // clears `bits`
    uint32_t config_generation() const noexcept;

    // The driver's side (vCPU threads), under the lock.
    uint32_t status() const;
    // 0 resets the device; otherwise the §3.1.1 order is enforced and activation happens at
    // DRIVER_OK. A transition out of order is ignored whole.
    void write_status(uint32_t value);
    // Feature bits 32*page..32*page+31 as the driver accepts them; only while negotiating
    // (DRIVER set, FEATURES_OK not yet). A non-zero page >= 2 makes FEATURES_OK fail.
    void write_driver_features(uint32_t page, uint32_t value);
    uint64_t driver_features() const;
    // Queue `index` out of range: max size 0, not ready, writes ignored with a warning. The
    // configuration is taken only between FEATURES_OK and DRIVER_OK (§3.1.1).
    uint16_t queue_max_size(size_t index) const;
    bool queue_ready(size_t index) const;
    uint64_t queue_address(size_t index, Ring ring) const;
    void set_queue_address(size_t index, Ring ring, uint64_t address);
    void set_queue_size(size_t index, uint32_t size);   // > 0xffff: refused at ready as 0 is
    // 1 validates the rings and makes the queue ready (or sets DEVICE_NEEDS_RESET); 0 resets it.
    void set_queue_ready(size_t index, bool ready);
    // Config space: the whole access must lie inside the device's config_size() (reads of
    // anything else are 0, writes ignored).
    void read_config(uint64_t offset, std::span<uint8_t> data) const;
    void write_config(uint64_t offset, std::span<const uint8_t> data);

    // The I/O thread's side. notify: the driver notified `queue`; ignored before DRIVER_OK,
    // after DEVICE_NEEDS_RESET, and for a queue out of range or not ready. Returns true when
    // the device stopped with work left (DeviceContext::requeue): the caller must call
    // notify(queue) again soon, after serving its other event sources.
    bool notify(size_t queue) noexcept;
    // The device's backend has work (e.g. a tap became readable): process_backend, if active.
    void backend_ready() noexcept;

    // Lifecycle (virtio_core_lifecycle.cpp), from any thread. pause() waits for a call into the
    // device in progress on another thread (a queue pass), tells the device (VirtioDevice::pause)
    // and from then on notify() and backend_ready() do not call it: once pause() returns the
    // device touches no guest memory. The driver's register accesses still work (the machine
    // parks the vCPUs first). resume() undoes it; notifications that came meanwhile were
    // dropped, so the caller then notifies every queue (the machine signals their ioeventfds).
    void pause() noexcept;
    void resume() noexcept;
    bool paused() const;
    // The core's and the device's state (core_state.hpp); refused unless paused and with no
    // request in flight on any queue.
    Result<std::vector<uint8_t>> save_state() const;
    // Untrusted bytes (a snapshot file): every value is checked against this device (type,
    // offered features, queue count), the status order, and the guest's memory (each ready
    // queue's rings, as at QueueReady); an active device is activated again with the saved
    // features, then given its own section. The core ends paused (resume() runs it); on any
    // error it is reset, as if the driver had written status 0.
    Result<void> restore_state(std::span<const uint8_t> bytes);

    // The device and its queues for a hang report, or nothing if the lock stayed held for
    // `wait` (a thread is inside the device: that itself is what the report must say).
    struct View {
        uint32_t device_type = 0;
        uint32_t status = 0;
        uint32_t interrupt_status = 0;
        uint64_t driver_features = 0;
        std::vector<Queue::View> queues;
    };
    std::optional<View> view(std::chrono::milliseconds wait) const;

    // Rate-limited guest-mistake warning (also for the transport's own register decoding).
    template <typename... Args>
    void warn(fmt::format_string<Args...> format, Args&&... args) const {
        if (count_warning()) log_warning(fmt::format(format, std::forward<Args>(args)...));
    }

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

    void raise(uint32_t bits) noexcept;
    bool configurable(size_t index, const char* what) const;
    // Whether `status` (driver bits) has each bit only after its predecessor (§3.1.1).
    static bool status_in_order(uint32_t status);
    Result<void> check_state(const CoreState& s) const;
    Result<void> apply_state(const CoreState& s);
    void reset_locked();
    bool features_valid() const;
    bool active() const;
    bool count_warning() const noexcept;
    void log_warning(const std::string& text) const;

    const std::shared_ptr<VirtioDevice> device_;
    const GuestMemory& mem_;
    const std::unique_ptr<IrqLine> irq_;
    const char* const transport_;
    const uint32_t device_type_;
    const uint64_t device_features_;
    const size_t num_queues_;

    std::atomic<uint32_t> interrupt_status_{0};
    std::atomic<uint32_t> config_generation_{0};   // bumped under mutex_
    mutable std::atomic<unsigned> warnings_{0};

    mutable std::mutex mutex_;
    std::vector<Queue> queues_;
    std::vector<QueueAddresses> addresses_;   // driver-written ring addresses, per queue
    uint32_t status_ = 0;
    uint64_t driver_features_ = 0;
    bool driver_features_beyond_64_ = false;   // a non-zero write to page >= 2
    bool activated_ = false;                   // device->activate() succeeded
    bool requeued_ = false;                    // set by requeue() during process_queue()
    bool paused_ = false;                      // pause(): the device is not called
};

} // namespace minivmm::virtio
