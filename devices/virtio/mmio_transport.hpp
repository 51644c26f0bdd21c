// MmioTransport: the virtio-mmio register file, version 2 (modern) only (Virtio 1.2 §4.2.2): a
// thin front-end that decodes the guest's register accesses into the operations of the
// device's VirtioCore (features, status, queues, interrupt status, config space).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "bus/bus_device.hpp"
#include "irq_line.hpp"
#include "virtio/virtio_core.hpp"
#include "virtio/virtio_device.hpp"

namespace minivmm::virtio {

// Threads and locks: register accesses come from vCPU threads. The transport's own state is
// its three selectors (atomics: no lock); every other access is the core's (see VirtioCore for
// its lock). InterruptStatus, InterruptACK, ConfigGeneration and the identification registers
// take no lock at all, so a guest's interrupt handler never waits for the I/O thread.
//
// Guest mistakes never leave the transport: a register access of the wrong width or offset
// reads 0 and is ignored on write; the core answers the rest (see VirtioCore).
class MmioTransport final : public BusDevice {
public:
    static constexpr uint64_t CONFIG_OFFSET = 0x100;   // device config space starts here
    static constexpr uint32_t VENDOR_ID = 0x6d6d766d;  // "mvmm" (drivers do not check it)
    static constexpr unsigned MAX_WARNINGS = VirtioCore::MAX_WARNINGS;
    using View = VirtioCore::View;

    // The front-end of `core`, which the machine also hands to the I/O thread's handlers.
    explicit MmioTransport(std::shared_ptr<VirtioCore> core);
    // A transport with a core of its own (tests, benchmarks, fuzzing): `mem` outlives it, `irq`
    // is the device's interrupt line.
    MmioTransport(std::shared_ptr<VirtioDevice> device, const GuestMemory& mem,
                  std::unique_ptr<IrqLine> irq);

    // BusDevice, from vCPU threads. Registers (offsets < 0x100) take 32-bit aligned accesses;
    // config space takes widths 1/2/4/8 wholly inside config_size() (else reads 0, writes
    // ignored).
    void read(uint64_t offset, std::span<uint8_t> data) noexcept override;
    void write(uint64_t offset, std::span<const uint8_t> data) noexcept override;

    VirtioCore& core() { return *core_; }
    // The core's I/O-thread entry points and views (see VirtioCore).
    bool notify(size_t queue) noexcept { return core_->notify(queue); }
    void backend_ready() noexcept { core_->backend_ready(); }
    uint32_t status() const { return core_->status(); }
    uint32_t interrupt_status() const { return core_->interrupt_status(); }
    std::optional<View> view(std::chrono::milliseconds wait) const { return core_->view(wait); }

private:
    uint32_t read_register(uint64_t offset) const;
    void write_register(uint64_t offset, uint32_t value);
    void write_queue_register(uint64_t offset, uint32_t value);

    const std::shared_ptr<VirtioCore> core_;
    // Guest-written selectors; range-checked by the core on use.
    std::atomic<uint32_t> device_features_sel_{0};
    std::atomic<uint32_t> driver_features_sel_{0};
    std::atomic<uint32_t> queue_sel_{0};
};

} // namespace minivmm::virtio
