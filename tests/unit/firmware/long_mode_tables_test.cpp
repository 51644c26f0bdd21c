// Tests of firmware/long_mode_tables: the identity map and the GDT of the 64-bit entry.
#include "long_mode_tables.hpp"

#include <gtest/gtest.h>

namespace minivmm::firmware {
namespace {

constexpr uint64_t ADDR_MASK = 0x000f'ffff'ffff'f000;

uint64_t read64(const GuestMemory& mem, uint64_t addr) { return *mem.read_obj<uint64_t>(GuestAddress(addr)); }

// Walks the tables like the MMU does for a 2 MiB page and returns the physical address.
uint64_t translate(const GuestMemory& mem, uint64_t cr3, uint64_t va) {
    uint64_t pml4e = read64(mem, cr3 + ((va >> 39) & 511) * 8);
    EXPECT_TRUE(pml4e & PTE_PRESENT);
    uint64_t pdpte = read64(mem, (pml4e & ADDR_MASK) + ((va >> 30) & 511) * 8);
    EXPECT_TRUE(pdpte & PTE_PRESENT);
    EXPECT_FALSE(pdpte & PTE_PAGE_SIZE);
    uint64_t pde = read64(mem, (pdpte & ADDR_MASK) + ((va >> 21) & 511) * 8);
    EXPECT_TRUE(pde & PTE_PRESENT);
    EXPECT_TRUE(pde & PTE_WRITABLE);
    EXPECT_TRUE(pde & PTE_PAGE_SIZE);
    return (pde & 0x000f'ffff'ffe0'0000) | (va & (LARGE_PAGE_SIZE - 1));
}

TEST(LongModeTables, IdentityMapsTheFirstFourGiB) {
    auto mem = *GuestMemory::create_x86(16 << 20);
    auto t = write_long_mode_tables(mem);
    ASSERT_TRUE(t.has_value()) << t.error().message();
    EXPECT_EQ(t->cr3, GuestAddress(layout::PML4_ADDR));
    for (uint64_t va : {0x0ULL, 0x1234ULL, 0x100200ULL, 0x3fff'ffffULL, 0x4000'0000ULL,
                        0xbfff'ffffULL, 0xfee0'0000ULL, 0xffff'ffffULL})
        EXPECT_EQ(translate(mem, t->cr3.value(), va), va) << std::hex << va;
}

TEST(LongModeTables, MapsNothingAboveFourGiB) {
    auto mem = *GuestMemory::create_x86(16 << 20);
    auto t = write_long_mode_tables(mem);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(read64(mem, layout::PDPT_ADDR + 4 * 8), 0u);    // PDPT entry 4 = 4 GiB
    EXPECT_EQ(read64(mem, layout::PML4_ADDR + 8), 0u);        // PML4 entry 1 = 512 GiB
}

TEST(LongModeTables, TablesStayBelowTheEbdaAndClearOfTheZeroPage) {
    EXPECT_LE(layout::PAGE_TABLES_END, layout::EBDA_START);
    EXPECT_GE(layout::PML4_ADDR, layout::ZERO_PAGE_ADDR + 0x1000);
    EXPECT_LE(layout::PAGE_TABLES_END, layout::CMDLINE_ADDR);
}

TEST(LongModeTables, GdtHasFlatBootCodeAndDataSegments) {
    auto mem = *GuestMemory::create_x86(16 << 20);
    auto t = write_long_mode_tables(mem);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->gdt_base, GuestAddress(layout::BOOT_GDT_ADDR));
    EXPECT_EQ(t->gdt_limit, 4 * 8 - 1);
    EXPECT_EQ(read64(mem, layout::BOOT_GDT_ADDR), 0u);   // null descriptor
    uint64_t code = read64(mem, layout::BOOT_GDT_ADDR + BOOT_CS_SELECTOR);
    uint64_t data = read64(mem, layout::BOOT_GDT_ADDR + BOOT_DS_SELECTOR);
    // The well-known values (Firecracker, Cloud Hypervisor, QEMU use the same).
    EXPECT_EQ(code, 0x00af'9b00'0000'ffffULL);
    EXPECT_EQ(data, 0x00cf'9300'0000'ffffULL);
    EXPECT_TRUE((code >> 53) & 1);   // L: 64-bit code
    EXPECT_FALSE((code >> 54) & 1);  // D must be 0 with L
}

TEST(LongModeTables, GdtEntryPacksBaseAndLimit) {
    uint64_t d = gdt_entry(0xc093, 0x1234'5678, 0xabcde);
    EXPECT_EQ(d & 0xffff, 0xbcdeu);                 // limit 15:0
    EXPECT_EQ((d >> 16) & 0xff'ffff, 0x34'5678u);   // base 23:0
    EXPECT_EQ((d >> 40) & 0xff, 0x93u);             // access
    EXPECT_EQ((d >> 48) & 0xf, 0xau);               // limit 19:16
    EXPECT_EQ((d >> 52) & 0xf, 0xcu);               // flags
    EXPECT_EQ((d >> 56) & 0xff, 0x12u);             // base 31:24
}

TEST(LongModeTables, FailsWhenRamCannotHoldThem) {
    auto tiny = *GuestMemory::create({{GuestAddress(0), 0x8000}});   // ends inside the PML4 area
    auto t = write_long_mode_tables(tiny);
    ASSERT_FALSE(t.has_value());
    EXPECT_EQ(t.error().code(), ErrorCode::Invalid);
}

} // namespace
} // namespace minivmm::firmware
