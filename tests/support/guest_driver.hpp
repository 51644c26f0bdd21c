// GuestDriver: a test helper that plays the guest's virtio driver for one split virtqueue
// (Virtio 1.2 §2.7, driver side): lays out the rings in a GuestMemory, builds descriptor
// chains, publishes avail->idx and reads used entries. Also offers raw writes for broken rings.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <vector>

#include "memory/guest_memory.hpp"
#include "virtio/descriptor_chain.hpp"
#include "virtio/queue.hpp"
#include "virtio/virtio_ring.hpp"

namespace minivmm::test {

struct DriverBuffer {
    GuestAddress addr;
    uint32_t len;
    virtio::Direction direction;
};

// Errors in the helper's own use (out of descriptors, out of data memory) throw
// std::logic_error, which GoogleTest reports as a failure of the calling test.
class GuestDriver {
public:
    // Rings start at `ring_base`: descriptor table, avail ring, used ring (4-aligned); data
    // buffers handed out by alloc() follow on the next page.
    GuestDriver(const GuestMemory& mem, uint16_t size,
                GuestAddress ring_base = GuestAddress(0x1000));

    uint16_t size() const { return size_; }
    GuestAddress desc_table() const { return desc_; }
    GuestAddress avail_ring() const { return avail_; }
    GuestAddress used_ring() const { return used_; }
    // Writes the size, ring addresses and features into `queue` (does not activate it).
    void configure(virtio::Queue& queue, uint64_t features = 0) const;

    // Takes descriptors from the free list, links them with NEXT and puts the head in the next
    // avail slot; the device sees it after publish(). Returns the head.
    uint16_t add_chain(std::span<const DriverBuffer> buffers);
    uint16_t add_chain(std::initializer_list<DriverBuffer> buffers) {
        return add_chain(std::span<const DriverBuffer>(buffers.begin(), buffers.size()));
    }
    // Store-release of avail->idx, making every chain added so far visible.
    void publish();
    uint16_t free_descriptors() const { return static_cast<uint16_t>(free_.size()); }

    // Raw access for malformed rings.
    void write_desc(uint16_t index, const vring_desc& desc);
    void push_head(uint16_t head);        // next avail slot, not published
    void set_avail_idx(uint16_t idx);     // published as is
    void set_avail_flags(uint16_t flags);
    void set_used_event(uint16_t value);
    uint16_t used_flags() const;
    uint16_t avail_event() const;

    // Load-acquire of used->idx.
    uint16_t used_idx() const;
    vring_used_elem used_elem(uint16_t position) const;   // ring[position % size]
    // The next used entry not yet consumed; returns its descriptors to the free list.
    std::optional<vring_used_elem> pop_used();

    // Data memory after the rings, 16-byte aligned, never reused.
    GuestAddress alloc(uint32_t len);
    void fill(GuestAddress addr, std::span<const uint8_t> bytes) const;
    std::vector<uint8_t> read(GuestAddress addr, uint32_t len) const;

private:
    uint8_t* host(GuestAddress addr, uint64_t len) const;

    const GuestMemory& mem_;
    uint16_t size_;
    GuestAddress desc_, avail_, used_;
    uint64_t next_data_;
    uint16_t avail_idx_ = 0;   // driver's shadow of avail->idx
    uint16_t last_used_ = 0;   // used entries consumed so far
    std::vector<uint16_t> free_;
    std::vector<std::vector<uint16_t>> chains_;   // per head: its descriptor indices
};

} // namespace minivmm::test
