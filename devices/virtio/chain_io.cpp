// ChainReader / ChainWriter over the buffers of a validated DescriptorChain (Virtio 1.2 §2.7.4:
// device-readable buffers first, then device-writable ones).
#include "virtio/chain_io.hpp"

#include <algorithm>

#include "base/log.hpp"

namespace minivmm::virtio {

BufferCursor::BufferCursor(const DescriptorChain& chain, Direction direction)
    : buffers_(chain.buffers()), direction_(direction) {
    remaining_ = direction == Direction::Readable ? chain.readable_len() : chain.writable_len();
    while (index_ < buffers_.size() && buffers_[index_].direction != direction_) ++index_;
}

template <typename Fn>
Result<void> BufferCursor::consume(uint64_t count, Fn&& fn) {
    while (count > 0) {
        // Cannot run past the end: count <= remaining_, which is the sum of these buffers.
        MINIVMM_ASSERT(index_ < buffers_.size());
        const Buffer& b = buffers_[index_];
        const uint32_t piece = static_cast<uint32_t>(std::min<uint64_t>(b.len - offset_, count));
        MINIVMM_TRY(fn(b.addr + offset_, piece));
        offset_ += piece;
        count -= piece;
        remaining_ -= piece;
        if (offset_ == b.len) {
            offset_ = 0;
            do ++index_;
            while (index_ < buffers_.size() && buffers_[index_].direction != direction_);
        }
    }
    return {};
}

Result<void> ChainReader::read(std::span<uint8_t> out) {
    if (out.size() > remaining())
        return Error(ErrorCode::Invalid,
                     fmt::format("Request needs {} bytes, {} readable", out.size(), remaining()));
    size_t done = 0;
    return cursor_.consume(out.size(), [&](GuestAddress addr, uint32_t len) -> Result<void> {
        MINIVMM_TRY(mem_.read(addr, out.subspan(done, len)));
        done += len;
        return {};
    });
}

Result<void> ChainReader::skip(uint64_t count) {
    if (count > remaining())
        return Error(ErrorCode::Invalid,
                     fmt::format("Cannot skip {} bytes, {} readable", count, remaining()));
    return cursor_.consume(count, [](GuestAddress, uint32_t) -> Result<void> { return {}; });
}

Result<void> ChainReader::read_spans(
    uint64_t count, const std::function<Result<void>(std::span<const uint8_t>)>& fn) {
    if (count > remaining())
        return Error(ErrorCode::Invalid,
                     fmt::format("Request needs {} bytes, {} readable", count, remaining()));
    return cursor_.consume(count, [&](GuestAddress addr, uint32_t len) -> Result<void> {
        auto host = mem_.slice(addr, len);   // validated by the chain walk; checked again
        if (!host) return host.error();
        return fn(*host);
    });
}

Result<void> ChainWriter::write_spans(
    uint64_t count, const std::function<Result<void>(std::span<uint8_t>)>& fn) {
    if (count > remaining())
        return Error(ErrorCode::Invalid,
                     fmt::format("Reply of {} bytes, {} writable", count, remaining()));
    return cursor_.consume(count, [&](GuestAddress addr, uint32_t len) -> Result<void> {
        auto host = mem_.slice(addr, len);
        if (!host) return host.error();
        MINIVMM_TRY(fn(*host));
        bytes_written_ += len;
        return {};
    });
}

Result<void> ChainWriter::skip(uint64_t count) {
    if (count > remaining())
        return Error(ErrorCode::Invalid,
                     fmt::format("Cannot skip {} bytes, {} writable", count, remaining()));
    return cursor_.consume(count, [](GuestAddress, uint32_t) -> Result<void> { return {}; });
}

Result<void> ChainWriter::write(std::span<const uint8_t> in) {
    if (in.size() > remaining())
        return Error(ErrorCode::Invalid,
                     fmt::format("Reply of {} bytes, {} writable", in.size(), remaining()));
    size_t done = 0;
    return cursor_.consume(in.size(), [&](GuestAddress addr, uint32_t len) -> Result<void> {
        MINIVMM_TRY(mem_.write(addr, in.subspan(done, len)));
        done += len;
        // Bounded by writable_len(), which the chain keeps <= UINT32_MAX.
        bytes_written_ += len;
        return {};
    });
}

} // namespace minivmm::virtio
