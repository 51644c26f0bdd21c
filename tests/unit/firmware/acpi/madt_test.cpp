// Tests of firmware/acpi/madt: one local APIC per vCPU, the IOAPIC, the ISA overrides.
#include "acpi/madt.hpp"

#include <gtest/gtest.h>

#include "memory/layout.hpp"
#include "table_reader.hpp"

namespace minivmm::acpi {
namespace {

using test::field;

struct Counts {
    std::vector<uint8_t> apic_ids;
    int io_apics = 0;
    std::vector<MadtInterruptSourceOverride> overrides;
};

// Walks the interrupt controller structures after the 44-byte MADT header.
Counts walk(const std::vector<uint8_t>& madt) {
    Counts c;
    size_t off = sizeof(MadtHeader);
    while (off + 2 <= madt.size()) {
        const uint8_t type = madt[off];
        const uint8_t len = madt[off + 1];
        EXPECT_GE(len, 2) << "at " << off;
        if (len < 2) break;
        if (type == MADT_TYPE_LOCAL_APIC) {
            auto l = field<MadtLocalApic>(madt, off);
            EXPECT_EQ(l.flags, MADT_LAPIC_ENABLED);
            c.apic_ids.push_back(l.apic_id);
        } else if (type == MADT_TYPE_IO_APIC) {
            auto io = field<MadtIoApic>(madt, off);
            EXPECT_EQ(io.io_apic_address, layout::IOAPIC_ADDR);
            EXPECT_EQ(io.global_system_interrupt_base, 0u);
            ++c.io_apics;
        } else if (type == MADT_TYPE_INTERRUPT_SOURCE_OVERRIDE) {
            c.overrides.push_back(field<MadtInterruptSourceOverride>(madt, off));
        }
        off += len;
    }
    EXPECT_EQ(off, madt.size()) << "structures must end exactly at the table's end";
    return c;
}

class MadtVcpus : public ::testing::TestWithParam<uint32_t> {};

TEST_P(MadtVcpus, OneEnabledLocalApicPerVcpuWithIdsFromZero) {
    auto madt = build_madt(GetParam());
    ASSERT_TRUE(madt.has_value()) << madt.error().message();
    EXPECT_EQ(test::byte_sum(*madt, madt->size()), 0);
    EXPECT_EQ(field<uint32_t>(*madt, 4), madt->size());
    EXPECT_EQ(field<uint32_t>(*madt, 36), layout::LAPIC_ADDR);
    auto c = walk(*madt);
    ASSERT_EQ(c.apic_ids.size(), GetParam());
    for (size_t i = 0; i < c.apic_ids.size(); ++i) EXPECT_EQ(c.apic_ids[i], i);
    EXPECT_EQ(c.io_apics, 1);
}

INSTANTIATE_TEST_SUITE_P(Counts, MadtVcpus, ::testing::Values(1u, 2u, 4u, 64u, MADT_MAX_VCPUS));

TEST(Madt, OverridesIrq0ToGsi2AndIrq9LevelTriggered) {
    auto madt = build_madt(1);
    ASSERT_TRUE(madt.has_value());
    auto c = walk(*madt);
    ASSERT_EQ(c.overrides.size(), 2u);
    EXPECT_EQ(c.overrides[0].source, 0);
    EXPECT_EQ(c.overrides[0].global_system_interrupt, 2u);
    EXPECT_EQ(c.overrides[1].source, 9);
    EXPECT_EQ(uint32_t{c.overrides[1].global_system_interrupt}, 9u);
    EXPECT_EQ(c.overrides[1].flags & 0xc, MPS_INTI_TRIGGER_LEVEL);
}

TEST(Madt, RejectsZeroAndTooManyVcpus) {
    EXPECT_FALSE(build_madt(0).has_value());
    auto r = build_madt(MADT_MAX_VCPUS + 1);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::Invalid);
}

} // namespace
} // namespace minivmm::acpi
