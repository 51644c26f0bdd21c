// Virtio 1.2 §2.7.5 descriptor chains and §2.7.5.3 indirect descriptors, device side.
#include "virtio/descriptor_chain.hpp"

#include "virtio/virtio_ring.hpp"

namespace minivmm::virtio {

namespace {

constexpr uint64_t DESC_SIZE = sizeof(vring_desc);

enum class Level : uint8_t { Direct, Indirect };

} // namespace

// Walks one table (the queue's, then at most one indirect table) and fills the chain.
class DescriptorChain::Walker {
public:
    Walker(const GuestMemory& mem, Indirect indirect, DescriptorChain& chain)
        : mem_(mem), indirect_(indirect), chain_(chain) {}

    Result<void> walk(GuestAddress table, uint32_t entries, uint32_t index, Level level) {
        // Bound: at most `entries` descriptors per table, so any cycle ends the walk.
        for (uint32_t n = 0; n < entries; ++n) {
            if (index >= entries) return fail(fmt::format("next index {} >= {}", index, entries));
            // Guest-controlled: copied once here; only the copy is used from now on.
            auto desc = mem_.read_obj<vring_desc>(table + DESC_SIZE * index);
            if (!desc) return fail("descriptor outside RAM");
            if (desc->flags & VRING_DESC_F_INDIRECT) return enter_indirect(*desc, level);
            MINIVMM_TRY(add(*desc));
            if (!(desc->flags & VRING_DESC_F_NEXT)) return {};
            index = desc->next;
        }
        return fail(fmt::format("longer than {} descriptors (loop?)", entries));
    }

private:
    Result<void> enter_indirect(const vring_desc& desc, Level level) {
        if (indirect_ != Indirect::Allowed) return fail("indirect descriptor not negotiated");
        if (level == Level::Indirect) return fail("nested indirect descriptor");
        // §2.7.5.3.1: INDIRECT and NEXT together are forbidden; the indirect one ends the chain.
        if (desc.flags & VRING_DESC_F_NEXT) return fail("indirect descriptor with NEXT");
        if (desc.len == 0 || desc.len % DESC_SIZE != 0)
            return fail(fmt::format("indirect table length {}", desc.len));
        const uint32_t entries = static_cast<uint32_t>(desc.len / DESC_SIZE);
        if (entries > MAX_INDIRECT)
            return fail(fmt::format("indirect table of {} entries", entries));
        if (!mem_.check_range(GuestAddress(desc.addr), desc.len))
            return fail("indirect table outside RAM");
        return walk(GuestAddress(desc.addr), entries, 0, Level::Indirect);
    }

    Result<void> add(const vring_desc& desc) {
        // Zero-length policy: skipped (see the header); the address is never used.
        if (desc.len == 0) return {};
        // Overflow-proof: check_range refuses addr+len wrapping or leaving the region.
        if (!mem_.check_range(GuestAddress(desc.addr), desc.len))
            return fail(fmt::format("buffer {:#x}+{:#x} outside RAM", desc.addr, desc.len));
        // Summed in 64 bits: at most 2^16+256 lengths below 2^32 cannot overflow it.
        total_ += desc.len;
        if (total_ > UINT32_MAX) return fail("total length exceeds 2^32-1");
        const bool writable = (desc.flags & VRING_DESC_F_WRITE) != 0;
        if (writable) {
            seen_writable_ = true;
            chain_.writable_len_ += desc.len;
        } else {
            if (seen_writable_) return fail("readable descriptor after a writable one");
            chain_.readable_len_ += desc.len;
        }
        const Direction direction = writable ? Direction::Writable : Direction::Readable;
        chain_.push({GuestAddress(desc.addr), desc.len, direction});
        return {};
    }

    Error fail(const std::string& what) const {
        return Error(ErrorCode::Invalid,
                     fmt::format("Descriptor chain {}: {}", chain_.head_, what));
    }

    const GuestMemory& mem_;
    Indirect indirect_;
    DescriptorChain& chain_;
    uint64_t total_ = 0;
    bool seen_writable_ = false;
};

void DescriptorChain::push(const Buffer& b) {
    if (count_ < INLINE_BUFFERS) {
        inline_[count_++] = b;
        return;
    }
    if (count_ == INLINE_BUFFERS) heap_.assign(inline_.begin(), inline_.end());
    heap_.push_back(b);
    ++count_;
}

Result<DescriptorChain> DescriptorChain::parse(const GuestMemory& mem, DescriptorTable table,
                                               uint16_t head, Indirect indirect) {
    DescriptorChain chain(head);
    Walker walker(mem, indirect, chain);
    MINIVMM_TRY(walker.walk(table.addr, table.size, head, Level::Direct));
    return chain;
}

} // namespace minivmm::virtio
