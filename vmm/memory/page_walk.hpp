// The guest's 4-level page-table walk (Intel SDM Vol. 3A §4.5, IA-32e paging), done by minivmm
// from guest RAM: GVA -> PML4E -> PDPTE -> PDE -> PTE -> GPA, with 1 GiB and 2 MiB pages.
// A parser of guest bytes: every table pointer is guest-controlled and checked against RAM.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "memory/guest_memory.hpp"

namespace minivmm {

// The control registers the walk depends on, as the vCPU has them.
struct PagingRegs {
    uint64_t cr0 = 0;
    uint64_t cr3 = 0;
    uint64_t cr4 = 0;
    uint64_t efer = 0;
    uint32_t phys_bits = 52;   // MAXPHYADDR: entry bits from here to 51 are reserved
};

// One table entry read during the walk.
struct PageWalkStep {
    int level = 4;             // 4 PML4, 3 PDPT, 2 PD, 1 PT
    uint64_t table = 0;        // GPA of the table
    uint32_t index = 0;        // which of its 512 entries the GVA selects
    uint64_t entry = 0;        // the 8 bytes read from guest RAM
    bool leaf = false;         // it maps the page (PT entry, or PS set in a PDPT or PD entry)
};

struct PageWalk {
    std::vector<PageWalkStep> steps;
    std::optional<uint64_t> gpa;   // set when the walk reached a page
    uint64_t page_size = 0;        // 4 KiB, 2 MiB or 1 GiB (0 without paging or on failure)
    bool paging = true;            // false: CR0.PG clear, GVA = GPA
    std::string stopped;           // without a GPA: where the walk stopped and why
    // Effective rights over every level (AND of R/W and U/S, OR of XD).
    bool writable = true;
    bool user = true;
    bool executable = true;
};

// Walks `gva` through the tables at CR3 in `memory`. Never fails: a table outside RAM, an entry
// not present, reserved bits set, a non-canonical GVA, or a paging mode other than 4-level
// IA-32e (32-bit, PAE, 5-level) ends the walk with `stopped` saying which, at which level.
PageWalk walk_page_tables(const GuestMemory& memory, const PagingRegs& regs, uint64_t gva);

// "PML4", "PDPT", "PD", "PT" for levels 4 to 1.
std::string_view page_level_name(int level);
// The entry's flags in words: "P W U A D PS G XD" (only those set; "not present" alone when P
// is clear).
std::string page_entry_flags(uint64_t entry, int level);
// The address an entry points to (next table or page frame), bits 51:12 of it.
uint64_t page_entry_address(uint64_t entry);

} // namespace minivmm
