// Queue::State: a paused split virtqueue's device side (Virtio 1.2 §2.7), saved and restored.
#include "virtio/queue.hpp"

namespace minivmm::virtio {

Result<Queue::State> Queue::state() const {
    if (in_flight_count_ != 0)
        return Error(ErrorCode::Invalid,
                     fmt::format("Virtqueue has {} requests in flight", in_flight_count_));
    State s;
    s.size = size_;
    s.desc = desc_.value();
    s.avail = avail_.value();
    s.used = used_.value();
    s.features = features_;
    s.ready = ready_;
    s.broken = broken_;
    s.next_avail = next_avail_;
    s.next_used = next_used_;
    s.signalled_used = signalled_used_;
    return s;
}

Result<void> Queue::restore(const State& s, const GuestMemory& mem) {
    if (ready_) return Error(ErrorCode::Invalid, "Virtqueue is active: reset it before a restore");
    reset();
    size_ = s.size;
    desc_ = GuestAddress(s.desc);
    avail_ = GuestAddress(s.avail);
    used_ = GuestAddress(s.used);
    features_ = s.features;
    if (!s.ready) {
        // Only what the driver may have programmed before QueueReady; the indexes are 0 then.
        if (s.size > max_size_ || s.broken || s.next_avail || s.next_used || s.signalled_used) {
            reset();
            return Error(ErrorCode::Invalid, "Virtqueue state: indexes on a queue not ready");
        }
        return {};
    }
    if (auto r = activate(mem); !r) {
        reset();
        return r.error();
    }
    // Any 16-bit index is valid: they are free-running and the guest's side is checked at the
    // next pop() as always (an avail index more than `size` ahead breaks the queue).
    next_avail_ = avail_shadow_ = s.next_avail;
    next_used_ = s.next_used;
    signalled_used_ = s.signalled_used;
    broken_ = s.broken;
    return {};
}

} // namespace minivmm::virtio
