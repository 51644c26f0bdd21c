// ScratchDevice: a small MMIO test device for teaching and tests (in the spirit of QEMU's
// pc-testdev). Offset 0 reads the ID "MVMM"; offset 4 is a 32-bit scratch register that
// reads back what was written; offset 8 counts the writes it has seen. Other offsets read 0.
#pragma once

#include <atomic>
#include <cstdint>

#include "bus/bus_device.hpp"

namespace minivmm {

class ScratchDevice : public BusDevice {
public:
    static constexpr uint32_t ID = 0x4d4d564d;   // "MVMM" little-endian
    static constexpr uint64_t REG_ID = 0, REG_SCRATCH = 4, REG_WRITES = 8;

    void read(uint64_t offset, std::span<uint8_t> data) noexcept override;
    void write(uint64_t offset, std::span<const uint8_t> data) noexcept override;

private:
    std::atomic<uint32_t> scratch_{0};
    std::atomic<uint32_t> writes_{0};
};

} // namespace minivmm
