#include "machine/memory_map.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace minivmm {

namespace {
std::string slot_flags(const MemorySlot& s) {
    std::string f;
    if (s.read_only) f += "read-only ";
    if (s.dirty_log) f += "dirty-logging ";
    if (f.empty()) return "read-write";
    f.pop_back();
    return f;
}

// "RAM (slot 0)" when a slot backs the region's start, else "no RAM" (an exit if touched).
std::string backing(std::span<const MemorySlot> slots, const MemoryMapRegion& r) {
    auto slot = find_slot(slots, r.start);
    if (!slot) return "no RAM";
    return fmt::format("RAM (slot {})", slot->slot);
}

void sort(std::vector<MemoryMapRegion>& regions) {
    std::stable_sort(regions.begin(), regions.end(),
                     [](const MemoryMapRegion& a, const MemoryMapRegion& b) {
                         return a.start < b.start;
                     });
}
} // namespace

std::string format_size(uint64_t bytes) {
    constexpr const char* UNITS[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) return fmt::format("{} bytes", bytes);
    double v = static_cast<double>(bytes);
    size_t u = 0;
    for (v /= 1024; v >= 1024 && u + 1 < std::size(UNITS); v /= 1024) ++u;
    if (v == static_cast<double>(static_cast<uint64_t>(v)))
        return fmt::format("{} {}", static_cast<uint64_t>(v), UNITS[u]);
    return fmt::format("{:.1f} {}", v, UNITS[u]);
}

std::string format_memory_map(std::span<const MemorySlot> slots,
                              std::vector<MemoryMapRegion> regions) {
    sort(regions);
    std::string out = fmt::format("minivmm: guest memory ({} memory slot{})\n", slots.size(),
                                  slots.size() == 1 ? "" : "s");
    out += fmt::format("  {:<5} {:<33} {:>9} {:<18} {}\n", "slot", "GPA range", "size",
                       "HVA", "flags");
    for (const MemorySlot& s : slots)
        out += fmt::format("  {:<5} {:#014x}-{:#014x} {:>9} {:#018x} {}\n", s.slot, s.gpa,
                           s.gpa + s.size - 1, format_size(s.size), s.hva, slot_flags(s));
    out += fmt::format("  {:<33} {:>9} {:<13} {}\n", "layout", "size", "backed by", "what");
    for (const MemoryMapRegion& r : regions)
        out += fmt::format("  {:#014x}-{:#014x} {:>9} {:<13} {}\n", r.start, r.end - 1,
                           format_size(r.end - r.start), backing(slots, r), r.what);
    return out;
}

std::vector<std::string> memory_map_lines(std::span<const MemorySlot> slots,
                                          std::vector<MemoryMapRegion> regions) {
    sort(regions);
    std::vector<std::string> lines;
    for (const MemorySlot& s : slots)
        lines.push_back(fmt::format("memory slot {}: GPA {:#x}-{:#x} ({}) at HVA {:#x}, {}", s.slot,
                                    s.gpa, s.gpa + s.size - 1, format_size(s.size), s.hva,
                                    slot_flags(s)));
    for (const MemoryMapRegion& r : regions)
        lines.push_back(fmt::format("memory map: GPA {:#x}-{:#x} ({}, {}): {}", r.start, r.end - 1,
                                    format_size(r.end - r.start), backing(slots, r), r.what));
    return lines;
}

} // namespace minivmm
