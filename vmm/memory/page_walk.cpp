#include "memory/page_walk.hpp"

#include <fmt/format.h>

namespace minivmm {

namespace {
constexpr uint64_t CR0_PG = 1ULL << 31;
constexpr uint64_t CR4_PAE = 1ULL << 5;
constexpr uint64_t CR4_LA57 = 1ULL << 12;
constexpr uint64_t EFER_LMA = 1ULL << 10;
constexpr uint64_t EFER_NXE = 1ULL << 11;

constexpr uint64_t P = 1ULL << 0;
constexpr uint64_t RW = 1ULL << 1;
constexpr uint64_t US = 1ULL << 2;
constexpr uint64_t PWT = 1ULL << 3;
constexpr uint64_t PCD = 1ULL << 4;
constexpr uint64_t A = 1ULL << 5;
constexpr uint64_t D = 1ULL << 6;
constexpr uint64_t PS = 1ULL << 7;
constexpr uint64_t G = 1ULL << 8;
constexpr uint64_t XD = 1ULL << 63;
constexpr uint64_t ADDRESS_MASK = 0x000f'ffff'ffff'f000ULL;   // bits 51:12

uint64_t bits(unsigned hi, unsigned lo) {   // mask of bits hi..lo, hi >= lo
    return ((hi == 63 ? ~0ULL : (1ULL << (hi + 1)) - 1) >> lo) << lo;
}

// The reserved bits of an entry at `level` (SDM Table 4-14 to 4-20), given MAXPHYADDR.
uint64_t reserved_bits(uint64_t entry, int level, const PagingRegs& regs) {
    uint64_t rsvd = regs.phys_bits < 52 ? bits(51, regs.phys_bits) : 0;
    if ((regs.efer & EFER_NXE) == 0) rsvd |= XD;
    if (level == 4) rsvd |= PS;                               // no 512 GiB pages
    if (level == 3 && (entry & PS)) rsvd |= bits(29, 13);     // 1 GiB page: bit 12 is PAT
    if (level == 2 && (entry & PS)) rsvd |= bits(20, 13);     // 2 MiB page: bit 12 is PAT
    return entry & rsvd;
}

bool canonical(uint64_t gva) {
    uint64_t top = gva >> 47;   // bits 63:47 all equal
    return top == 0 || top == 0x1'ffff;
}
} // namespace

std::string_view page_level_name(int level) {
    switch (level) {
    case 4: return "PML4";
    case 3: return "PDPT";
    case 2: return "PD";
    case 1: return "PT";
    }
    return "?";
}

uint64_t page_entry_address(uint64_t entry) { return entry & ADDRESS_MASK; }

std::string page_entry_flags(uint64_t entry, int level) {
    if ((entry & P) == 0) return "not present";
    std::string s = "P";
    auto add = [&s, entry](uint64_t bit, const char* name) {
        if (entry & bit) {
            s += ' ';
            s += name;
        }
    };
    add(RW, "W");
    add(US, "U");
    add(PWT, "PWT");
    add(PCD, "PCD");
    add(A, "A");
    bool leaf = level == 1 || (level != 4 && (entry & PS));
    if (leaf) add(D, "D");
    if (level != 1) add(PS, "PS");
    if (leaf) add(G, "G");
    add(XD, "XD");
    return s;
}

PageWalk walk_page_tables(const GuestMemory& memory, const PagingRegs& regs, uint64_t gva) {
    PageWalk walk;
    if ((regs.cr0 & CR0_PG) == 0) {
        walk.paging = false;
        walk.gpa = gva;
        return walk;
    }
    if ((regs.efer & EFER_LMA) == 0 || (regs.cr4 & CR4_PAE) == 0) {
        walk.stopped = "the guest uses 32-bit or PAE paging, not 4-level paging: not decoded";
        return walk;
    }
    if (regs.cr4 & CR4_LA57) {
        walk.stopped = "the guest uses 5-level paging (CR4.LA57): not decoded";
        return walk;
    }
    if (!canonical(gva)) {
        walk.stopped = fmt::format("GVA {:#x} is not canonical (bits 63:47 differ): a #GP", gva);
        return walk;
    }
    uint64_t table = regs.cr3 & ADDRESS_MASK;
    for (int level = 4; level >= 1; --level) {
        const unsigned shift = 12 + 9 * static_cast<unsigned>(level - 1);
        PageWalkStep step;
        step.level = level;
        step.table = table;
        step.index = static_cast<uint32_t>((gva >> shift) & 0x1ff);
        // Guest-controlled: CR3 and every entry's address may point anywhere.
        const uint64_t entry_gpa = table + uint64_t{step.index} * 8;
        auto entry = memory.read_obj<uint64_t>(GuestAddress(entry_gpa));
        if (!entry) {
            walk.stopped = fmt::format("{} entry at GPA {:#x} is outside guest RAM",
                                       page_level_name(level), entry_gpa);
            return walk;
        }
        step.entry = *entry;
        step.leaf = level == 1 || (level != 4 && (*entry & PS));
        walk.steps.push_back(step);
        if ((*entry & P) == 0) {
            walk.stopped = fmt::format("{}[{}] is not present: a page fault", page_level_name(level),
                                       step.index);
            return walk;
        }
        if (uint64_t r = reserved_bits(*entry, level, regs)) {
            walk.stopped = fmt::format("{}[{}] has reserved bits set ({:#x}): a page fault",
                                       page_level_name(level), step.index, r);
            return walk;
        }
        walk.writable = walk.writable && (*entry & RW);
        walk.user = walk.user && (*entry & US);
        walk.executable = walk.executable && !(*entry & XD);
        if (step.leaf) {
            const uint64_t size = 1ULL << shift;
            walk.page_size = size;
            walk.gpa = (page_entry_address(*entry) & ~(size - 1)) | (gva & (size - 1));
            return walk;
        }
        table = page_entry_address(*entry);
    }
    return walk;   // not reached: level 1 is always a leaf
}

} // namespace minivmm
