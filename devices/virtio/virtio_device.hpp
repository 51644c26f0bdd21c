// VirtioDevice: what one virtio device type (block, net, ...) implements (Virtio 1.2 §2-§5).
// VirtioCore implements feature negotiation, the device-status state machine and the queues
// once for every device and calls these hooks; a transport (virtio-mmio, §4.2) is its front-end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/result.hpp"
#include "device_state.hpp"
#include "memory/guest_memory.hpp"
#include "virtio/queue.hpp"

namespace minivmm::virtio {

// What the core lends an active device (between activate() and reset()). Implemented by
// VirtioCore; every call is made with the core's lock held (see VirtioCore).
class DeviceContext {
public:
    virtual ~DeviceContext() = default;
    virtual const GuestMemory& memory() const = 0;
    // Queue `index` < num_queues(); ready and validated (or not ready if the driver left it).
    virtual Queue& queue(size_t index) = 0;
    // Used-buffer notification: sets InterruptStatus bit 0 and raises the interrupt.
    virtual void signal_used() noexcept = 0;
    // Configuration-change notification: InterruptStatus bit 1 and the interrupt.
    virtual void signal_config() noexcept = 0;
    // The driver broke the protocol: DEVICE_NEEDS_RESET and a configuration interrupt; the
    // device is not called again until the driver resets it.
    virtual void set_needs_reset() noexcept = 0;
    // The device stopped serving queue `index` with buffers still available (it used up its
    // share of the I/O thread, so that other devices and the vCPUs' register accesses are not
    // held up by a driver that never lets the queue run dry): process_queue(index) must be
    // called again soon, although the driver will not notify (notifications stay off).
    virtual void requeue(size_t index) noexcept = 0;
};

class VirtioDevice : public DeviceState {
public:
    virtual ~VirtioDevice() = default;

    virtual uint32_t device_type() const = 0;   // VIRTIO_ID_* (<linux/virtio_ids.h>)
    // Feature bits offered, VIRTIO_F_VERSION_1 included (the core is modern-only).
    virtual uint64_t features() const = 0;
    virtual size_t num_queues() const = 0;
    virtual uint16_t queue_max_size() const { return Queue::DEFAULT_MAX_SIZE; }

    // Device configuration space (§2.5). The core checks offset + data.size() <=
    // config_size() before calling; reads fill all of `data`.
    virtual size_t config_size() const = 0;
    virtual void read_config(uint64_t offset, std::span<uint8_t> data) const = 0;
    // Writable fields are device-specific; the default ignores writes.
    virtual void write_config(uint64_t /*offset*/, std::span<const uint8_t> /*data*/) {}

    // The driver set DRIVER_OK: `features` is what it acknowledged (a subset of features()).
    // An error makes the core set DEVICE_NEEDS_RESET.
    virtual Result<void> activate(DeviceContext& ctx, uint64_t features) = 0;
    // The driver notified queue `index` (ioeventfd or a QueueNotify write); the device is
    // active. Runs on the I/O thread.
    virtual void process_queue(DeviceContext& ctx, size_t index) noexcept = 0;
    // Work from the device's own backend (e.g. the tap became readable); active device only.
    virtual void process_backend(DeviceContext& /*ctx*/) noexcept {}
    // The driver reset the device (status 0): drop in-flight work, forget the context.
    virtual void reset() noexcept = 0;

    // Lifecycle (VirtioCore::pause/resume, save_state/restore_state), active device only, with
    // the core's lock held, on whichever thread pauses the machine. pause: stop asking for
    // wake-ups (stop watching descriptors, disarm timers); work in flight is finished or held
    // (e.g. frames waiting for room on the tap keep their chains), and the core calls nothing
    // else until resume, so from pause's return the device touches no guest memory. resume:
    // ask for the wake-ups again; the core then has every queue notified (a notification that
    // came while paused was dropped).
    virtual void pause(DeviceContext& /*ctx*/) noexcept {}
    virtual void resume(DeviceContext& /*ctx*/) noexcept {}
    // The device's own state beyond the core's (DeviceState: state_version, save_state,
    // restore_state) goes into its section of the core's state, and is read back from it after
    // the core re-activated the device.
};

} // namespace minivmm::virtio
