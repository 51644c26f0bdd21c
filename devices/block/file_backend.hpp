// FileBackend: a raw disk image file (pread/pwrite, fdatasync, holes punched with fallocate).
#pragma once

#include <memory>
#include <string>

#include "base/unique_fd.hpp"
#include "block/block_backend.hpp"
#include "block/file_io.hpp"

namespace minivmm::block {

enum class Access { ReadWrite, ReadOnly };

class FileBackend : public BlockBackend {
public:
    // Opens and locks the image (exclusive for ReadWrite, shared for ReadOnly: image_lock.hpp).
    // A regular file or a host block device. Errors (ErrorCode::Input, naming the file):
    // missing or unreadable, a directory or anything else, empty, size not a multiple of 512,
    // locked by another process.
    static Result<std::unique_ptr<FileBackend>> open(const std::string& path, Access access);

    uint64_t size() const override { return size_; }
    bool read_only() const override { return read_only_; }
    Result<void> read_at(uint64_t offset, std::span<uint8_t> out) override {
        return pread_full(fd_.get(), out, offset);
    }
    Result<void> write_at(uint64_t offset, std::span<const uint8_t> in) override {
        return pwrite_full(fd_.get(), in, offset);
    }
    Result<void> flush() override;
    Result<void> discard(uint64_t offset, uint64_t len) override;
    Result<void> write_zeroes(uint64_t offset, uint64_t len, bool may_unmap) override;

    int fd() const { return fd_.get(); }

private:
    FileBackend(UniqueFd fd, uint64_t size, bool read_only)
        : fd_(std::move(fd)), size_(size), read_only_(read_only) {}

    UniqueFd fd_;
    uint64_t size_;
    bool read_only_;
    bool punch_supported_ = true;   // cleared on the first EOPNOTSUPP
};

} // namespace minivmm::block
