#include "legacy/acpi_power.hpp"

#include <algorithm>

namespace minivmm {

void AcpiPowerDevice::read(uint64_t, std::span<uint8_t> data) noexcept {
    std::fill(data.begin(), data.end(), uint8_t{0});
}

void AcpiPowerDevice::write(uint64_t offset, std::span<const uint8_t> data) noexcept {
    for (size_t i = 0; i < data.size(); ++i) {
        const uint8_t value = data[i];
        switch (offset + i) {
        case SLEEP_CONTROL:
            if ((value & SLP_EN) &&
                ((value >> SLP_TYP_SHIFT) & SLP_TYP_MASK) == values_.s5_sleep_type)
                on_power_off_();
            break;
        case RESET:
            if (value == values_.reset_value) on_reset_();
            break;
        default: break;   // SLEEP_STATUS: writing 1 clears WAK_STS, which is never set
        }
    }
}

} // namespace minivmm
