// GuestMemory: the one door to guest RAM. Every access is range-checked against the regions;
// a range must lie inside a single region. The guest is hostile: all addresses and lengths that
// reach these functions may be guest-controlled, so the checks are overflow-proof.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include "base/mapping.hpp"
#include "base/result.hpp"
#include "memory/guest_address.hpp"

namespace minivmm {

struct MemoryRegion {
    GuestAddress base;
    uint64_t size;
    uint8_t* host;   // host address of `base`
};

class GuestMemory {
public:
    // Allocates anonymous memory for each (base, size) range. Ranges must be non-empty,
    // page-aligned, must not wrap and must not overlap.
    // With `backing_fd` (a snapshot's memory file), the ranges are mapped copy-on-write from it
    // instead, one after the other from offset 0 in address order (Mapping::private_file).
    static Result<GuestMemory> create(const std::vector<std::pair<GuestAddress, uint64_t>>& ranges,
                                      int backing_fd = -1);
    // The x86 layout for `ram_size` bytes: [0, min(size, hole)) and the rest from 4 GiB.
    static Result<GuestMemory> create_x86(uint64_t ram_size, int backing_fd = -1);

    const std::vector<MemoryRegion>& regions() const { return regions_; }
    uint64_t total_size() const;
    // Whether the RAM is mapped from a file (create's backing_fd) rather than anonymous.
    bool file_backed() const { return file_backed_; }

    // True if [addr, addr+len) lies inside one region (len 0 is valid at any address of a region
    // and at its end).
    bool check_range(GuestAddress addr, uint64_t len) const;
    // Host view of [addr, addr+len); an error if the range is not inside one region.
    Result<std::span<uint8_t>> slice(GuestAddress addr, uint64_t len) const;

    Result<void> read(GuestAddress addr, std::span<uint8_t> out) const;
    Result<void> write(GuestAddress addr, std::span<const uint8_t> in) const;

    // Copies a guest structure out; the caller validates and uses only the copy.
    template <typename T>
    Result<T> read_obj(GuestAddress addr) const {
        static_assert(std::is_trivially_copyable_v<T>);
        T value;
        auto r = read(addr, {reinterpret_cast<uint8_t*>(&value), sizeof(T)});
        if (!r) return r.error();
        return value;
    }
    template <typename T>
    Result<void> write_obj(GuestAddress addr, const T& value) const {
        static_assert(std::is_trivially_copyable_v<T>);
        return write(addr, {reinterpret_cast<const uint8_t*>(&value), sizeof(T)});
    }

private:
    const MemoryRegion* find(GuestAddress addr, uint64_t len) const;

    std::vector<MemoryRegion> regions_;
    std::vector<Mapping> mappings_;
    bool file_backed_ = false;
};

} // namespace minivmm
