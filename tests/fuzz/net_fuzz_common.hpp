// Shared by the virtio-net fuzz targets: feature sets and buffer sizes drawn mostly valid, with
// rare corruption (the "rarely" knob of Cloud Hypervisor's fuzzers).
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>

#include "net/vnet_header.hpp"

namespace minivmm::fuzz {

inline bool rarely(FuzzedDataProvider& in) { return in.ConsumeIntegralInRange<uint8_t>(0, 15) == 0; }

// What the driver acknowledges: offered bits mostly, sometimes anything at all.
inline uint64_t acked_features(FuzzedDataProvider& in) {
    uint64_t raw = in.ConsumeIntegral<uint64_t>();
    return rarely(in) ? raw : (raw & net::offered_features());
}

// A queue size: a power of two up to 256.
inline uint16_t queue_size(FuzzedDataProvider& in) {
    return static_cast<uint16_t>(1u << in.ConsumeIntegralInRange<unsigned>(0, 8));
}

// A buffer length: mostly modest, sometimes tiny or zero, rarely huge (over 64 KiB).
inline uint32_t buffer_len(FuzzedDataProvider& in, uint32_t typical_max) {
    switch (in.ConsumeIntegralInRange<uint8_t>(0, 15)) {
    case 0: return in.ConsumeIntegralInRange<uint32_t>(0, 12);
    case 1: return in.ConsumeIntegralInRange<uint32_t>(32768, 70 * 1024);
    default: return in.ConsumeIntegralInRange<uint32_t>(1, typical_max);
    }
}

// A vnet header: mostly plain, sometimes with offload fields set from the input.
inline virtio_net_hdr_v1 header(FuzzedDataProvider& in) {
    virtio_net_hdr_v1 h{};
    if (in.ConsumeBool()) {
        h.flags = in.ConsumeIntegral<uint8_t>();
        h.gso_type = in.ConsumeIntegral<uint8_t>();
        h.hdr_len = in.ConsumeIntegral<uint16_t>();
        h.gso_size = in.ConsumeIntegral<uint16_t>();
        h.csum_start = in.ConsumeIntegral<uint16_t>();
        h.csum_offset = in.ConsumeIntegral<uint16_t>();
        h.num_buffers = in.ConsumeIntegral<uint16_t>();
    }
    return h;
}

} // namespace minivmm::fuzz
