// BlockBackend: where a virtio-blk disk keeps its bytes (a backend behind a small interface,
// so tests can swap it). FileBackend is the real one; MemoryBackend serves tests, fuzzing and
// benchmarks.
#pragma once

#include <cstdint>
#include <span>

#include "base/result.hpp"

namespace minivmm::block {

constexpr uint64_t SECTOR_SIZE = 512;

// The device range-checks every request against size() before calling (no call ever reaches
// past the end). Errors carry the errno when there is one; the device answers them with IOERR.
// Called on one thread at a time (the VirtioCore's lock).
class BlockBackend {
public:
    virtual ~BlockBackend() = default;
    virtual uint64_t size() const = 0;   // bytes, a multiple of SECTOR_SIZE
    virtual bool read_only() const = 0;
    // All of `out`, or an error.
    virtual Result<void> read_at(uint64_t offset, std::span<uint8_t> out) = 0;
    // All of `in`, or an error (some of it may have been written).
    virtual Result<void> write_at(uint64_t offset, std::span<const uint8_t> in) = 0;
    // Every completed write is durable once this returns success (fdatasync).
    virtual Result<void> flush() = 0;
    // The range need not be kept; reads may return old data or zeroes.
    virtual Result<void> discard(uint64_t offset, uint64_t len) = 0;
    // The range reads as zeroes afterwards; `may_unmap` allows punching a hole.
    virtual Result<void> write_zeroes(uint64_t offset, uint64_t len, bool may_unmap) = 0;
};

} // namespace minivmm::block
