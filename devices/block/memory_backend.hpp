// MemoryBackend: a BlockBackend on host memory (tests, fuzzing, device-only benchmarks).
#pragma once

#include <algorithm>
#include <cstring>
#include <vector>

#include "block/block_backend.hpp"

namespace minivmm::block {

class MemoryBackend : public BlockBackend {
public:
    explicit MemoryBackend(uint64_t size, bool read_only = false)
        : data_(size), read_only_(read_only) {}

    uint64_t size() const override { return data_.size(); }
    bool read_only() const override { return read_only_; }
    Result<void> read_at(uint64_t offset, std::span<uint8_t> out) override {
        MINIVMM_TRY(check(offset, out.size()));
        std::memcpy(out.data(), data_.data() + offset, out.size());
        return {};
    }
    Result<void> write_at(uint64_t offset, std::span<const uint8_t> in) override {
        MINIVMM_TRY(check(offset, in.size()));
        std::memcpy(data_.data() + offset, in.data(), in.size());
        return {};
    }
    Result<void> flush() override { return {}; }
    Result<void> discard(uint64_t offset, uint64_t len) override { return check(offset, len); }
    Result<void> write_zeroes(uint64_t offset, uint64_t len, bool) override {
        MINIVMM_TRY(check(offset, len));
        std::fill_n(data_.begin() + static_cast<std::ptrdiff_t>(offset), len, uint8_t{0});
        return {};
    }

    std::vector<uint8_t>& data() { return data_; }

private:
    // The device never asks for this; a failure here is a device bug the tests must see.
    Result<void> check(uint64_t offset, uint64_t len) const {
        if (offset > data_.size() || len > data_.size() - offset)
            return Error(ErrorCode::Invalid, fmt::format("Access [{}, +{}) past the disk", offset, len));
        return {};
    }

    std::vector<uint8_t> data_;
    bool read_only_;
};

} // namespace minivmm::block
