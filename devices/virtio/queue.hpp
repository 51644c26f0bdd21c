// Queue: the device side of one split virtqueue (Virtio 1.2 §2.7): ring geometry set by the
// driver, validated once at activation; available heads popped with bounds checks; used
// entries published; notification suppression (NO_INTERRUPT / NO_NOTIFY, EVENT_IDX).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/result.hpp"
#include "memory/guest_address.hpp"
#include "memory/guest_memory.hpp"
#include "virtio/descriptor_chain.hpp"

namespace minivmm::virtio {

// vring_need_event (Virtio 1.2 §2.7.10): true if `event` lies in the window (old, new_idx],
// computed in uint16_t so it stays correct across the 16-bit wrap.
constexpr bool need_event(uint16_t event, uint16_t new_idx, uint16_t old) {
    return static_cast<uint16_t>(new_idx - event - 1) < static_cast<uint16_t>(new_idx - old);
}

// Not thread-safe: one queue is driven by one thread at a time (the device's event loop), the
// transport configures it on a vCPU thread only while it is not ready.
class Queue {
public:
    static constexpr uint16_t DEFAULT_MAX_SIZE = 256;
    static constexpr uint16_t SPEC_MAX_SIZE = 32768;   // §2.7: queue size is at most 32768

    // `max_size` is what the device offers (QueueNumMax); a power of two <= SPEC_MAX_SIZE.
    explicit Queue(uint16_t max_size = DEFAULT_MAX_SIZE);

    // Driver-set configuration. Writes while the queue is ready are ignored (§4.2.2.2: the driver
    // must not change a ready queue); the values are validated only by activate().
    void set_size(uint16_t size);
    void set_desc_table(GuestAddress addr);
    void set_avail_ring(GuestAddress addr);
    void set_used_ring(GuestAddress addr);
    // The negotiated feature bits; the queue uses INDIRECT_DESC and EVENT_IDX.
    void set_features(uint64_t features);

    // Validates the geometry and makes the queue ready. Refuses (returns an error, queue stays
    // not ready; the transport sets DEVICE_NEEDS_RESET) a size that is not a power of two in
    // 1..max_size, misaligned rings (desc 16, avail 2, used 4), or rings not inside one RAM
    // region each. `mem` must outlive the queue's ready period.
    Result<void> activate(const GuestMemory& mem);
    // Back to the initial state: not ready, indices 0, nothing in flight, size = max_size,
    // addresses 0. Heads popped before the reset can no longer be completed.
    void reset();

    // The next available chain head, or nothing. A ring protocol violation (avail index more
    // than size ahead, head >= size, a head already in flight) marks the queue broken: the
    // caller should then set DEVICE_NEEDS_RESET; a broken queue pops nothing until reset.
    std::optional<uint16_t> pop();
    // Walks and validates the chain at `head` (see DescriptorChain::parse).
    Result<DescriptorChain> chain(uint16_t head) const;
    // Publishes a used entry for `head` with `len` bytes written. Refuses a head that is not
    // in flight (never popped, already completed, or popped before a reset).
    Result<void> add_used(uint16_t head, uint32_t len);
    // add_used without publishing the used index: the driver sees the entries at the next
    // publish_used() (or add_used), all at once. A batch costs the driver's polling one
    // cache-line transfer instead of one per entry. Call publish_used() before
    // needs_notification() and before the device waits.
    Result<void> add_used_deferred(uint16_t head, uint32_t len);
    void publish_used();
    // Whether the driver wants an interrupt for the used entries added since the last call:
    // honours VRING_AVAIL_F_NO_INTERRUPT, or used_event when EVENT_IDX is negotiated.
    bool needs_notification();
    // Asks the driver to notify on new buffers (clears VRING_USED_F_NO_NOTIFY, or sets
    // avail_event). Returns true if buffers are already available: the caller must process
    // them, or the wakeup is lost.
    bool enable_notification();
    // Tells the driver notifications are not needed (sets VRING_USED_F_NO_NOTIFY; with
    // EVENT_IDX the stale avail_event already has that effect).
    void disable_notification();

    // How many heads the driver has made available that pop() has not returned yet.
    uint16_t available() const;
    // Busy-polls avail->idx until the driver makes a buffer available (true) or `budget` has
    // passed (false; a zero budget looks once). For a device that has just drained the queue
    // with notifications off: a driver with requests in flight adds the next one within
    // microseconds, and finding it here spares the driver the exit of a notification and the
    // device its wake-up.
    bool poll_available(std::chrono::nanoseconds budget) const;

    // What the driver and the device each see of the rings, for hang reports. Reads the
    // guest's fields once each (they may change meanwhile); a queue not ready reports only
    // the device's side.
    struct View {
        bool ready = false, broken = false, event_idx = false;
        uint16_t size = 0;
        uint16_t avail_idx = 0;      // guest: avail->idx
        uint16_t next_avail = 0;     // device: the next head it will pop
        uint16_t used_idx = 0;       // in guest memory: used->idx as published
        uint16_t next_used = 0;      // device: including entries not yet published
        uint16_t in_flight = 0;      // popped, not yet used
        uint16_t avail_flags = 0;    // guest: VRING_AVAIL_F_NO_INTERRUPT
        uint16_t used_event = 0;     // guest (EVENT_IDX): interrupt me when used passes this
        uint16_t used_flags = 0;     // device: VRING_USED_F_NO_NOTIFY
        uint16_t avail_event = 0;    // device (EVENT_IDX): notify me when avail passes this
    };
    View view() const;

    // What a paused queue is, for pause/resume and snapshots (queue_state.cpp): the driver's
    // geometry and the device's side of the indexes. The guest's side (avail->idx, the rings'
    // contents) is in guest memory and saved with it.
    struct State {
        uint16_t size = 0;
        uint64_t desc = 0, avail = 0, used = 0;
        uint64_t features = 0;
        bool ready = false, broken = false;
        uint16_t next_avail = 0, next_used = 0;
        std::optional<uint16_t> signalled_used;
        bool operator==(const State&) const = default;
    };
    // Refused (Invalid) while heads are in flight: a state without them would lose requests.
    Result<State> state() const;
    // Into a queue that is not ready: `s` is untrusted (a snapshot file). A ready state is
    // activated against `mem` with the checks of activate(), then its indexes are taken; on
    // error the queue is left reset.
    Result<void> restore(const State& s, const GuestMemory& mem);

    uint16_t max_size() const { return max_size_; }
    uint16_t size() const { return size_; }
    bool ready() const { return ready_; }
    bool broken() const { return broken_; }
    uint16_t in_flight() const { return in_flight_count_; }
    uint16_t next_avail() const { return next_avail_; }
    uint16_t next_used() const { return next_used_; }

private:
    std::optional<uint16_t> fail(const char* what, uint16_t value);
    uint16_t avail_idx() const;

    uint16_t max_size_;
    uint16_t size_;
    GuestAddress desc_{};
    GuestAddress avail_{};
    GuestAddress used_{};
    uint64_t features_ = 0;

    // Valid while ready_: host views of the rings (checked, aligned) and of the whole memory.
    const GuestMemory* mem_ = nullptr;
    uint8_t* avail_host_ = nullptr;
    uint8_t* used_host_ = nullptr;

    bool ready_ = false;
    bool broken_ = false;
    uint16_t next_avail_ = 0;   // free-running, wraps at 2^16 like the ring indices
    uint16_t avail_shadow_ = 0; // avail->idx as pop() last read it
    uint16_t next_used_ = 0;
    std::optional<uint16_t> signalled_used_;   // next_used_ at the last needs_notification()
    std::vector<uint8_t> in_flight_;           // per head: popped and not yet used
    uint16_t in_flight_count_ = 0;
};

} // namespace minivmm::virtio
