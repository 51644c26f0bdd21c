// EntropySource: where virtio-rng's bytes come from. The machine's is the host kernel's
// getrandom(2) (the urandom pool, never blocking once the host has booted); tests and fuzz
// targets give a deterministic one.
#pragma once

#include <cstdint>
#include <span>

#include "base/result.hpp"

namespace minivmm::rng {

class EntropySource {
public:
    virtual ~EntropySource() = default;
    // Fills all of `out`, or fails (ErrorCode::Host).
    virtual Result<void> fill(std::span<uint8_t> out) = 0;
};

class GetrandomSource final : public EntropySource {
public:
    // Retries EINTR and short reads (getrandom returns at most 32 MiB - 1 per call).
    Result<void> fill(std::span<uint8_t> out) override;
};

} // namespace minivmm::rng
