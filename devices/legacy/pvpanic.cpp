#include "legacy/pvpanic.hpp"

#include <algorithm>

namespace minivmm {

void PvPanic::read(uint64_t, std::span<uint8_t> data) noexcept {
    std::fill(data.begin(), data.end(), uint8_t{0});
    if (!data.empty()) data[0] = PANICKED;
}

void PvPanic::write(uint64_t, std::span<const uint8_t> data) noexcept {
    if (!data.empty() && (data[0] & PANICKED)) on_panic_();
}

void InitStartedPort::read(uint64_t, std::span<uint8_t> data) noexcept {
    std::fill(data.begin(), data.end(), uint8_t{0});
}

void InitStartedPort::write(uint64_t, std::span<const uint8_t>) noexcept { on_started_(); }

} // namespace minivmm
