// Shared by the virtio unit tests: anonymous guest memory with a given layout.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "memory/guest_memory.hpp"

namespace minivmm::test {

inline constexpr uint64_t MIB = 1ULL << 20;

// One region [0, size) unless other ranges are given; aborts the test on failure.
inline GuestMemory make_memory(std::vector<std::pair<GuestAddress, uint64_t>> ranges = {
                                   {GuestAddress(0), MIB}}) {
    auto mem = GuestMemory::create(ranges);
    if (!mem) throw std::runtime_error(mem.error().message());
    return std::move(*mem);
}

} // namespace minivmm::test
