// Helpers shared by the virtio-net tests: feature sets, frames with a vnet header.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "net/vnet_header.hpp"
#include "virtio/virtio_ring.hpp"

namespace minivmm::test {

using net::bit;
inline constexpr uint64_t V1 = uint64_t{1} << VIRTIO_F_VERSION_1;
inline constexpr uint64_t MRG = uint64_t{1} << VIRTIO_NET_F_MRG_RXBUF;
inline constexpr uint64_t CSUM = uint64_t{1} << VIRTIO_NET_F_CSUM;
inline constexpr uint64_t GUEST_CSUM = uint64_t{1} << VIRTIO_NET_F_GUEST_CSUM;
inline constexpr uint64_t HOST_TSO4 = uint64_t{1} << VIRTIO_NET_F_HOST_TSO4;
inline constexpr uint64_t HOST_TSO6 = uint64_t{1} << VIRTIO_NET_F_HOST_TSO6;
inline constexpr uint64_t GUEST_TSO4 = uint64_t{1} << VIRTIO_NET_F_GUEST_TSO4;
inline constexpr uint64_t GUEST_TSO6 = uint64_t{1} << VIRTIO_NET_F_GUEST_TSO6;

// A frame of `len` bytes with a recognisable pattern (byte i = seed + i).
inline std::vector<uint8_t> pattern(size_t len, uint8_t seed = 1) {
    std::vector<uint8_t> v(len);
    for (size_t i = 0; i < len; ++i) v[i] = static_cast<uint8_t>(seed + i);
    return v;
}

// `hdr` (its first hdr_size bytes) followed by `frame`.
inline std::vector<uint8_t> with_header(const virtio_net_hdr_v1& hdr, size_t hdr_size,
                                        const std::vector<uint8_t>& frame) {
    std::vector<uint8_t> out(hdr_size);
    std::memcpy(out.data(), &hdr, hdr_size);
    out.insert(out.end(), frame.begin(), frame.end());
    return out;
}
inline std::vector<uint8_t> with_header(size_t hdr_size, const std::vector<uint8_t>& frame) {
    return with_header(virtio_net_hdr_v1{}, hdr_size, frame);
}

} // namespace minivmm::test
