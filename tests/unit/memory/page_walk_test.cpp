// The page-table walker against crafted tables in real GuestMemory.
#include "memory/page_walk.hpp"

#include <gtest/gtest.h>

namespace minivmm {
namespace {

constexpr uint64_t MIB = 1ULL << 20;
constexpr uint64_t LONG_MODE_CR0 = (1ULL << 31) | 1;
constexpr uint64_t LONG_MODE_CR4 = 1ULL << 5;
constexpr uint64_t LONG_MODE_EFER = (1ULL << 8) | (1ULL << 10) | (1ULL << 11);
constexpr uint64_t PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT = 0x4000;
constexpr uint64_t PWU = 0x7;   // present, writable, user

class PageWalkTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto m = GuestMemory::create({{GuestAddress(0), 4 * MIB}});
        ASSERT_TRUE(m.has_value());
        mem_.emplace(std::move(*m));
    }
    void set(uint64_t table, uint32_t index, uint64_t entry) {
        ASSERT_TRUE(mem_->write_obj(GuestAddress(table + index * 8ULL), entry).has_value());
    }
    PageWalk walk(uint64_t gva, uint32_t phys_bits = 46) {
        return walk_page_tables(*mem_, {LONG_MODE_CR0, PML4, LONG_MODE_CR4, LONG_MODE_EFER,
                                        phys_bits}, gva);
    }
    // GVA 0x7f12_3456_7abc: PML4[254] PDPT[72] PD[418] PT[359], offset 0xabc.
    static constexpr uint64_t GVA = 0x7f12'3456'7abcULL;
    void map_4k(uint64_t frame) {
        set(PML4, 254, PDPT | PWU);
        set(PDPT, 72, PD | PWU);
        set(PD, 418, PT | PWU);
        set(PT, 359, frame | PWU);
    }
    std::optional<GuestMemory> mem_;
};

TEST_F(PageWalkTest, FourLevelsToA4KPage) {
    map_4k(0x2b'c000);
    PageWalk w = walk(GVA);
    ASSERT_TRUE(w.gpa.has_value()) << w.stopped;
    EXPECT_EQ(*w.gpa, 0x2b'cabcULL);
    EXPECT_EQ(w.page_size, 4096u);
    ASSERT_EQ(w.steps.size(), 4u);
    EXPECT_EQ(w.steps[0].table, PML4);
    EXPECT_EQ(w.steps[0].index, 254u);
    EXPECT_EQ(w.steps[1].index, 72u);
    EXPECT_EQ(w.steps[2].index, 418u);
    EXPECT_EQ(w.steps[3].index, 359u);
    EXPECT_EQ(w.steps[3].table, PT);
    EXPECT_EQ(w.steps[3].entry, 0x2b'c000ULL | PWU);
    EXPECT_TRUE(w.steps[3].leaf);
    EXPECT_TRUE(w.writable && w.user && w.executable);
}

TEST_F(PageWalkTest, HugePage2M) {
    set(PML4, 0, PDPT | PWU);
    set(PDPT, 0, PD | PWU);
    set(PD, 1, 0x20'0000 | 0x80 | 0x3);   // 2 MiB page at 2 MiB, supervisor only
    PageWalk w = walk(0x23'4567);
    ASSERT_TRUE(w.gpa.has_value()) << w.stopped;
    EXPECT_EQ(*w.gpa, 0x23'4567ULL);
    EXPECT_EQ(w.page_size, 2 * MIB);
    EXPECT_EQ(w.steps.size(), 3u);
    EXPECT_FALSE(w.user);
    EXPECT_EQ(page_entry_flags(w.steps[2].entry, 2), "P W PS");
}

TEST_F(PageWalkTest, HugePage1G) {
    set(PML4, 0, PDPT | PWU);
    set(PDPT, 1, 0x4000'0000ULL | 0x80 | PWU | (1ULL << 63));   // 1 GiB page, no execute
    PageWalk w = walk(0x4123'4567);
    ASSERT_TRUE(w.gpa.has_value()) << w.stopped;
    EXPECT_EQ(*w.gpa, 0x4123'4567ULL);   // the GPA need not be in RAM: the walk only reads tables
    EXPECT_EQ(w.page_size, 1ULL << 30);
    EXPECT_EQ(w.steps.size(), 2u);
    EXPECT_FALSE(w.executable);
    EXPECT_EQ(page_entry_flags(w.steps[1].entry, 3), "P W U PS XD");
}

TEST_F(PageWalkTest, StopsAtANotPresentEntry) {
    map_4k(0x2b'c000);
    set(PD, 418, PT);   // present bit clear
    PageWalk w = walk(GVA);
    EXPECT_FALSE(w.gpa.has_value());
    EXPECT_EQ(w.steps.size(), 3u);
    EXPECT_EQ(w.stopped, "PD[418] is not present: a page fault");
    EXPECT_EQ(page_entry_flags(w.steps[2].entry, 2), "not present");
}

TEST_F(PageWalkTest, StopsAtATableOutsideRam) {
    map_4k(0x2b'c000);
    set(PDPT, 72, 0x7'0000'0000ULL | PWU);   // 28 GiB: no RAM there
    PageWalk w = walk(GVA);
    EXPECT_FALSE(w.gpa.has_value());
    EXPECT_EQ(w.steps.size(), 2u);
    EXPECT_EQ(w.stopped, "PD entry at GPA 0x700000d10 is outside guest RAM");
}

TEST_F(PageWalkTest, StopsAtCr3OutsideRam) {
    PageWalk w = walk_page_tables(*mem_, {LONG_MODE_CR0, 0xf'ffff'f000ULL, LONG_MODE_CR4,
                                          LONG_MODE_EFER, 52}, GVA);
    EXPECT_FALSE(w.gpa.has_value());
    EXPECT_TRUE(w.steps.empty());
    EXPECT_NE(w.stopped.find("PML4 entry at GPA"), std::string::npos);
}

TEST_F(PageWalkTest, ReservedBitsAboveMaxPhyAddr) {
    map_4k(0x2b'c000);
    set(PT, 359, (1ULL << 47) | 0x2b'c000 | PWU);   // bit 47 with MAXPHYADDR 46
    PageWalk w = walk(GVA);
    EXPECT_FALSE(w.gpa.has_value());
    EXPECT_EQ(w.stopped, "PT[359] has reserved bits set (0x800000000000): a page fault");
    EXPECT_TRUE(walk(GVA, 52).gpa.has_value());   // the same bit is an address bit at 52
}

TEST_F(PageWalkTest, ReservedBitsInHugePagesAndPml4) {
    set(PML4, 0, PDPT | PWU);
    set(PDPT, 0, PD | PWU);
    set(PD, 0, 0x2000 | 0x80 | PWU);   // bit 13 in a 2 MiB page (bit 12 is its PAT bit)
    EXPECT_NE(walk(0x1234).stopped.find("PD[0] has reserved bits"), std::string::npos);
    set(PML4, 0, PDPT | PWU | 0x80);   // PS in a PML4 entry
    EXPECT_NE(walk(0x1234).stopped.find("PML4[0] has reserved bits"), std::string::npos);
}

TEST_F(PageWalkTest, NoExecuteBitIsReservedWithoutEferNxe) {
    map_4k(0x2b'c000);
    set(PT, 359, 0x2b'c000 | PWU | (1ULL << 63));
    PageWalk w = walk_page_tables(*mem_, {LONG_MODE_CR0, PML4, LONG_MODE_CR4,
                                          LONG_MODE_EFER & ~(1ULL << 11), 46}, GVA);
    EXPECT_NE(w.stopped.find("reserved bits set (0x8000000000000000)"), std::string::npos);
}

TEST_F(PageWalkTest, NonCanonicalAddress) {
    PageWalk w = walk(0x0000'8000'0000'0000ULL);
    EXPECT_FALSE(w.gpa.has_value());
    EXPECT_NE(w.stopped.find("not canonical"), std::string::npos);
}

TEST_F(PageWalkTest, PagingOffIsTheIdentity) {
    PageWalk w = walk_page_tables(*mem_, {1, 0, 0, 0, 46}, 0x12345);
    EXPECT_FALSE(w.paging);
    ASSERT_TRUE(w.gpa.has_value());
    EXPECT_EQ(*w.gpa, 0x12345u);
}

TEST_F(PageWalkTest, OtherPagingModesAreNotDecoded) {
    EXPECT_NE(walk_page_tables(*mem_, {LONG_MODE_CR0, PML4, 0, 0, 46}, 0).stopped.find("32-bit"),
              std::string::npos);
    EXPECT_NE(walk_page_tables(*mem_, {LONG_MODE_CR0, PML4, LONG_MODE_CR4 | (1ULL << 12),
                                       LONG_MODE_EFER, 46}, 0)
                  .stopped.find("5-level"),
              std::string::npos);
}

TEST_F(PageWalkTest, TableAtTheEndOfRamIsRead) {
    // The last entry of a table in the last page of RAM: in range, read, not present.
    PageWalk w = walk_page_tables(*mem_, {LONG_MODE_CR0, 4 * MIB - 4096, LONG_MODE_CR4,
                                          LONG_MODE_EFER, 46}, 0xffff'ff80'0000'0000ULL);
    ASSERT_EQ(w.steps.size(), 1u);
    EXPECT_EQ(w.steps[0].index, 511u);
    EXPECT_NE(w.stopped.find("not present"), std::string::npos);
}

TEST(PageEntryFlags, NamesEachBit) {
    EXPECT_EQ(page_entry_flags(0x1e7, 1), "P W U A D G");   // PAT bit 7 of a PTE is not PS
    EXPECT_EQ(page_entry_flags(0x1f, 4), "P W U PWT PCD");
    EXPECT_EQ(page_entry_address(0x8000'0000'1234'5067ULL), 0x1234'5000ULL);
}

} // namespace
} // namespace minivmm
