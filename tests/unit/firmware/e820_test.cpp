// Tests of firmware/e820: the map's invariants for small, hole-sized and above-4-GiB guests.
#include "e820.hpp"

#include <gtest/gtest.h>

#include "memory/layout.hpp"

namespace minivmm::firmware {
namespace {

constexpr uint64_t MiB = 1ULL << 20;
constexpr uint64_t GiB = 1ULL << 30;

uint64_t ram_total(const std::vector<E820Entry>& map) {
    uint64_t total = 0;
    for (const auto& e : map)
        if (e.type == E820_TYPE_RAM) total += e.size;
    return total;
}

// Sorted, non-empty, non-overlapping, nothing in the MMIO hole, and the reserved BIOS area
// covers the ACPI tables.
void expect_invariants(const std::vector<E820Entry>& map) {
    ASSERT_FALSE(map.empty());
    ASSERT_LE(map.size(), size_t{E820_MAX_ENTRIES_ZEROPAGE});
    for (size_t i = 0; i < map.size(); ++i) {
        EXPECT_GT(uint64_t{map[i].size}, 0u) << "entry " << i;
        if (i > 0) {
            EXPECT_LE(uint64_t{map[i - 1].addr} + map[i - 1].size, uint64_t{map[i].addr}) << "entry " << i;
        }
        const uint64_t end = map[i].addr + map[i].size;
        EXPECT_FALSE(map[i].addr < layout::MMIO_HOLE_END && end > layout::MMIO_HOLE_START)
            << "entry " << i << " overlaps the MMIO hole";
    }
    bool acpi_area_reserved = false;
    bool mptable_area_reserved = false;
    for (const auto& e : map) {
        if (e.type == E820_TYPE_RESERVED && e.addr <= layout::ACPI_TABLES_START &&
            e.addr + e.size >= layout::ACPI_TABLES_END)
            acpi_area_reserved = true;
        if (e.type == E820_TYPE_RESERVED && e.addr <= layout::MPTABLE_START &&
            e.addr + e.size >= layout::MPTABLE_END)
            mptable_area_reserved = true;
    }
    EXPECT_TRUE(acpi_area_reserved);
    EXPECT_TRUE(mptable_area_reserved);
    EXPECT_LE(layout::ACPI_TABLES_END, layout::MPTABLE_START) << "the tables must not overlap";
}

class E820Sizes : public ::testing::TestWithParam<uint64_t> {};

TEST_P(E820Sizes, MapIsSortedDisjointAndCoversAllRam) {
    const uint64_t ram = GetParam();
    auto map = build_e820_map(ram);
    ASSERT_TRUE(map.has_value()) << map.error().message();
    expect_invariants(*map);
    // All RAM is described except the reserved part of the first MiB.
    EXPECT_EQ(ram_total(*map), ram - (layout::BIOS_AREA_END - layout::EBDA_START));
}

INSTANTIATE_TEST_SUITE_P(Sizes, E820Sizes,
                         ::testing::Values(layout::MIN_RAM_SIZE, 64 * MiB, 3 * GiB - 4096, 3 * GiB,
                                           3 * GiB + 4096, 5 * GiB, layout::MAX_RAM_SIZE));

TEST(E820, TinyGuestHasLowRamReservedAreaAndRamFromOneMiB) {
    auto map = build_e820_map(layout::MIN_RAM_SIZE);
    ASSERT_TRUE(map.has_value());
    ASSERT_EQ(map->size(), 3u);
    EXPECT_EQ((*map)[0].addr, 0u);
    EXPECT_EQ((*map)[0].size, 0x9fc00u);
    EXPECT_EQ((*map)[0].type, E820_TYPE_RAM);
    EXPECT_EQ(uint64_t{(*map)[1].addr}, 0x9fc00u);
    EXPECT_EQ(uint64_t{(*map)[1].size}, 0x100000u - 0x9fc00u);
    EXPECT_EQ((*map)[1].type, E820_TYPE_RESERVED);
    EXPECT_EQ((*map)[2].addr, 1 * MiB);
    EXPECT_EQ((*map)[2].addr + (*map)[2].size, layout::MIN_RAM_SIZE);
    EXPECT_EQ((*map)[2].type, E820_TYPE_RAM);
}

TEST(E820, ExactlyTheHoleHasNoHighRam) {
    auto map = build_e820_map(3 * GiB);
    ASSERT_TRUE(map.has_value());
    ASSERT_EQ(map->size(), 3u);
    EXPECT_EQ(map->back().addr + map->back().size, layout::MMIO_HOLE_START);
}

TEST(E820, RamAboveTheHoleResumesAtFourGiB) {
    auto map = build_e820_map(5 * GiB);
    ASSERT_TRUE(map.has_value());
    ASSERT_EQ(map->size(), 4u);
    EXPECT_EQ((*map)[2].addr + (*map)[2].size, layout::MMIO_HOLE_START);
    EXPECT_EQ(uint64_t{(*map)[3].addr}, layout::MMIO_HOLE_END);
    EXPECT_EQ(uint64_t{(*map)[3].size}, 2 * GiB);
    EXPECT_EQ((*map)[3].type, E820_TYPE_RAM);
}

TEST(E820, RejectsSizesOutsideTheLayoutLimits) {
    EXPECT_FALSE(build_e820_map(0).has_value());
    EXPECT_FALSE(build_e820_map(1 * MiB).has_value());
    EXPECT_FALSE(build_e820_map(layout::MIN_RAM_SIZE - 1).has_value());
    auto too_big = build_e820_map(layout::MAX_RAM_SIZE + 1);
    ASSERT_FALSE(too_big.has_value());
    EXPECT_EQ(too_big.error().code(), ErrorCode::Invalid);
}

TEST(E820, TypesMatchTheBootProtocolValues) {
    EXPECT_EQ(E820_TYPE_RAM, 1u);
    EXPECT_EQ(E820_TYPE_RESERVED, 2u);
    EXPECT_EQ(E820_TYPE_ACPI, 3u);
    EXPECT_EQ(sizeof(E820Entry), 20u);
}

} // namespace
} // namespace minivmm::firmware
