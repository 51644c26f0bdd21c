// BusDevice: what a port-I/O or MMIO device implements. Devices see offsets within their own
// range only, never absolute addresses. Calls come from vCPU threads; a device that has state
// shared with other threads guards it itself.
#pragma once

#include <cstdint>
#include <span>

namespace minivmm {

class BusDevice {
public:
    virtual ~BusDevice() = default;
    // Guest-controlled: `offset` < the registered length, data.size() in {1, 2, 4, 8} and
    // offset + size <= length (the bus checks both). Reads fill all of `data`.
    virtual void read(uint64_t offset, std::span<uint8_t> data) noexcept = 0;
    virtual void write(uint64_t offset, std::span<const uint8_t> data) noexcept = 0;
};

} // namespace minivmm
