// AcpiPowerDevice: the hardware-reduced ACPI power registers the FADT points at (ACPI 6.5
// §4.8.3.7 sleep control and status, §4.8.3.6 reset register), three 8-bit I/O ports:
// offset 0 SLEEP_CONTROL_REG, 1 SLEEP_STATUS_REG, 2 RESET_REG. Writing SLP_EN with SLP_TYP =
// the DSDT's \_S5 value requests power-off; writing the FADT's reset value requests a reboot.
// The values come from the machine (firmware/acpi/fadt.hpp), which builds the tables too.
#pragma once

#include <cstdint>
#include <functional>

#include "bus/bus_device.hpp"

namespace minivmm {

class AcpiPowerDevice : public BusDevice {
public:
    static constexpr uint64_t SLEEP_CONTROL = 0;
    static constexpr uint64_t SLEEP_STATUS = 1;
    static constexpr uint64_t RESET = 2;
    static constexpr uint64_t PORT_COUNT = 3;
    // §4.8.3.7: SLP_TYPx in bits 2-4, SLP_EN in bit 5 of the sleep control register.
    static constexpr uint8_t SLP_TYP_SHIFT = 2;
    static constexpr uint8_t SLP_TYP_MASK = 0x7;
    static constexpr uint8_t SLP_EN = 1u << 5;

    struct Values {
        uint8_t s5_sleep_type;   // the first element of the DSDT's \_S5 package
        uint8_t reset_value;     // the FADT's RESET_VALUE
    };
    using Request = std::function<void()>;

    AcpiPowerDevice(Values values, Request on_power_off, Request on_reset)
        : values_(values), on_power_off_(std::move(on_power_off)), on_reset_(std::move(on_reset)) {}

    // Every register reads 0 (the control bits are write-only, WAK_STS is never set).
    void read(uint64_t offset, std::span<uint8_t> data) noexcept override;
    // Guest-controlled: each byte of a wider write goes to the register at its own offset.
    // Other sleep types (S1-S4, not in the DSDT) and other reset values are ignored.
    void write(uint64_t offset, std::span<const uint8_t> data) noexcept override;

private:
    Values values_;
    Request on_power_off_;
    Request on_reset_;
};

} // namespace minivmm
