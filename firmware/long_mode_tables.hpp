// The guest structures of the 64-bit boot protocol entry (Documentation/arch/x86/boot.rst,
// "64-bit Boot Protocol"): identity-mapped page tables and a flat GDT with __BOOT_CS (0x10) and
// __BOOT_DS (0x18), at the fixed addresses of vmm/memory/layout.hpp.
#pragma once

#include <array>
#include <cstdint>

#include "base/result.hpp"
#include "memory/guest_memory.hpp"
#include "memory/layout.hpp"

namespace minivmm::firmware {

// Page-table entry bits (Intel SDM vol. 3 §4.5).
constexpr uint64_t PTE_PRESENT = 1ULL << 0;
constexpr uint64_t PTE_WRITABLE = 1ULL << 1;
constexpr uint64_t PTE_PAGE_SIZE = 1ULL << 7;   // in a PD entry: a 2 MiB page
constexpr uint64_t LARGE_PAGE_SIZE = 2ULL << 20;

// GDT descriptors: the flat 64-bit code and data segments the kernel's entry expects.
constexpr uint16_t BOOT_CS_SELECTOR = 0x10;
constexpr uint16_t BOOT_DS_SELECTOR = 0x18;
// 8-byte segment descriptor from its parts (Intel SDM vol. 3 §3.4.5): `flags` holds the access
// byte in bits 0-7 and the G/DB/L/AVL nibble in bits 12-15 (the layout of bits 40-55).
constexpr uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit) {
    return ((uint64_t{base} & 0xff00'0000) << 32) | ((uint64_t{flags} & 0xf0ff) << 40) |
           ((uint64_t{limit} & 0x000f'0000) << 32) | ((uint64_t{base} & 0x00ff'ffff) << 16) |
           (uint64_t{limit} & 0x0000'ffff);
}
constexpr uint64_t GDT_CODE64 = gdt_entry(0xa09b, 0, 0xfffff);   // G, L; present, code, exec/read, accessed
constexpr uint64_t GDT_DATA = gdt_entry(0xc093, 0, 0xfffff);     // G, DB; present, data, read/write, accessed
constexpr std::array<uint64_t, layout::BOOT_GDT_ENTRIES> BOOT_GDT = {0, 0, GDT_CODE64, GDT_DATA};

struct LongModeTables {
    GuestAddress cr3;        // the PML4
    GuestAddress gdt_base;
    uint16_t gdt_limit;      // bytes - 1
};

// Writes the PML4, PDPT and PD_COUNT page directories that identity-map
// [0, PD_COUNT GiB) with 2 MiB pages (present, writable), and BOOT_GDT. The page tables are
// written for the whole 4 GiB even where RAM ends earlier (MMIO and holes are mapped too, as the
// kernel expects of an identity map). ErrorCode::Invalid if the tables do not fit in `mem`.
Result<LongModeTables> write_long_mode_tables(const GuestMemory& mem);

} // namespace minivmm::firmware
