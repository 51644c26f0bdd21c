// virtio-rng in the device registry: --rng [rate=BYTES_PER_SEC], repeatable.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.hpp"
#include "device_type.hpp"

namespace minivmm::rng {

// "" or "rate=BYTES_PER_SEC" (RateLimiter::MIN_RATE..MAX_RATE; default RngTuning's).
// ErrorCode::Usage otherwise.
Result<uint64_t> parse_rng_option(const std::string& text);

extern const DeviceType DEVICE_TYPE;

} // namespace minivmm::rng
