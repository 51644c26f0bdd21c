// PvPanic: QEMU's ISA pvpanic device (docs/specs/pvpanic.rst in QEMU), one port described in
// the DSDT as QEMU0001, which Linux's pvpanic-mmio driver (CONFIG_PVPANIC_MMIO) binds to. A
// read gives the events the device supports (PANICKED only); a guest write with bit 0 set
// (PANICKED) reports a kernel panic: the machine ends the VM at once with the panic code. Other
// bits (CRASH_LOADED: a kdump kernel takes over) are ignored.
#pragma once

#include <functional>

#include "bus/bus_device.hpp"

namespace minivmm {

class PvPanic : public BusDevice {
public:
    static constexpr uint8_t PANICKED = 1u << 0;

    explicit PvPanic(std::function<void()> on_panic) : on_panic_(std::move(on_panic)) {}

    void read(uint64_t offset, std::span<uint8_t> data) noexcept override;
    // Guest-controlled: any width; only bit 0 of the first byte means anything.
    void write(uint64_t offset, std::span<const uint8_t> data) noexcept override;

private:
    std::function<void()> on_panic_;
};

// InitStartedPort: the command runner's init writes any value here once it runs (it has
// reached user space): the machine stops counting --boot-timeout. Reads return 0.
class InitStartedPort : public BusDevice {
public:
    explicit InitStartedPort(std::function<void()> on_started) : on_started_(std::move(on_started)) {}

    void read(uint64_t offset, std::span<uint8_t> data) noexcept override;
    void write(uint64_t offset, std::span<const uint8_t> data) noexcept override;

private:
    std::function<void()> on_started_;
};

} // namespace minivmm
