// MemorySlot: one KVM memory slot as minivmm registered it (KVM_SET_USER_MEMORY_REGION): which
// guest-physical range is backed by which host-virtual range. Plain data, no KVM header.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace minivmm {

struct MemorySlot {
    uint32_t slot = 0;
    uint64_t gpa = 0;
    uint64_t size = 0;
    uint64_t hva = 0;          // host virtual address of `gpa` in minivmm's process
    bool read_only = false;    // KVM_MEM_READONLY: guest writes exit as MMIO
    bool dirty_log = false;    // KVM_MEM_LOG_DIRTY_PAGES
};

// The slot holding `gpa`, if any.
inline std::optional<MemorySlot> find_slot(std::span<const MemorySlot> slots, uint64_t gpa) {
    for (const MemorySlot& s : slots)
        if (gpa >= s.gpa && gpa - s.gpa < s.size) return s;
    return std::nullopt;
}

} // namespace minivmm
