#include "memory/guest_memory.hpp"

#include <algorithm>

#include "memory/layout.hpp"

namespace minivmm {

namespace {
constexpr uint64_t PAGE_SIZE = 4096;
}

Result<GuestMemory> GuestMemory::create(
    const std::vector<std::pair<GuestAddress, uint64_t>>& ranges, int backing_fd) {
    GuestMemory mem;
    mem.file_backed_ = backing_fd >= 0;
    uint64_t file_offset = 0;
    for (const auto& [base, size] : ranges) {
        if (size == 0 || base.value() % PAGE_SIZE != 0 || size % PAGE_SIZE != 0)
            return Error(ErrorCode::Invalid,
                         fmt::format("Bad guest RAM region {:#x}+{:#x}", base.value(), size));
        if (base.value() > UINT64_MAX - size)
            return Error(ErrorCode::Invalid,
                         fmt::format("Guest RAM region {:#x}+{:#x} wraps", base.value(), size));
        for (const auto& r : mem.regions_) {
            bool disjoint = base.value() + size <= r.base.value() ||
                            r.base.value() + r.size <= base.value();
            if (!disjoint)
                return Error(ErrorCode::Invalid,
                             fmt::format("Guest RAM region {:#x} overlaps {:#x}", base.value(),
                                         r.base.value()));
        }
        auto m = backing_fd < 0 ? Mapping::anonymous(size)
                                : Mapping::private_file(backing_fd, size, file_offset);
        file_offset += size;
        if (!m) return m.error().with_context("Failed to allocate guest RAM");
        mem.regions_.push_back({base, size, m->data()});
        mem.mappings_.push_back(std::move(*m));
    }
    std::sort(mem.regions_.begin(), mem.regions_.end(),
              [](const MemoryRegion& a, const MemoryRegion& b) { return a.base < b.base; });
    return mem;
}

Result<GuestMemory> GuestMemory::create_x86(uint64_t ram_size, int backing_fd) {
    if (ram_size < layout::MIN_RAM_SIZE || ram_size > layout::MAX_RAM_SIZE)
        return Error(ErrorCode::Invalid,
                     fmt::format("Guest RAM size {} MiB is outside {} MiB..{} GiB", ram_size >> 20,
                                 layout::MIN_RAM_SIZE >> 20, layout::MAX_RAM_SIZE >> 30));
    std::vector<std::pair<GuestAddress, uint64_t>> ranges;
    uint64_t low = std::min(ram_size, layout::MMIO_HOLE_START);
    ranges.emplace_back(GuestAddress(layout::RAM_START), low);
    if (ram_size > low) ranges.emplace_back(GuestAddress(layout::MMIO_HOLE_END), ram_size - low);
    return create(ranges, backing_fd);
}

uint64_t GuestMemory::total_size() const {
    uint64_t total = 0;
    for (const auto& r : regions_) total += r.size;
    return total;
}

const MemoryRegion* GuestMemory::find(GuestAddress addr, uint64_t len) const {
    for (const auto& r : regions_) {
        if (addr < r.base) continue;
        // Overflow-proof: off <= size && len <= size - off.
        uint64_t off = addr.value() - r.base.value();
        if (off <= r.size && len <= r.size - off) return &r;
    }
    return nullptr;
}

bool GuestMemory::check_range(GuestAddress addr, uint64_t len) const {
    return find(addr, len) != nullptr;
}

Result<std::span<uint8_t>> GuestMemory::slice(GuestAddress addr, uint64_t len) const {
    const MemoryRegion* r = find(addr, len);
    if (r == nullptr)
        return Error(ErrorCode::Invalid,
                     fmt::format("Guest range {:#x}+{:#x} is outside RAM", addr.value(), len));
    return std::span<uint8_t>(r->host + (addr.value() - r->base.value()), len);
}

Result<void> GuestMemory::read(GuestAddress addr, std::span<uint8_t> out) const {
    auto s = slice(addr, out.size());
    if (!s) return s.error();
    if (!out.empty()) std::memcpy(out.data(), s->data(), out.size());
    return {};
}

Result<void> GuestMemory::write(GuestAddress addr, std::span<const uint8_t> in) const {
    auto s = slice(addr, in.size());
    if (!s) return s.error();
    if (!in.empty()) std::memcpy(s->data(), in.data(), in.size());
    return {};
}

} // namespace minivmm
