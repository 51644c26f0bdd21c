// Test helper: reads ACPI tables back out of guest memory the way an OS would.
#pragma once

#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "acpi/sdt.hpp"
#include "memory/guest_memory.hpp"

namespace minivmm::acpi::test {

// The whole table at `addr`, sized by its header's length field (empty on failure).
inline std::vector<uint8_t> read_table(const GuestMemory& mem, GuestAddress addr) {
    auto header = mem.read_obj<SdtHeader>(addr);
    if (!header || header->length < sizeof(SdtHeader)) return {};
    std::vector<uint8_t> bytes(header->length);
    if (!mem.read(addr, bytes)) return {};
    return bytes;
}

inline uint8_t byte_sum(const std::vector<uint8_t>& bytes, size_t count) {
    return static_cast<uint8_t>(
        std::accumulate(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(count), 0u));
}

inline std::string signature(const std::vector<uint8_t>& table) {
    return table.size() >= 4 ? std::string(table.begin(), table.begin() + 4) : std::string();
}

template <typename T>
T field(const std::vector<uint8_t>& table, size_t offset) {
    T v{};
    EXPECT_LE(offset + sizeof(T), table.size());
    if (offset + sizeof(T) <= table.size()) std::memcpy(&v, table.data() + offset, sizeof(T));
    return v;
}

// Number of occurrences of `needle` in `hay`.
inline size_t count_bytes(const std::vector<uint8_t>& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t i = 0; i + needle.size() <= hay.size(); ++i)
        if (std::memcmp(hay.data() + i, needle.data(), needle.size()) == 0) ++n;
    return n;
}

} // namespace minivmm::acpi::test
