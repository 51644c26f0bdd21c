// ExitPort: a one-byte write ends the VM and that byte becomes minivmm's exit status, exactly
// (0 included, unlike QEMU's isa-debug-exit which returns (value << 1) | 1). Reads return 0.
#pragma once

#include <functional>

#include "bus/bus_device.hpp"

namespace minivmm {

class ExitPort : public BusDevice {
public:
    using ExitRequest = std::function<void(uint8_t status)>;
    explicit ExitPort(ExitRequest on_exit) : on_exit_(std::move(on_exit)) {}

    void read(uint64_t offset, std::span<uint8_t> data) noexcept override;
    // Any width is accepted; the low byte is the status.
    void write(uint64_t offset, std::span<const uint8_t> data) noexcept override;

private:
    ExitRequest on_exit_;
};

} // namespace minivmm
