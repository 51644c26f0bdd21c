// Helpers shared by the state file's section writers and readers (snapshot_codec.cpp,
// vcpu_record.cpp): KVM structures as blobs of exactly their size, flags, strings.
#pragma once

#include <cstring>
#include <string>
#include <type_traits>

#include "base/state_reader.hpp"
#include "base/state_writer.hpp"
#include "snapshot/snapshot_state.hpp"

namespace minivmm {

template <class T> void put_struct(StateWriter& w, const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    w.blob({reinterpret_cast<const uint8_t*>(&value), sizeof value});
}

// False (and `out` untouched) unless the next blob is exactly sizeof(T) bytes.
template <class T> bool get_struct(StateReader& r, T& out) {
    static_assert(std::is_trivially_copyable_v<T>);
    auto bytes = r.blob(sizeof(T));
    if (bytes.size() != sizeof(T)) return false;
    std::memcpy(&out, bytes.data(), sizeof(T));
    return true;
}

// A flag byte: 0 or 1; anything else fails the read.
inline bool get_flag(StateReader& r, bool& out) {
    const uint8_t v = r.u8();
    out = v == 1;
    return !r.failed() && v <= 1;
}

inline void put_string(StateWriter& w, const std::string& s) {
    w.blob({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

// A string of at most SNAPSHOT_MAX_STRING bytes without NULs (it may become a path).
bool get_string(StateReader& r, std::string& out);

void write_vcpu(StateWriter& w, const VcpuRecord& vcpu);
// The fields of a VCPU section; the error names the vCPU and the field.
Result<VcpuRecord> read_vcpu(StateReader& r, uint32_t expected_index);

} // namespace minivmm
