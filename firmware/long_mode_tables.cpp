// Page tables and GDT for the 64-bit entry; see long_mode_tables.hpp.
#include "long_mode_tables.hpp"

#include <vector>

namespace minivmm::firmware {

namespace {
constexpr uint64_t ENTRIES_PER_TABLE = 512;
constexpr uint64_t TABLE_SIZE = 0x1000;
constexpr uint64_t LINK = PTE_PRESENT | PTE_WRITABLE;   // a PML4/PDPT entry pointing to a table
static_assert(layout::PDPT_ADDR == layout::PML4_ADDR + TABLE_SIZE);
static_assert(layout::PD_ADDR == layout::PDPT_ADDR + TABLE_SIZE);
static_assert(layout::PAGE_TABLES_END <= layout::EBDA_START);
static_assert(layout::BOOT_GDT_ADDR + layout::BOOT_GDT_ENTRIES * 8 <= layout::PVH_START_INFO_ADDR);
} // namespace

Result<LongModeTables> write_long_mode_tables(const GuestMemory& mem) {
    // One buffer for PML4, PDPT and the PDs, which are contiguous (static_asserts above).
    std::vector<uint64_t> tables((2 + layout::PD_COUNT) * ENTRIES_PER_TABLE, 0);
    uint64_t* pml4 = tables.data();
    uint64_t* pdpt = pml4 + ENTRIES_PER_TABLE;
    uint64_t* pd = pdpt + ENTRIES_PER_TABLE;
    pml4[0] = layout::PDPT_ADDR | LINK;
    for (uint64_t i = 0; i < layout::PD_COUNT; ++i) {
        pdpt[i] = (layout::PD_ADDR + i * TABLE_SIZE) | LINK;
        for (uint64_t j = 0; j < ENTRIES_PER_TABLE; ++j) {
            uint64_t addr = (i * ENTRIES_PER_TABLE + j) * LARGE_PAGE_SIZE;
            pd[i * ENTRIES_PER_TABLE + j] = addr | PTE_PRESENT | PTE_WRITABLE | PTE_PAGE_SIZE;
        }
    }
    auto bytes = std::span(reinterpret_cast<const uint8_t*>(tables.data()), tables.size() * 8);
    auto w = mem.write(GuestAddress(layout::PML4_ADDR), bytes);
    if (!w) return Error(ErrorCode::Invalid, "Page tables: " + w.error().message());
    auto g = mem.write(GuestAddress(layout::BOOT_GDT_ADDR),
                       std::span(reinterpret_cast<const uint8_t*>(BOOT_GDT.data()),
                                 BOOT_GDT.size() * 8));
    if (!g) return Error(ErrorCode::Invalid, "GDT: " + g.error().message());
    return LongModeTables{GuestAddress(layout::PML4_ADDR), GuestAddress(layout::BOOT_GDT_ADDR),
                          static_cast<uint16_t>(BOOT_GDT.size() * 8 - 1)};
}

} // namespace minivmm::firmware
