// Mapping: an mmap'ed region released by munmap in the destructor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "base/result.hpp"

namespace minivmm {

class Mapping {
public:
    Mapping() = default;
    ~Mapping();
    Mapping(Mapping&& other) noexcept
        : addr_(std::exchange(other.addr_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    Mapping& operator=(Mapping&& other) noexcept;
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;

    // Private anonymous read/write memory, not executable, excluded from core dumps.
    static Result<Mapping> anonymous(size_t size);
    // A shared mapping of `fd` (e.g. the kvm_run page of a vCPU).
    static Result<Mapping> shared(int fd, size_t size);
    // Copy-on-write read/write memory backed by `size` bytes of `fd` from `offset`: pages are
    // read from the file when first touched, writes stay private (a snapshot's memory file).
    static Result<Mapping> private_file(int fd, size_t size, uint64_t offset);

    uint8_t* data() const { return static_cast<uint8_t*>(addr_); }
    size_t size() const { return size_; }

private:
    Mapping(void* addr, size_t size) : addr_(addr), size_(size) {}
    void* addr_ = nullptr;
    size_t size_ = 0;
};

} // namespace minivmm
