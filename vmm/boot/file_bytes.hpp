// Bounds-checked reads of an untrusted file image held in memory, shared by the loaders and
// the symbol-table reader: check with in_file, then read_at.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

namespace minivmm {

// [off, off + len) lies inside `file`; cannot overflow.
inline bool in_file(std::span<const uint8_t> file, uint64_t off, uint64_t len) {
    return off <= file.size() && len <= file.size() - off;
}

// A T copied from `bytes` at `off`; the caller checked in_file(bytes, off, sizeof(T)).
template <typename T>
T read_at(std::span<const uint8_t> bytes, uint64_t off) {
    T value;
    std::memcpy(&value, bytes.data() + off, sizeof(T));
    return value;
}

} // namespace minivmm
