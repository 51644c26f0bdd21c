#include "legacy/explain_port.hpp"

#include <algorithm>
#include <cstring>

namespace minivmm {

void ExplainPort::read(uint64_t, std::span<uint8_t> data) noexcept {
    std::fill(data.begin(), data.end(), uint8_t{0});
}

void ExplainPort::write(uint64_t offset, std::span<const uint8_t> data) noexcept {
    bool last = false;
    for (size_t i = 0; i < data.size(); ++i) {
        if (offset >= PORT_COUNT || i >= PORT_COUNT - offset) break;
        latch_[offset + i] = data[i];
        last = last || offset + i == PORT_COUNT - 1;
    }
    if (!last) return;
    uint64_t gva;
    std::memcpy(&gva, latch_.data(), sizeof gva);   // x86: little-endian, like the guest
    on_explain_(gva);
}

} // namespace minivmm
