// Unit tests for AcpiPowerDevice (devices/legacy/acpi_power.hpp), with the values the machine
// takes from the FADT/DSDT builders (firmware/acpi/fadt.hpp), so both sides agree.
#include "legacy/acpi_power.hpp"

#include <array>

#include <gtest/gtest.h>

#include "acpi/fadt.hpp"

namespace minivmm {
namespace {

struct Power {
    void out(uint64_t offset, uint8_t value) {
        const std::array<uint8_t, 1> b{value};
        dev.write(offset, b);
    }
    int power_offs = 0;
    int resets = 0;
    AcpiPowerDevice dev{{acpi::ACPI_S5_SLP_TYP, acpi::ACPI_RESET_VALUE},
                        [this] { ++power_offs; },
                        [this] { ++resets; }};
};

// What Linux's acpi_hw_extended_sleep() writes for S5.
constexpr uint8_t S5_WRITE =
    static_cast<uint8_t>((acpi::ACPI_S5_SLP_TYP << acpi::ACPI_SLP_TYP_SHIFT) | acpi::ACPI_SLP_EN);

TEST(AcpiPowerDevice, DecodesTheFadtLayout) {
    EXPECT_EQ(AcpiPowerDevice::SLP_EN, acpi::ACPI_SLP_EN);
    EXPECT_EQ(AcpiPowerDevice::SLP_TYP_SHIFT, acpi::ACPI_SLP_TYP_SHIFT);
    EXPECT_EQ(AcpiPowerDevice::SLP_TYP_MASK, acpi::ACPI_SLP_TYP_MASK);
}

TEST(AcpiPowerDevice, S5WithSleepEnablePowersOff) {
    Power p;
    p.out(AcpiPowerDevice::SLEEP_STATUS, 0x80);   // Linux clears WAK_STS first
    EXPECT_EQ(p.power_offs, 0);
    p.out(AcpiPowerDevice::SLEEP_CONTROL, S5_WRITE);
    EXPECT_EQ(p.power_offs, 1);
    EXPECT_EQ(p.resets, 0);
}

TEST(AcpiPowerDevice, S5WithoutSleepEnableDoesNothing) {
    Power p;
    p.out(AcpiPowerDevice::SLEEP_CONTROL,
          static_cast<uint8_t>(acpi::ACPI_S5_SLP_TYP << acpi::ACPI_SLP_TYP_SHIFT));
    EXPECT_EQ(p.power_offs, 0);
}

TEST(AcpiPowerDevice, OtherSleepTypesAreIgnored) {
    Power p;
    for (uint8_t type = 0; type <= acpi::ACPI_SLP_TYP_MASK; ++type) {
        if (type == acpi::ACPI_S5_SLP_TYP) continue;
        p.out(AcpiPowerDevice::SLEEP_CONTROL,
              static_cast<uint8_t>((type << acpi::ACPI_SLP_TYP_SHIFT) | acpi::ACPI_SLP_EN));
    }
    EXPECT_EQ(p.power_offs, 0);
    EXPECT_EQ(p.resets, 0);
}

TEST(AcpiPowerDevice, ResetValueReboots) {
    Power p;
    p.out(AcpiPowerDevice::RESET, static_cast<uint8_t>(acpi::ACPI_RESET_VALUE + 1));
    p.out(AcpiPowerDevice::RESET, 0);
    EXPECT_EQ(p.resets, 0);
    p.out(AcpiPowerDevice::RESET, acpi::ACPI_RESET_VALUE);
    EXPECT_EQ(p.resets, 1);
    EXPECT_EQ(p.power_offs, 0);
}

TEST(AcpiPowerDevice, S5ValueOnOtherPortsDoesNothing) {
    Power p;
    p.out(AcpiPowerDevice::SLEEP_STATUS, S5_WRITE);
    EXPECT_EQ(p.power_offs, 0);
}

TEST(AcpiPowerDevice, WideWriteHitsEachByteRegister) {
    Power p;
    const std::array<uint8_t, 2> status_reset{0, acpi::ACPI_RESET_VALUE};
    p.dev.write(AcpiPowerDevice::SLEEP_STATUS, status_reset);
    EXPECT_EQ(p.resets, 1);
    const std::array<uint8_t, 2> pair{S5_WRITE, 0};
    p.dev.write(AcpiPowerDevice::SLEEP_CONTROL, pair);
    EXPECT_EQ(p.power_offs, 1);
}

TEST(AcpiPowerDevice, RegistersReadZero) {
    Power p;
    std::array<uint8_t, 2> b{0xee, 0xee};
    p.dev.read(AcpiPowerDevice::SLEEP_CONTROL, b);
    EXPECT_EQ(b, (std::array<uint8_t, 2>{0, 0}));
}

} // namespace
} // namespace minivmm
