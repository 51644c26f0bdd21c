// DescriptorChain: one descriptor chain of a split virtqueue (Virtio 1.2 §2.7.5, §2.7.5.3
// indirect descriptors), walked once out of guest memory and validated into a list of buffers.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "memory/guest_address.hpp"
#include "memory/guest_memory.hpp"

namespace minivmm::virtio {

enum class Direction : uint8_t { Readable, Writable };   // as seen by the device
enum class Indirect : uint8_t { Refused, Allowed };      // VIRTIO_F_INDIRECT_DESC negotiated?

// A validated guest buffer: [addr, addr+len) lies inside one RAM region and len > 0.
struct Buffer {
    GuestAddress addr;
    uint32_t len;
    Direction direction;
};

// Where the descriptor table of the queue lives; the table is already validated by Queue.
struct DescriptorTable {
    GuestAddress addr;
    uint16_t size;   // queue size, a power of two
};

class DescriptorChain {
public:
    static constexpr uint32_t MAX_INDIRECT = 256;   // entries in one indirect table

    // Walks the chain starting at `head`. Each descriptor is copied out of guest memory once
    // and only the copy is used. Refuses (returns an error; the device completes the head with
    // length 0 or an error status) when:
    //  - head or a `next` is >= the table size, or the walk exceeds the table size (loops);
    //  - a buffer is not inside one RAM region (addr+len overflow-checked);
    //  - the total length of the chain exceeds UINT32_MAX (summed in 64 bits);
    //  - a readable buffer follows a writable one;
    //  - an indirect descriptor appears without the feature, with NEXT, with len 0 or not a
    //    multiple of 16, with more than MAX_INDIRECT entries, outside RAM, or inside another
    //    indirect table.
    // Zero-length descriptors are accepted and skipped: they count towards the descriptor bound,
    // their flags and `next` are honoured, but their address is never used and they produce no
    // buffer and take no part in the readable-before-writable order.
    static Result<DescriptorChain> parse(const GuestMemory& mem, DescriptorTable table,
                                         uint16_t head, Indirect indirect);

    uint16_t head() const { return head_; }
    std::span<const Buffer> buffers() const {
        if (count_ <= INLINE_BUFFERS) return {inline_.data(), count_};
        return heap_;
    }
    uint32_t readable_len() const { return readable_len_; }
    uint32_t writable_len() const { return writable_len_; }

private:
    class Walker;
    DescriptorChain(uint16_t head) : head_(head) {}

    void push(const Buffer& b);

    // Readable buffers first, then writable ones. Almost every chain has at most
    // INLINE_BUFFERS (a frame, a block request's header, data and status): those stay inside
    // the object, which costs no allocation per request; longer ones all move to heap_.
    static constexpr size_t INLINE_BUFFERS = 4;
    uint16_t head_;
    std::array<Buffer, INLINE_BUFFERS> inline_{};
    std::vector<Buffer> heap_;
    size_t count_ = 0;
    uint32_t readable_len_ = 0;
    uint32_t writable_len_ = 0;
};

} // namespace minivmm::virtio
