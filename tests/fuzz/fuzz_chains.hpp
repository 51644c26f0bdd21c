// Shared by the device fuzz targets that lay out descriptor chains by hand (blk_fuzz,
// rng_fuzz): guest memory made once per process and refilled per input, and a chain written
// straight into the descriptor table with the bytes the device may write recorded.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "base/log.hpp"
#include "guest_driver.hpp"

namespace minivmm::test {

// One descriptor of a chain a target builds.
struct FuzzDesc {
    uint64_t addr;
    uint32_t len;
    bool writable;
};

// Guest memory of `size` bytes from 0 (the same for every input of the process: a target uses
// one size), every byte set to `fill`; logging off.
inline std::pair<const GuestMemory&, std::span<uint8_t>> fuzz_memory(uint64_t size, uint8_t fill) {
    static bool quiet = (set_log_level(LogLevel::Off), true);
    (void)quiet;
    static auto mem = GuestMemory::create({{GuestAddress(0), size}});
    auto all = *mem->slice(GuestAddress(0), size);
    std::fill(all.begin(), all.end(), fill);
    return {*mem, all};
}

// Writes `descs` as one chain from descriptor `next_desc` on (advanced past it), linked with
// NEXT, and marks the device-writable bytes in `writable` (one entry per byte from
// `data_base`). Returns the head; the caller pushes it.
inline uint16_t write_fuzz_chain(GuestDriver& ring, uint16_t& next_desc,
                                 const std::vector<FuzzDesc>& descs,
                                 std::vector<uint8_t>& writable, uint64_t data_base) {
    const uint16_t head = next_desc;
    for (size_t i = 0; i < descs.size(); ++i) {
        bool last = i + 1 == descs.size();
        uint16_t flags = static_cast<uint16_t>((descs[i].writable ? VRING_DESC_F_WRITE : 0) |
                                               (last ? 0 : VRING_DESC_F_NEXT));
        ring.write_desc(next_desc, {descs[i].addr, descs[i].len, flags,
                                    static_cast<uint16_t>(next_desc + 1)});
        if (descs[i].writable)
            std::fill_n(writable.begin() + static_cast<long>(descs[i].addr - data_base),
                        descs[i].len, uint8_t{1});
        ++next_desc;
    }
    return head;
}

} // namespace minivmm::test
