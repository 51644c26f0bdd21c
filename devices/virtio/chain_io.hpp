// ChainReader / ChainWriter: the readable and the writable part of a validated descriptor chain
// as byte streams, so devices parse requests and write replies without indexing descriptors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <type_traits>

#include "base/result.hpp"
#include "memory/guest_memory.hpp"
#include "virtio/descriptor_chain.hpp"

namespace minivmm::virtio {

// Walks the buffers of one direction of a chain; shared by the reader and the writer.
class BufferCursor {
public:
    BufferCursor(const DescriptorChain& chain, Direction direction);

    uint64_t remaining() const { return remaining_; }
    // Calls fn(GuestAddress, uint32_t len) for consecutive pieces covering `count` bytes and
    // advances. The caller has checked count <= remaining(). Defined in chain_io.cpp, its only
    // user.
    template <typename Fn>
    Result<void> consume(uint64_t count, Fn&& fn);

private:
    std::span<const Buffer> buffers_;
    Direction direction_;
    size_t index_ = 0;       // current buffer
    uint32_t offset_ = 0;    // bytes already used of buffers_[index_]
    uint64_t remaining_ = 0;
};

class ChainReader {
public:
    // `mem` and `chain` must outlive the reader.
    ChainReader(const GuestMemory& mem, const DescriptorChain& chain)
        : mem_(mem), cursor_(chain, Direction::Readable) {}

    // Copies exactly out.size() bytes from the readable buffers, or refuses (consuming nothing)
    // when fewer remain.
    Result<void> read(std::span<uint8_t> out);
    // Skips `count` readable bytes, or refuses when fewer remain.
    Result<void> skip(uint64_t count);
    // Copies a structure out (the caller validates the copy).
    template <typename T>
    Result<T> read_obj() {
        static_assert(std::is_trivially_copyable_v<T>);
        T value;
        MINIVMM_TRY(read({reinterpret_cast<uint8_t*>(&value), sizeof(T)}));
        return value;
    }
    uint64_t remaining() const { return cursor_.remaining(); }
    // Zero-copy: calls `fn` with host views of the next `count` readable bytes, piece by piece
    // (one per guest buffer), and stops at the first error. Refuses when fewer bytes remain.
    // The guest may change the bytes while `fn` runs: use them as data, never as a decision.
    Result<void> read_spans(uint64_t count,
                            const std::function<Result<void>(std::span<const uint8_t>)>& fn);

private:
    const GuestMemory& mem_;
    BufferCursor cursor_;
};

class ChainWriter {
public:
    ChainWriter(const GuestMemory& mem, const DescriptorChain& chain)
        : mem_(mem), cursor_(chain, Direction::Writable) {}

    // Copies all of `in` into the writable buffers, or refuses (writing nothing) when it does
    // not fit.
    Result<void> write(std::span<const uint8_t> in);
    template <typename T>
    Result<void> write_obj(const T& value) {
        static_assert(std::is_trivially_copyable_v<T>);
        return write({reinterpret_cast<const uint8_t*>(&value), sizeof(T)});
    }
    uint64_t remaining() const { return cursor_.remaining(); }
    // Zero-copy: calls `fn` with host views of the next `count` writable bytes, piece by piece,
    // for it to fill; they count as written once `fn` succeeds. Refuses when fewer remain.
    Result<void> write_spans(uint64_t count,
                             const std::function<Result<void>(std::span<uint8_t>)>& fn);
    // Leaves `count` writable bytes as they are (not counted as written), or refuses when
    // fewer remain; e.g. to reach a status byte at the end after a failed request.
    Result<void> skip(uint64_t count);
    // What the device reports as the used length; never more than the writable bytes.
    uint32_t bytes_written() const { return bytes_written_; }

private:
    const GuestMemory& mem_;
    BufferCursor cursor_;
    uint32_t bytes_written_ = 0;
};

} // namespace minivmm::virtio
