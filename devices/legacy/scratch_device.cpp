#include "legacy/scratch_device.hpp"

#include <algorithm>
#include <cstring>

namespace minivmm {

void ScratchDevice::read(uint64_t offset, std::span<uint8_t> data) noexcept {
    // Registers are 32 bits wide and little-endian; an access reads the bytes it covers.
    uint32_t regs[3] = {ID, scratch_.load(), writes_.load()};
    uint8_t bytes[16] = {};
    std::memcpy(bytes, regs, sizeof regs);
    for (size_t i = 0; i < data.size(); ++i) {
        uint64_t o = offset + i;
        data[i] = (o < sizeof regs) ? bytes[o] : 0;
    }
}

void ScratchDevice::write(uint64_t offset, std::span<const uint8_t> data) noexcept {
    writes_.fetch_add(1);
    if (offset != REG_SCRATCH) return;   // only the scratch register is writable
    uint32_t value = 0;
    std::memcpy(&value, data.data(), std::min(data.size(), sizeof value));
    scratch_.store(value);
}

} // namespace minivmm
