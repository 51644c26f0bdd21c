// Tests of firmware/acpi/dsdt: COM1, the pvpanic port, one LNRO0005 per virtio-mmio device, \_S5.
#include "acpi/dsdt.hpp"

#include <gtest/gtest.h>

#include "acpi/aml.hpp"
#include "table_reader.hpp"

namespace minivmm::acpi {
namespace {

using test::count_bytes;

std::vector<VirtioMmioDeviceInfo> devices(size_t n) {
    std::vector<VirtioMmioDeviceInfo> d;
    for (size_t i = 0; i < n; ++i)
        d.push_back({0xd000'1000 + 0x1000 * i, 0x1000, 5 + static_cast<uint32_t>(i)});
    return d;
}

std::string bytes_of(const AmlBytes& b) { return std::string(b.begin(), b.end()); }

TEST(Dsdt, HeaderLengthAndChecksum) {
    auto dsdt = build_dsdt(devices(2));
    ASSERT_TRUE(dsdt.has_value());
    EXPECT_EQ(test::signature(*dsdt), "DSDT");
    EXPECT_EQ(test::field<uint32_t>(*dsdt, 4), dsdt->size());
    EXPECT_EQ(test::byte_sum(*dsdt, dsdt->size()), 0);
}

TEST(Dsdt, HasS5AndCom1) {
    auto dsdt = build_dsdt({});
    ASSERT_TRUE(dsdt.has_value());
    EXPECT_EQ(count_bytes(*dsdt, "_S5_"), 1u);
    EXPECT_EQ(count_bytes(*dsdt, "COM1"), 1u);
    EXPECT_EQ(count_bytes(*dsdt, bytes_of(aml_eisa_id("PNP0501"))), 1u);
    EXPECT_EQ(count_bytes(*dsdt, bytes_of(aml_io(0x3f8, 8))), 1u);
    EXPECT_EQ(count_bytes(*dsdt, bytes_of(aml_irq_no_flags(4))), 1u);
    EXPECT_EQ(count_bytes(*dsdt, "LNRO0005"), 0u);
}

TEST(Dsdt, HasThePvpanicPortAsQemu0001) {
    auto dsdt = build_dsdt(devices(1));
    ASSERT_TRUE(dsdt.has_value());
    EXPECT_EQ(count_bytes(*dsdt, "PEVT"), 1u);
    EXPECT_EQ(count_bytes(*dsdt, "QEMU0001"), 1u);
    EXPECT_EQ(count_bytes(*dsdt, bytes_of(aml_io(0x505, 1))), 1u);
}

TEST(Dsdt, OneLnro0005DevicePerVirtioEntryWithItsResources) {
    for (size_t n : {1u, 3u, 32u}) {
        auto devs = devices(n);
        auto dsdt = build_dsdt(devs);
        ASSERT_TRUE(dsdt.has_value());
        EXPECT_EQ(count_bytes(*dsdt, "LNRO0005"), n);
        for (const auto& d : devs) {
            auto mem =
                aml_memory32_fixed(static_cast<uint32_t>(d.base), static_cast<uint32_t>(d.size));
            EXPECT_EQ(count_bytes(*dsdt, bytes_of(mem)), 1u);
            EXPECT_EQ(count_bytes(*dsdt, bytes_of(aml_interrupt(d.irq))), 1u);
        }
    }
}

TEST(Dsdt, RejectsWindowsNotBelowFourGiB) {
    EXPECT_FALSE(build_dsdt({{0x1'0000'0000, 0x1000, 5}}).has_value());
    EXPECT_FALSE(build_dsdt({{0xffff'f000, 0x2000, 5}}).has_value());
    EXPECT_FALSE(build_dsdt({{0xd000'0000, 0, 5}}).has_value());
    EXPECT_TRUE(build_dsdt({{0xffff'f000, 0x1000, 5}}).has_value());
}

TEST(Dsdt, RejectsTooManyDevices) {
    EXPECT_TRUE(build_dsdt(devices(DSDT_MAX_VIRTIO_DEVICES)).has_value());
    auto r = build_dsdt(devices(DSDT_MAX_VIRTIO_DEVICES + 1));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::Invalid);
}

} // namespace
} // namespace minivmm::acpi
