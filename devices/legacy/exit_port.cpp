#include "legacy/exit_port.hpp"

#include <algorithm>

namespace minivmm {

void ExitPort::read(uint64_t, std::span<uint8_t> data) noexcept {
    std::fill(data.begin(), data.end(), uint8_t{0});
}

void ExitPort::write(uint64_t, std::span<const uint8_t> data) noexcept { on_exit_(data[0]); }

} // namespace minivmm
