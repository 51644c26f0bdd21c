// Tests of firmware/mptable: the MP floating pointer and configuration table read back from guest
// memory the way Linux's mpparse does (signatures, checksums, lengths, entry counts, each entry).
#include "mptable.hpp"

#include <cstring>
#include <map>
#include <numeric>
#include <string>
#include <tuple>

#include <gtest/gtest.h>

#include "memory/layout.hpp"

namespace minivmm::firmware {
namespace {

const GuestAddress BASE(layout::MPTABLE_START);
const GuestAddress END(layout::MPTABLE_END);

template <typename T>
T at(const std::vector<uint8_t>& bytes, size_t offset) {
    T v{};
    EXPECT_LE(offset + sizeof(T), bytes.size());
    if (offset + sizeof(T) <= bytes.size()) std::memcpy(&v, bytes.data() + offset, sizeof(T));
    return v;
}

uint8_t byte_sum(const std::vector<uint8_t>& bytes) {
    return static_cast<uint8_t>(std::accumulate(bytes.begin(), bytes.end(), 0u));
}

// What a kernel learns from the table.
struct Parsed {
    MpFloatingPointer fp{};
    MpConfigHeader header{};
    std::vector<MpProcessor> cpus;
    std::vector<MpBus> buses;
    std::vector<MpIoApic> ioapics;
    std::vector<MpInterrupt> io_ints;
    std::vector<MpInterrupt> local_ints;
    size_t entries = 0;
};

Parsed parse(const GuestMemory& mem) {
    Parsed p;
    std::vector<uint8_t> fp_bytes(sizeof(MpFloatingPointer));
    EXPECT_TRUE(mem.read(BASE, fp_bytes).has_value());
    EXPECT_EQ(byte_sum(fp_bytes), 0) << "floating pointer checksum";
    p.fp = at<MpFloatingPointer>(fp_bytes, 0);
    EXPECT_EQ(std::string(p.fp.signature, 4), "_MP_");
    EXPECT_EQ(p.fp.length, 1);
    EXPECT_EQ(p.fp.spec_rev, 4);
    EXPECT_EQ(p.fp.features[0], 0) << "0: the configuration table is present";

    const GuestAddress table_addr(p.fp.config_table_address);
    auto header = mem.read_obj<MpConfigHeader>(table_addr);
    EXPECT_TRUE(header.has_value());
    if (!header) return p;
    p.header = *header;
    EXPECT_EQ(std::string(p.header.signature, 4), "PCMP");
    EXPECT_EQ(p.header.spec_rev, 4);
    EXPECT_EQ(p.header.local_apic_address, layout::LAPIC_ADDR);
    EXPECT_EQ(p.header.extended_table_length, 0);
    std::vector<uint8_t> table(p.header.base_table_length);
    EXPECT_TRUE(mem.read(table_addr, table).has_value());
    EXPECT_EQ(byte_sum(table), 0) << "configuration table checksum";

    size_t off = sizeof(MpConfigHeader);
    while (off < table.size()) {
        const uint8_t type = table[off];
        ++p.entries;
        if (type == MP_ENTRY_PROCESSOR) {
            p.cpus.push_back(at<MpProcessor>(table, off));
            off += sizeof(MpProcessor);
            continue;
        }
        if (type == MP_ENTRY_BUS) p.buses.push_back(at<MpBus>(table, off));
        else if (type == MP_ENTRY_IO_APIC) p.ioapics.push_back(at<MpIoApic>(table, off));
        else if (type == MP_ENTRY_IO_INTERRUPT) p.io_ints.push_back(at<MpInterrupt>(table, off));
        else if (type == MP_ENTRY_LOCAL_INTERRUPT) p.local_ints.push_back(at<MpInterrupt>(table, off));
        else ADD_FAILURE() << "unknown entry type " << int{type} << " at " << off;
        off += 8;
    }
    EXPECT_EQ(off, table.size()) << "entries must end exactly at the table's end";
    EXPECT_EQ(p.header.entry_count, p.entries);
    return p;
}

// ISA IRQ -> (pin, flags) from the I/O interrupt entries; each pin used once.
std::map<int, std::tuple<int, int>> routes(const Parsed& p) {
    std::map<int, std::tuple<int, int>> r;
    std::map<int, int> pins;
    for (const auto& e : p.io_ints) {
        EXPECT_EQ(e.interrupt_type, MP_INT);
        EXPECT_EQ(e.source_bus_id, MP_ISA_BUS_ID);
        EXPECT_EQ(e.destination_apic_id, layout::IOAPIC_ID);
        EXPECT_EQ(r.count(e.source_bus_irq), 0u) << "IRQ " << int{e.source_bus_irq} << " twice";
        EXPECT_EQ(pins[e.destination_pin]++, 0) << "pin " << int{e.destination_pin} << " twice";
        r[e.source_bus_irq] = {e.destination_pin, uint16_t{e.flags}};
    }
    return r;
}

Parsed write_and_parse(const MpTableConfig& config) {
    auto mem = *GuestMemory::create_x86(16ULL << 20);
    auto size = write_mptable(config, mem, BASE, END);
    EXPECT_TRUE(size.has_value()) << size.error().message();
    auto p = parse(mem);
    EXPECT_EQ(*size, sizeof(MpFloatingPointer) + p.header.base_table_length);
    return p;
}

class MpTableVcpus : public ::testing::TestWithParam<uint32_t> {};

TEST_P(MpTableVcpus, OneEnabledProcessorPerVcpuAndTheBspIsVcpu0) {
    const uint32_t n = GetParam();
    auto p = write_and_parse({n, {}});
    EXPECT_EQ(p.fp.config_table_address, BASE.value() + sizeof(MpFloatingPointer));
    ASSERT_EQ(p.cpus.size(), n);
    for (uint32_t i = 0; i < n; ++i) {
        EXPECT_EQ(p.cpus[i].local_apic_id, i);
        EXPECT_EQ(p.cpus[i].local_apic_version, MP_LOCAL_APIC_VERSION);
        EXPECT_EQ(p.cpus[i].cpu_flags,
                  i == 0 ? MP_CPU_ENABLED | MP_CPU_BOOT_PROCESSOR : MP_CPU_ENABLED);
    }
    // The CPUs, 1 bus, 1 IOAPIC, 15 ISA IRQs (not the cascade), 2 local interrupts.
    EXPECT_EQ(p.entries, n + 1 + 1 + 15 + 2);
    EXPECT_EQ(p.header.base_table_length, 44 + 20 * n + 8 * (1 + 1 + 15 + 2));
}

INSTANTIATE_TEST_SUITE_P(Counts, MpTableVcpus, ::testing::Values(1u, 2u, 8u, MP_MAX_VCPUS));

TEST(MpTable, IsaBusIoApicAndLocalInterrupts) {
    auto p = write_and_parse({2, {}});
    ASSERT_EQ(p.buses.size(), 1u);
    EXPECT_EQ(p.buses[0].bus_id, MP_ISA_BUS_ID);
    EXPECT_EQ(std::string(p.buses[0].bus_type, 6), "ISA   ");
    ASSERT_EQ(p.ioapics.size(), 1u);
    EXPECT_EQ(p.ioapics[0].io_apic_id, layout::IOAPIC_ID);
    EXPECT_EQ(p.ioapics[0].flags, MP_IO_APIC_ENABLED);
    EXPECT_EQ(p.ioapics[0].address, layout::IOAPIC_ADDR);
    ASSERT_EQ(p.local_ints.size(), 2u);
    EXPECT_EQ(p.local_ints[0].interrupt_type, MP_EXTINT);
    EXPECT_EQ(p.local_ints[0].destination_apic_id, 0);
    EXPECT_EQ(p.local_ints[0].destination_pin, 0);
    EXPECT_EQ(p.local_ints[1].interrupt_type, MP_NMI);
    EXPECT_EQ(p.local_ints[1].destination_apic_id, MP_ALL_LOCAL_APICS);
    EXPECT_EQ(p.local_ints[1].destination_pin, 1);
}

TEST(MpTable, IsaIrqsFollowTheMadt) {
    auto r = routes(write_and_parse({1, {}}));
    ASSERT_EQ(r.size(), 15u);
    EXPECT_EQ(r.count(2), 0u) << "the cascade IRQ has no pin";
    EXPECT_EQ(r[0], std::make_tuple(2, int{MP_FLAGS_CONFORMING})) << "MADT override: IRQ 0 on GSI 2";
    EXPECT_EQ(r[9], std::make_tuple(9, MP_POLARITY_ACTIVE_HIGH | MP_TRIGGER_LEVEL));
    for (int irq : {1, 3, 4, 5, 8, 14, 15})
        EXPECT_EQ(r[irq], std::make_tuple(irq, int{MP_FLAGS_CONFORMING})) << irq;
}

TEST(MpTable, VirtioGsisAreEdgeTriggeredActiveHigh) {
    const auto edge_high = MP_POLARITY_ACTIVE_HIGH | MP_TRIGGER_EDGE;
    auto p = write_and_parse({2, {5, 6, 7, 10, 11, 12, 14, 15}});
    auto r = routes(p);
    // The eight virtio pins replace their ISA entries: still 15 ISA IRQs, one entry per pin.
    EXPECT_EQ(r.size(), 15u);
    for (int gsi : {5, 6, 7, 10, 11, 12, 14, 15})
        EXPECT_EQ(r[gsi], std::make_tuple(gsi, edge_high)) << gsi;
    EXPECT_EQ(r[4], std::make_tuple(4, int{MP_FLAGS_CONFORMING}));
    // A GSI above the ISA range gets an entry of its own.
    auto high = routes(write_and_parse({1, {5, 20}}));
    EXPECT_EQ(high.size(), 16u);
    EXPECT_EQ(high[20], std::make_tuple(20, edge_high));
    EXPECT_EQ(high[5], std::make_tuple(5, edge_high));
}

TEST(MpTable, RejectsBadVcpuCountsGsisAndPlacement) {
    auto mem = *GuestMemory::create_x86(16ULL << 20);
    for (uint32_t n : {0u, MP_MAX_VCPUS + 1}) {
        auto r = write_mptable({n, {}}, mem, BASE, END);
        ASSERT_FALSE(r.has_value()) << n;
        EXPECT_EQ(r.error().code(), ErrorCode::Invalid);
    }
    for (auto gsis : {std::vector<uint32_t>{0}, {2}, {24}, {5, 5}})
        EXPECT_FALSE(write_mptable({1, gsis}, mem, BASE, END).has_value()) << gsis[0];
    EXPECT_FALSE(write_mptable({1, {}}, mem, BASE + 8, END).has_value()) << "unaligned";
    EXPECT_FALSE(write_mptable({8, {}}, mem, BASE, BASE + 64).has_value()) << "does not fit";
    // Nothing was written by the failed calls.
    EXPECT_EQ(*mem.read_obj<uint32_t>(BASE), 0u);
}

TEST(MpTable, LargestTableFitsItsArea) {
    auto mem = *GuestMemory::create_x86(16ULL << 20);
    std::vector<uint32_t> gsis;
    for (uint32_t g = 3; g < layout::IOAPIC_PINS; ++g) gsis.push_back(g);
    auto size = write_mptable({MP_MAX_VCPUS, gsis}, mem, BASE, END);
    ASSERT_TRUE(size.has_value()) << size.error().message();
    EXPECT_LE(BASE.value() + *size, END.value());
}

} // namespace
} // namespace minivmm::firmware
