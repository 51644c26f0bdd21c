// The --show-memory table and its log lines, from slots and regions given by hand.
#include "machine/memory_map.hpp"

#include <gtest/gtest.h>

namespace minivmm {
namespace {

const std::vector<MemorySlot> SLOTS = {
    {0, 0, 0xc000'0000ULL, 0x7f00'0000'0000ULL, false, false},
    {1, 0x1'0000'0000ULL, 0x4000'0000ULL, 0x7f00'c000'0000ULL, true, true},
};

TEST(MemoryMap, TableListsSlotsThenRegionsByAddress) {
    std::string t = format_memory_map(SLOTS, {{0xd000'0000ULL, 0xd000'1000ULL, "scratch"},
                                              {0x10'0000, 0x10'0123, "demo"}});
    EXPECT_EQ(t,
              "minivmm: guest memory (2 memory slots)\n"
              "  slot  GPA range                              size HVA                flags\n"
              "  0     0x000000000000-0x0000bfffffff     3 GiB 0x00007f0000000000 read-write\n"
              "  1     0x000100000000-0x00013fffffff     1 GiB 0x00007f00c0000000 read-only dirty-logging\n"
              "  layout                                 size backed by     what\n"
              "  0x000000100000-0x000000100122 291 bytes RAM (slot 0)  demo\n"
              "  0x0000d0000000-0x0000d0000fff     4 KiB no RAM        scratch\n");
}

TEST(MemoryMap, LogLinesOnePerSlotAndRegion) {
    auto lines = memory_map_lines(SLOTS, {{0x1'2000'0000ULL, 0x1'2000'1000ULL, "high"}});
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0], "memory slot 0: GPA 0x0-0xbfffffff (3 GiB) at HVA 0x7f0000000000, read-write");
    EXPECT_EQ(lines[2], "memory map: GPA 0x120000000-0x120000fff (4 KiB, RAM (slot 1)): high");
}

TEST(MemoryMap, SizesInBinaryUnits) {
    EXPECT_EQ(format_size(100), "100 bytes");
    EXPECT_EQ(format_size(4096), "4 KiB");
    EXPECT_EQ(format_size(3ULL << 29), "1.5 GiB");
    EXPECT_EQ(format_size(16ULL << 20), "16 MiB");
}

TEST(MemorySlots, FindSlotByGpa) {
    EXPECT_EQ(find_slot(SLOTS, 0xbfff'ffffULL)->slot, 0u);
    EXPECT_FALSE(find_slot(SLOTS, 0xc000'0000ULL).has_value());
    EXPECT_EQ(find_slot(SLOTS, 0x1'0000'0000ULL)->slot, 1u);
    EXPECT_FALSE(find_slot(SLOTS, 0x1'4000'0000ULL).has_value());
}

} // namespace
} // namespace minivmm
