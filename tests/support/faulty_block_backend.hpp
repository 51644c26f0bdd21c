// FaultyBlockBackend: a memory BlockBackend for tests that counts calls, fails them on demand
// with a chosen errno, and simulates a crash: `durable` holds what the last successful flush
// made durable; writes after it are lost if the host "crashes".
#pragma once

#include <cerrno>
#include <vector>

#include "block/memory_backend.hpp"

namespace minivmm::test {

class FaultyBlockBackend : public block::BlockBackend {
public:
    explicit FaultyBlockBackend(uint64_t size, bool read_only = false)
        : durable(size), mem_(size, read_only) {}

    uint64_t size() const override { return mem_.size(); }
    bool read_only() const override { return mem_.read_only(); }
    Result<void> read_at(uint64_t offset, std::span<uint8_t> out) override {
        ++reads;
        if (read_errno) return Error(ErrorCode::Host, "injected pread failure", read_errno);
        return mem_.read_at(offset, out);
    }
    Result<void> write_at(uint64_t offset, std::span<const uint8_t> in) override {
        ++writes;
        if (write_errno) return Error(ErrorCode::Host, "injected pwrite failure", write_errno);
        return mem_.write_at(offset, in);
    }
    Result<void> flush() override {
        ++flushes;
        if (flush_failures > 0) {
            --flush_failures;
            return Error(ErrorCode::Host, "injected fdatasync failure", EIO);
        }
        durable = mem_.data();
        return {};
    }
    Result<void> discard(uint64_t offset, uint64_t len) override {
        ++discards;
        return mem_.discard(offset, len);
    }
    Result<void> write_zeroes(uint64_t offset, uint64_t len, bool may_unmap) override {
        ++zeroes;
        return mem_.write_zeroes(offset, len, may_unmap);
    }

    std::vector<uint8_t>& data() { return mem_.data(); }
    unsigned calls() const { return reads + writes + flushes + discards + zeroes; }

    int read_errno = 0;        // non-zero: every read fails with it
    int write_errno = 0;       // non-zero: every write fails with it
    unsigned flush_failures = 0;   // the next N flushes fail with EIO
    unsigned reads = 0, writes = 0, flushes = 0, discards = 0, zeroes = 0;
    std::vector<uint8_t> durable;

private:
    block::MemoryBackend mem_;
};

} // namespace minivmm::test
