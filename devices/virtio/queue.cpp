// Virtio 1.2 §2.7 split virtqueue, device side: geometry checks, avail/used ring indices,
// notification suppression (§2.7.7, §2.7.10).
#include "virtio/queue.hpp"

#include <atomic>

#include "base/log.hpp"
#include "virtio/virtio_ring.hpp"

namespace minivmm::virtio {

namespace {

// Byte offsets inside the rings (§2.7.6, §2.7.8): flags, idx, ring[N], then the event field.
constexpr size_t RING_FLAGS = 0;
constexpr size_t RING_IDX = 2;
constexpr size_t RING_ENTRIES = 4;
constexpr size_t AVAIL_ENTRY = 2;
constexpr size_t USED_ENTRY = sizeof(vring_used_elem);

// The ring fields live in guest memory shared with the driver's vCPUs, so they are accessed
// through std::atomic_ref. activate() guarantees the alignment atomic_ref requires.
uint16_t load16(uint8_t* p, std::memory_order order) {
    return std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p)).load(order);
}
void store16(uint8_t* p, uint16_t v, std::memory_order order) {
    std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p)).store(v, order);
}
void store32(uint8_t* p, uint32_t v) {
    std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(p)).store(v, std::memory_order_relaxed);
}

Result<uint8_t*> map_ring(const GuestMemory& mem, GuestAddress addr, uint64_t len,
                          uint64_t align, const char* what) {
    if (addr.value() % align != 0)
        return Error(ErrorCode::Invalid,
                     fmt::format("Virtqueue {} at {:#x} is not {}-byte aligned", what, addr.value(),
                                 align));
    // slice() is overflow-proof: it refuses addr+len wrapping 2^64 or leaving one region.
    auto s = mem.slice(addr, len);
    if (!s) return s.error().with_context(fmt::format("Virtqueue {} is not in RAM", what));
    // Regions are page-aligned mappings, so guest alignment carries over to the host address.
    MINIVMM_ASSERT(reinterpret_cast<uintptr_t>(s->data()) % align == 0);
    return s->data();
}

} // namespace

Queue::Queue(uint16_t max_size) : max_size_(max_size), size_(max_size) {
    MINIVMM_ASSERT(max_size > 0 && max_size <= SPEC_MAX_SIZE && (max_size & (max_size - 1)) == 0);
}

void Queue::set_size(uint16_t size) {
    if (!ready_) size_ = size;
}
void Queue::set_desc_table(GuestAddress addr) {
    if (!ready_) desc_ = addr;
}
void Queue::set_avail_ring(GuestAddress addr) {
    if (!ready_) avail_ = addr;
}
void Queue::set_used_ring(GuestAddress addr) {
    if (!ready_) used_ = addr;
}
void Queue::set_features(uint64_t features) {
    if (!ready_) features_ = features;
}

Result<void> Queue::activate(const GuestMemory& mem) {
    if (ready_) return Error(ErrorCode::Invalid, "Virtqueue is already active");
    // Power of two (§2.7): ring slots are `idx & (size - 1)`; size 0 would divide by zero.
    if (size_ == 0 || size_ > max_size_ || (size_ & (size_ - 1)) != 0)
        return Error(ErrorCode::Invalid,
                     fmt::format("Virtqueue size {} is not a power of two in 1..{}", size_,
                                 max_size_));
    // Sizes from §2.7: desc 16N, avail 6+2N, used 6+8N; N <= 32768 keeps them far from overflow.
    const uint64_t n = size_;
    auto desc =
        map_ring(mem, desc_, sizeof(vring_desc) * n, VRING_DESC_ALIGN_SIZE, "descriptor table");
    if (!desc) return desc.error();
    auto avail = map_ring(mem, avail_, 6 + AVAIL_ENTRY * n, VRING_AVAIL_ALIGN_SIZE, "avail ring");
    if (!avail) return avail.error();
    auto used = map_ring(mem, used_, 6 + USED_ENTRY * n, VRING_USED_ALIGN_SIZE, "used ring");
    if (!used) return used.error();

    mem_ = &mem;
    avail_host_ = *avail;
    used_host_ = *used;
    in_flight_.assign(size_, 0);
    in_flight_count_ = 0;
    next_avail_ = 0;
    avail_shadow_ = 0;
    next_used_ = 0;
    signalled_used_.reset();
    broken_ = false;
    ready_ = true;
    return {};
}

void Queue::reset() {
    ready_ = false;
    broken_ = false;
    size_ = max_size_;
    desc_ = avail_ = used_ = GuestAddress(0);
    features_ = 0;
    mem_ = nullptr;
    avail_host_ = used_host_ = nullptr;
    next_avail_ = avail_shadow_ = next_used_ = 0;
    signalled_used_.reset();
    in_flight_.clear();
    in_flight_count_ = 0;
}

uint16_t Queue::avail_idx() const {
    // Acquire: pairs with the driver's release (virtio_store_mb / the wmb before it writes
    // avail->idx); the ring entries and descriptors it wrote before are visible after this load.
    return load16(avail_host_ + RING_IDX, std::memory_order_acquire);
}

uint16_t Queue::available() const {
    if (!ready_ || broken_) return 0;
    // uint16_t arithmetic on purpose: both indices wrap at 2^16 (int promotion would not).
    return static_cast<uint16_t>(avail_idx() - next_avail_);
}

bool Queue::poll_available(std::chrono::nanoseconds budget) const {
    using Clock = std::chrono::steady_clock;
    const Clock::time_point end = Clock::now() + budget;
    for (;;) {
        if (available() != 0) return true;
        if (Clock::now() >= end) return false;
#if defined(__x86_64__)
        __builtin_ia32_pause();   // spin-wait hint: frees the core's resources for its sibling
#endif
    }
}

std::optional<uint16_t> Queue::pop() {
    if (!ready_ || broken_) return std::nullopt;
    // avail->idx is a cache line the driver keeps writing: it is read again only once every
    // head up to the value last read has been popped (the entries below that value are
    // visible since that read's acquire).
    if (next_avail_ == avail_shadow_) avail_shadow_ = avail_idx();
    const uint16_t pending = static_cast<uint16_t>(avail_shadow_ - next_avail_);
    if (pending == 0) return std::nullopt;
    // A driver can have at most `size` heads outstanding; more means a corrupt avail->idx.
    if (pending > size_) return fail("avail index runs ahead by", pending);
    const size_t slot = next_avail_ & (size_ - 1u);
    // Guest-controlled: the head index, read once; ordered after avail_idx() by its acquire.
    const uint16_t head =
        load16(avail_host_ + RING_ENTRIES + AVAIL_ENTRY * slot, std::memory_order_relaxed);
    if (head >= size_) return fail("available head out of range:", head);
    if (in_flight_[head]) return fail("head made available twice:", head);
    next_avail_ = static_cast<uint16_t>(next_avail_ + 1);
    in_flight_[head] = 1;
    ++in_flight_count_;
    return head;
}

std::optional<uint16_t> Queue::fail(const char* what, uint16_t value) {
    // Logged once per break: the queue stays broken (pops nothing) until reset.
    log(LogLevel::Warn, "virtqueue broken: {} {}", what, value);
    broken_ = true;
    return std::nullopt;
}

Result<DescriptorChain> Queue::chain(uint16_t head) const {
    if (!ready_) return Error(ErrorCode::Invalid, "Virtqueue is not ready");
    const Indirect indirect =
        (features_ & FEATURE_INDIRECT_DESC) != 0 ? Indirect::Allowed : Indirect::Refused;
    return DescriptorChain::parse(*mem_, {desc_, size_}, head, indirect);
}

Result<void> Queue::add_used(uint16_t head, uint32_t len) {
    MINIVMM_TRY(add_used_deferred(head, len));
    publish_used();
    return {};
}

Result<void> Queue::add_used_deferred(uint16_t head, uint32_t len) {
    if (!ready_) return Error(ErrorCode::Invalid, "Virtqueue is not ready");
    if (head >= size_ || !in_flight_[head])
        return Error(ErrorCode::Invalid, fmt::format("Virtqueue head {} is not in flight", head));
    const size_t slot = next_used_ & (size_ - 1u);
    uint8_t* elem = used_host_ + RING_ENTRIES + USED_ENTRY * slot;
    store32(elem + offsetof(vring_used_elem, id), head);
    store32(elem + offsetof(vring_used_elem, len), len);
    next_used_ = static_cast<uint16_t>(next_used_ + 1);
    in_flight_[head] = 0;
    --in_flight_count_;
    return {};
}

void Queue::publish_used() {
    if (!ready_) return;
    // Release: pairs with the driver's acquire of used->idx (virtio_rmb after reading it in
    // virtqueue_get_buf); the elements written before are visible before the new index.
    store16(used_host_ + RING_IDX, next_used_, std::memory_order_release);
}

bool Queue::needs_notification() {
    if (!ready_) return false;
    // Full barrier (store->load): our used->idx store must be visible before we read the
    // driver's flags / used_event. Pairs with the driver's virtio_mb() between writing
    // used_event (or clearing NO_INTERRUPT) and re-reading used->idx; without it both sides
    // can miss each other's write and the interrupt is lost.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if ((features_ & FEATURE_EVENT_IDX) == 0) {
        const uint16_t flags = load16(avail_host_ + RING_FLAGS, std::memory_order_relaxed);
        return (flags & VRING_AVAIL_F_NO_INTERRUPT) == 0;
    }
    // Guest-controlled: used_event sits after the avail ring entries.
    const uint16_t used_event = load16(avail_host_ + RING_ENTRIES + AVAIL_ENTRY * size_t{size_},
                                       std::memory_order_relaxed);
    const std::optional<uint16_t> old = signalled_used_;
    signalled_used_ = next_used_;
    return !old || need_event(used_event, next_used_, *old);
}

bool Queue::enable_notification() {
    if (!ready_ || broken_) return false;
    if ((features_ & FEATURE_EVENT_IDX) != 0) {
        // avail_event sits after the used ring entries: "notify me once you pass next_avail".
        store16(used_host_ + RING_ENTRIES + USED_ENTRY * size_t{size_}, next_avail_,
                std::memory_order_relaxed);
    } else {
        store16(used_host_ + RING_FLAGS, 0, std::memory_order_relaxed);
    }
    // Full barrier (store->load): the store above must be visible before we re-read
    // avail->idx. Pairs with the driver's virtio_mb() between publishing avail->idx and
    // reading used->flags / avail_event in virtqueue_kick_prepare.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return available() != 0;
}

void Queue::disable_notification() {
    if (!ready_ || (features_ & FEATURE_EVENT_IDX) != 0) return;
    store16(used_host_ + RING_FLAGS, VRING_USED_F_NO_NOTIFY, std::memory_order_relaxed);
}

Queue::View Queue::view() const {
    View v;
    v.ready = ready_;
    v.broken = broken_;
    v.event_idx = (features_ & FEATURE_EVENT_IDX) != 0;
    v.size = size_;
    v.next_avail = next_avail_;
    v.next_used = next_used_;
    v.in_flight = in_flight_count_;
    if (!ready_) return v;
    const size_t n = size_;
    v.avail_flags = load16(avail_host_ + RING_FLAGS, std::memory_order_relaxed);
    v.avail_idx = load16(avail_host_ + RING_IDX, std::memory_order_acquire);
    v.used_event = load16(avail_host_ + RING_ENTRIES + AVAIL_ENTRY * n, std::memory_order_relaxed);
    v.used_flags = load16(used_host_ + RING_FLAGS, std::memory_order_relaxed);
    v.used_idx = load16(used_host_ + RING_IDX, std::memory_order_relaxed);
    v.avail_event = load16(used_host_ + RING_ENTRIES + USED_ENTRY * n, std::memory_order_relaxed);
    return v;
}

} // namespace minivmm::virtio
