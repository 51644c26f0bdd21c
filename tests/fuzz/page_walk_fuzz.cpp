// Fuzz target: the guest page-table walker (vmm/memory/page_walk.hpp) over guest RAM filled
// with the input. Input: a 33-byte header (CR3, GVA, CR4, EFER as little-endian u64, a mode
// byte), then the bytes of RAM from GPA 0 (64 KiB, and 64 KiB more at 1 MiB).
// Oracle: no crash or sanitizer report, at most 4 steps, a GPA only after a leaf, with the
// GVA's page offset.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "memory/page_walk.hpp"

namespace {
uint64_t u64(const uint8_t* p) {
    uint64_t v = 0;
    for (size_t k = 0; k < 8; ++k) v |= uint64_t{p[k]} << (8 * k);
    return v;
}
constexpr size_t HEADER = 33;
constexpr uint64_t REGION = 64 * 1024;
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace minivmm;
    if (size < HEADER) return 0;
    static GuestMemory* mem = [] {
        auto m = GuestMemory::create({{GuestAddress(0), REGION}, {GuestAddress(1 << 20), REGION}});
        if (!m) std::abort();
        return new GuestMemory(std::move(*m));
    }();
    const uint8_t mode = data[32];
    PagingRegs regs;
    regs.cr0 = (mode & 1) ? 1 : (1ULL << 31) | 1;     // bit 0 of mode: paging off
    regs.cr3 = (mode & 2) ? u64(data) : u64(data) & 0xf000;   // mostly inside the first region
    regs.cr4 = (mode & 4) ? u64(data + 16) : (1ULL << 5);
    regs.efer = (mode & 8) ? u64(data + 24) : (1ULL << 10) | (1ULL << 11);
    regs.phys_bits = 36 + (mode >> 4);   // 36..51, and 52 below
    if ((mode >> 4) == 15) regs.phys_bits = 52;
    const uint64_t gva = u64(data + 8);

    for (const MemoryRegion& r : mem->regions()) std::memset(r.host, 0, r.size);
    size_t rest = size - HEADER;
    const uint8_t* p = data + HEADER;
    for (const MemoryRegion& r : mem->regions()) {
        size_t n = rest < r.size ? rest : static_cast<size_t>(r.size);
        std::memcpy(r.host, p, n);
        p += n;
        rest -= n;
    }

    PageWalk w = walk_page_tables(*mem, regs, gva);
    if (w.steps.size() > 4) std::abort();
    for (const PageWalkStep& s : w.steps) {
        if (s.index > 511 || page_entry_flags(s.entry, s.level).empty()) std::abort();
        if (page_level_name(s.level) == "?") std::abort();
    }
    if (w.gpa && w.paging) {
        if (w.steps.empty() || !w.steps.back().leaf) std::abort();
        if (w.page_size != (1ULL << 12) && w.page_size != (1ULL << 21) && w.page_size != (1ULL << 30))
            std::abort();
        if ((*w.gpa ^ gva) & (w.page_size - 1)) std::abort();
    }
    if (!w.gpa && w.stopped.empty()) std::abort();
    return 0;
}
