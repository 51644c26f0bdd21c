// GuestDriver: the driver side of a split virtqueue for tests (Virtio 1.2 §2.7.13).
#include "guest_driver.hpp"

#include <algorithm>
#include <atomic>
#include <stdexcept>

namespace minivmm::test {

namespace {
uint16_t load16(uint8_t* p, std::memory_order order) {
    return std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p)).load(order);
}
void store16(uint8_t* p, uint16_t v, std::memory_order order) {
    std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p)).store(v, order);
}
uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
} // namespace

GuestDriver::GuestDriver(const GuestMemory& mem, uint16_t size, GuestAddress ring_base)
    : mem_(mem), size_(size) {
    desc_ = ring_base;
    avail_ = desc_ + 16ULL * size;
    used_ = GuestAddress(align_up(avail_.value() + 6 + 2ULL * size, 4));
    next_data_ = align_up(used_.value() + 6 + 8ULL * size, 4096);
    if (size == 0) throw std::logic_error("GuestDriver: size 0");
    // A fresh driver starts from zeroed rings (indices 0, no flags), as Linux allocates them.
    auto rings = mem_.slice(desc_, next_data_ - desc_.value());
    if (!rings) throw std::logic_error("GuestDriver: " + rings.error().message());
    std::fill(rings->begin(), rings->end(), uint8_t{0});
    for (uint16_t i = size; i > 0; --i) free_.push_back(static_cast<uint16_t>(i - 1));
    chains_.resize(size);
}

uint8_t* GuestDriver::host(GuestAddress addr, uint64_t len) const {
    auto s = mem_.slice(addr, len);
    if (!s) throw std::logic_error("GuestDriver: " + s.error().message());
    return s->data();
}

void GuestDriver::configure(virtio::Queue& queue, uint64_t features) const {
    queue.set_size(size_);
    queue.set_desc_table(desc_);
    queue.set_avail_ring(avail_);
    queue.set_used_ring(used_);
    queue.set_features(features);
}

uint16_t GuestDriver::add_chain(std::span<const DriverBuffer> buffers) {
    if (buffers.empty() || buffers.size() > free_.size())
        throw std::logic_error("GuestDriver: no room for the chain");
    std::vector<uint16_t> indices;
    for (size_t i = 0; i < buffers.size(); ++i) {
        indices.push_back(free_.back());
        free_.pop_back();
    }
    for (size_t i = 0; i < buffers.size(); ++i) {
        const bool last = i + 1 == buffers.size();
        vring_desc d{};
        d.addr = buffers[i].addr.value();
        d.len = buffers[i].len;
        d.flags = static_cast<uint16_t>(
            (buffers[i].direction == virtio::Direction::Writable ? VRING_DESC_F_WRITE : 0) |
            (last ? 0 : VRING_DESC_F_NEXT));
        d.next = last ? 0 : indices[i + 1];
        write_desc(indices[i], d);
    }
    chains_[indices[0]] = indices;
    push_head(indices[0]);
    return indices[0];
}

void GuestDriver::publish() { set_avail_idx(avail_idx_); }

void GuestDriver::write_desc(uint16_t index, const vring_desc& desc) {
    auto r = mem_.write_obj(desc_ + 16ULL * index, desc);
    if (!r) throw std::logic_error("GuestDriver: " + r.error().message());
}

void GuestDriver::push_head(uint16_t head) {
    const uint64_t slot = avail_idx_ % size_;
    store16(host(avail_ + 4 + 2 * slot, 2), head, std::memory_order_relaxed);
    avail_idx_ = static_cast<uint16_t>(avail_idx_ + 1);
}

void GuestDriver::set_avail_idx(uint16_t idx) {
    avail_idx_ = idx;
    // Release: pairs with the device's acquire of avail->idx (Queue::avail_idx).
    store16(host(avail_ + 2, 2), idx, std::memory_order_release);
}

void GuestDriver::set_avail_flags(uint16_t flags) {
    store16(host(avail_, 2), flags, std::memory_order_relaxed);
}
void GuestDriver::set_used_event(uint16_t value) {
    store16(host(avail_ + 4 + 2ULL * size_, 2), value, std::memory_order_relaxed);
}
uint16_t GuestDriver::used_flags() const {
    return load16(host(used_, 2), std::memory_order_relaxed);
}
uint16_t GuestDriver::avail_event() const {
    return load16(host(used_ + 4 + 8ULL * size_, 2), std::memory_order_relaxed);
}

uint16_t GuestDriver::used_idx() const {
    // Acquire: pairs with the device's release of used->idx (Queue::add_used).
    return load16(host(used_ + 2, 2), std::memory_order_acquire);
}

vring_used_elem GuestDriver::used_elem(uint16_t position) const {
    auto e = mem_.read_obj<vring_used_elem>(used_ + 4 + 8ULL * (position % size_));
    if (!e) throw std::logic_error("GuestDriver: " + e.error().message());
    return *e;
}

std::optional<vring_used_elem> GuestDriver::pop_used() {
    if (used_idx() == last_used_) return std::nullopt;
    const vring_used_elem e = used_elem(last_used_);
    last_used_ = static_cast<uint16_t>(last_used_ + 1);
    if (e.id < size_) {
        for (uint16_t i : chains_[e.id]) free_.push_back(i);
        chains_[e.id].clear();
    }
    return e;
}

GuestAddress GuestDriver::alloc(uint32_t len) {
    const GuestAddress addr(next_data_);
    host(addr, len);   // throws when it does not fit
    next_data_ = align_up(next_data_ + len, 16);
    return addr;
}

void GuestDriver::fill(GuestAddress addr, std::span<const uint8_t> bytes) const {
    auto r = mem_.write(addr, bytes);
    if (!r) throw std::logic_error("GuestDriver: " + r.error().message());
}

std::vector<uint8_t> GuestDriver::read(GuestAddress addr, uint32_t len) const {
    std::vector<uint8_t> out(len);
    auto r = mem_.read(addr, out);
    if (!r) throw std::logic_error("GuestDriver: " + r.error().message());
    return out;
}

} // namespace minivmm::test
