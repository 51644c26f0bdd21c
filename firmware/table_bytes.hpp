// Building firmware tables as bytes (ACPI tables, the MP table): packed structures appended in
// order, and the checksum byte both specifications use (all bytes of a table sum to zero).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <span>
#include <type_traits>
#include <vector>

namespace minivmm::firmware {

// Appends the raw bytes of a packed structure.
template <typename T>
void append(std::vector<uint8_t>& out, const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    const size_t old_size = out.size();
    out.resize(old_size + sizeof(T));
    std::memcpy(out.data() + old_size, &value, sizeof(T));
}

// The byte that makes `bytes` sum to 0 when stored in a field that is currently 0.
inline uint8_t checksum(std::span<const uint8_t> bytes) {
    return static_cast<uint8_t>(0x100 - std::accumulate(bytes.begin(), bytes.end(), 0u) % 0x100);
}

} // namespace minivmm::firmware
