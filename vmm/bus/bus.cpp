#include "bus/bus.hpp"

#include <algorithm>
#include <cstring>

namespace minivmm {

namespace {
bool valid_size(size_t size) { return size == 1 || size == 2 || size == 4 || size == 8; }
} // namespace

Result<void> Bus::insert(AddressRange range, std::shared_ptr<BusDevice> device, std::string name) {
    if (range.length == 0)
        return Error(ErrorCode::Invalid, fmt::format("{} bus: {} has an empty range", name_, name));
    if (range.base > UINT64_MAX - (range.length - 1))
        return Error(ErrorCode::Invalid, fmt::format("{} bus: range of {} wraps", name_, name));
    uint64_t last = range.base + (range.length - 1);
    for (const auto& e : entries_) {
        uint64_t e_last = e.range.base + (e.range.length - 1);
        if (range.base <= e_last && e.range.base <= last)
            return Error(ErrorCode::Invalid, fmt::format("{} bus: {} at {:#x} overlaps {}", name_,
                                                         name, range.base, e.name));
    }
    entries_.push_back({range, std::move(device), std::move(name)});
    std::sort(entries_.begin(), entries_.end(),
              [](const Entry& a, const Entry& b) { return a.range.base < b.range.base; });
    return {};
}

const Bus::Entry* Bus::find(uint64_t addr, uint64_t len) const {
    // Binary search for the last entry whose base <= addr.
    auto it = std::upper_bound(entries_.begin(), entries_.end(), addr,
                               [](uint64_t a, const Entry& e) { return a < e.range.base; });
    if (it == entries_.begin()) return nullptr;
    --it;
    return it->range.contains(addr, len) ? &*it : nullptr;
}

Bus::Dispatch Bus::read(uint64_t addr, std::span<uint8_t> data) const noexcept {
    const Entry* e = valid_size(data.size()) ? find(addr, data.size()) : nullptr;
    if (e == nullptr) {
        unhandled_.fetch_add(1, std::memory_order_relaxed);
        std::memset(data.data(), 0xff, data.size());
        return {false, nullptr};
    }
    e->device->read(addr - e->range.base, data);
    return {true, &e->name};
}

Bus::Dispatch Bus::write(uint64_t addr, std::span<const uint8_t> data) const noexcept {
    const Entry* e = valid_size(data.size()) ? find(addr, data.size()) : nullptr;
    if (e == nullptr) {
        unhandled_.fetch_add(1, std::memory_order_relaxed);
        return {false, nullptr};
    }
    e->device->write(addr - e->range.base, data);
    return {true, &e->name};
}

} // namespace minivmm
