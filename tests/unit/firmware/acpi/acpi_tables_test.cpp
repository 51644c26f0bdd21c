// Tests of firmware/acpi/acpi_tables: the tables in guest memory, read back like an OS would:
// checksums, lengths and the RSDP -> XSDT -> FADT -> DSDT, XSDT -> MADT pointers.
#include "acpi/acpi_tables.hpp"

#include <optional>

#include <gtest/gtest.h>

#include "acpi/madt.hpp"
#include "acpi/rsdp.hpp"
#include "table_reader.hpp"

namespace minivmm::acpi {
namespace {

using test::field;
using test::read_table;
using test::signature;

AcpiConfig config(uint32_t vcpus, size_t devices) {
    AcpiConfig c;
    c.num_vcpus = vcpus;
    for (size_t i = 0; i < devices; ++i)
        c.virtio_devices.push_back(
            {0xd000'1000 + 0x1000 * i, 0x1000, 5 + static_cast<uint32_t>(i)});
    return c;
}

class AcpiTablesTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto m = GuestMemory::create_x86(16ULL << 20);
        ASSERT_TRUE(m.has_value()) << m.error().message();
        mem_.emplace(std::move(*m));
    }
    std::optional<GuestMemory> mem_;
    const GuestAddress base_{layout::ACPI_TABLES_START};
};

TEST_F(AcpiTablesTest, RsdpHasBothChecksumsAndPointsAtXsdt) {
    auto rsdp_addr = build_acpi_tables(config(2, 2), *mem_, base_);
    ASSERT_TRUE(rsdp_addr.has_value()) << rsdp_addr.error().message();
    EXPECT_EQ(*rsdp_addr, base_);
    std::vector<uint8_t> rsdp(sizeof(Rsdp));
    ASSERT_TRUE(mem_->read(*rsdp_addr, rsdp));
    EXPECT_EQ(std::string(rsdp.begin(), rsdp.begin() + 8), "RSD PTR ");
    EXPECT_EQ(test::byte_sum(rsdp, RSDP_V1_LENGTH), 0);
    EXPECT_EQ(test::byte_sum(rsdp, sizeof(Rsdp)), 0);
    EXPECT_EQ(rsdp[15], 2);
    EXPECT_EQ(field<uint32_t>(rsdp, 20), sizeof(Rsdp));
    EXPECT_EQ(signature(read_table(*mem_, GuestAddress(field<uint64_t>(rsdp, 24)))), "XSDT");
}

TEST_F(AcpiTablesTest, PointersResolveAndEveryTableChecksumsToZero) {
    auto rsdp_addr = build_acpi_tables(config(4, 3), *mem_, base_);
    ASSERT_TRUE(rsdp_addr.has_value());
    auto rsdp = mem_->read_obj<Rsdp>(*rsdp_addr);
    ASSERT_TRUE(rsdp.has_value());
    auto xsdt = read_table(*mem_, GuestAddress(rsdp->xsdt_address));
    ASSERT_EQ(signature(xsdt), "XSDT");
    ASSERT_EQ(xsdt.size(), 36u + 2 * 8);

    std::vector<std::vector<uint8_t>> tables{xsdt};
    std::vector<std::string> sigs;
    for (size_t off = 36; off < xsdt.size(); off += 8) {
        auto t = read_table(*mem_, GuestAddress(field<uint64_t>(xsdt, off)));
        sigs.push_back(signature(t));
        tables.push_back(t);
        if (signature(t) == "FACP") {
            EXPECT_EQ(field<uint32_t>(t, 40), 0u) << "32-bit DSDT is unused";
            auto dsdt = read_table(*mem_, GuestAddress(field<uint64_t>(t, 140)));
            EXPECT_EQ(signature(dsdt), "DSDT");
            tables.push_back(dsdt);
        }
    }
    EXPECT_EQ(sigs, (std::vector<std::string>{"FACP", "APIC"}));
    ASSERT_EQ(tables.size(), 4u);
    for (const auto& t : tables) {
        EXPECT_EQ(field<uint32_t>(t, 4), t.size()) << signature(t);
        EXPECT_EQ(test::byte_sum(t, t.size()), 0) << signature(t);
    }
}

TEST_F(AcpiTablesTest, FadtIsHardwareReducedWithPowerRegisters) {
    auto at = write_acpi_tables(config(1, 0), *mem_, base_);
    ASSERT_TRUE(at.has_value());
    auto fadt = mem_->read_obj<Fadt>(at->fadt);
    ASSERT_TRUE(fadt.has_value());
    EXPECT_EQ(fadt->header.length, sizeof(Fadt));
    EXPECT_EQ(fadt->header.revision, FADT_REVISION);
    EXPECT_TRUE(fadt->flags & FADT_HW_REDUCED_ACPI);
    EXPECT_TRUE(fadt->flags & FADT_RESET_REG_SUP);
    EXPECT_EQ(uint64_t{fadt->x_dsdt}, at->dsdt.value());
    const GenericAddress control = fadt->sleep_control_reg;
    const GenericAddress status = fadt->sleep_status_reg;
    const GenericAddress reset = fadt->reset_reg;
    EXPECT_EQ(control.address_space_id, ADDRESS_SPACE_SYSTEM_IO);
    EXPECT_EQ(control.register_bit_width, 8);
    EXPECT_EQ(uint64_t{control.address}, layout::ACPI_SLEEP_CONTROL_PORT);
    EXPECT_EQ(uint64_t{status.address}, layout::ACPI_SLEEP_STATUS_PORT);
    EXPECT_EQ(reset.address_space_id, ADDRESS_SPACE_SYSTEM_IO);
    EXPECT_EQ(uint64_t{reset.address}, layout::ACPI_RESET_PORT);
    EXPECT_EQ(fadt->reset_value, ACPI_RESET_VALUE);
}

TEST_F(AcpiTablesTest, MadtListsOneLocalApicPerVcpu) {
    auto at = write_acpi_tables(config(8, 0), *mem_, base_);
    ASSERT_TRUE(at.has_value());
    auto madt = read_table(*mem_, at->madt);
    ASSERT_EQ(signature(madt), "APIC");
    size_t lapics = 0;
    for (size_t off = sizeof(MadtHeader); off + 2 <= madt.size() && madt[off + 1] >= 2;
         off += madt[off + 1])
        if (madt[off] == MADT_TYPE_LOCAL_APIC) ++lapics;
    EXPECT_EQ(lapics, 8u);
}

TEST_F(AcpiTablesTest, DsdtHasS5AndOneLnro0005PerDevice) {
    auto at = write_acpi_tables(config(1, 5), *mem_, base_);
    ASSERT_TRUE(at.has_value());
    auto dsdt = read_table(*mem_, at->dsdt);
    EXPECT_EQ(test::count_bytes(dsdt, "_S5_"), 1u);
    EXPECT_EQ(test::count_bytes(dsdt, "LNRO0005"), 5u);
}

TEST_F(AcpiTablesTest, LargestConfigFitsInTheBiosArea) {
    auto at = write_acpi_tables(config(MADT_MAX_VCPUS, DSDT_MAX_VIRTIO_DEVICES), *mem_, base_);
    ASSERT_TRUE(at.has_value()) << at.error().message();
    EXPECT_LE(base_.value() + at->total_size, layout::ACPI_TABLES_END);
}

TEST_F(AcpiTablesTest, RejectsUnalignedBaseAndMemoryThatIsTooSmall) {
    auto unaligned = build_acpi_tables(config(1, 0), *mem_, base_ + 8);
    ASSERT_FALSE(unaligned.has_value());
    EXPECT_EQ(unaligned.error().code(), ErrorCode::Invalid);
    // 16 MiB of RAM ends at 0x1000000: tables starting 64 bytes before the end cannot fit.
    EXPECT_FALSE(build_acpi_tables(config(1, 0), *mem_, GuestAddress((16ULL << 20) - 64)));
    EXPECT_FALSE(build_acpi_tables(config(0, 0), *mem_, base_));
}

} // namespace
} // namespace minivmm::acpi
