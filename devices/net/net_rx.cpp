// virtio-net receive (Virtio 1.2 §5.1.6.3-4): frames read from the tap one at a time into a
// bounce buffer, checked, then copied into the guest's posted buffers (several of them with
// MRG_RXBUF). No buffers: the tap is not read (back-pressure) until the guest posts some.
#include "net/net_device.hpp"

#include <cstring>

#include "base/log.hpp"
#include "virtio/chain_io.hpp"

namespace minivmm::net {

using virtio::DescriptorChain;

void NetDevice::process_rx(virtio::DeviceContext& ctx) {
    virtio::Queue& q = ctx.queue(RX_QUEUE);
    if (gone_) return;
    if (!q.ready()) {
        rx_stalled_ = true;   // nowhere to put frames: stop watching the tap (no busy loop)
        return;
    }
    // Bounded work per wakeup; the tap descriptor is level-triggered, so what is left wakes us
    // again.
    for (unsigned budget = q.size(); budget > 0; --budget) {
        if (rx_len_ == 0 && (!rx_buffers_available(ctx) || !read_frame(ctx))) break;
        if (rx_len_ == 0) continue;   // that frame was dropped
        if (place_frame(ctx) == Placed::NeedBuffers) break;
        if (budget % RX_PUBLISH_EVERY == 0) signal_rx(ctx);   // the guest sees them in batches
    }
    // The budget ran out just as the ring ran dry: stop watching the tap now, not one wakeup
    // (and one read attempt) later (found by net_rx_fuzz: with a 1-entry ring and dropped
    // frames using up the budget, two wakeups were not enough).
    if (!rx_stalled_ && !gone_ && rx_len_ == 0 && q.available() == 0 && !q.broken())
        (void)rx_buffers_available(ctx);
    signal_rx(ctx);
}

// Whether the guest has posted a buffer; if not, stop reading the backend and ask the driver for
// a notification (which re-checks, so a buffer posted meanwhile is not missed).
bool NetDevice::rx_buffers_available(virtio::DeviceContext& ctx) {
    virtio::Queue& q = ctx.queue(RX_QUEUE);
    if (q.available() > 0) return true;
    // The driver may be about to post buffers: tell it what is done, then poll briefly before
    // asking for a notification (an exit for the driver, a wakeup for us).
    signal_rx(ctx);
    if (poll_available(q)) return true;
    if (q.enable_notification()) return true;
    if (!rx_stalled_) ++counters_.rx_no_buffers;
    rx_stalled_ = true;
    return false;
}

bool NetDevice::read_frame(virtio::DeviceContext& ctx) {
    IoResult r = io_->recv(rx_frame_);
    switch (r.status) {
    case IoStatus::WouldBlock: return false;
    case IoStatus::Gone: backend_gone(ctx, r.err); return false;
    case IoStatus::Failed: count_drop(counters_.rx_io_errors, std::strerror(r.err)); return true;
    case IoStatus::Ok: break;
    }
    if (r.bytes < hdr_size_) {
        count_drop(counters_.rx_short, "received frame shorter than the vnet header");
        return true;
    }
    if (r.truncated || r.bytes - hdr_size_ > MAX_FRAME_SIZE) {
        count_drop(counters_.rx_too_big, "received frame larger than the maximum");
        return true;
    }
    virtio_net_hdr_v1 from_tap{};
    std::memcpy(&from_tap, rx_frame_.data(), hdr_size_);
    auto hdr = rx_header_for_guest(from_tap, features_);
    if (!hdr) {
        count_drop(counters_.rx_bad_header, "received frame uses an offload the guest refused");
        return true;
    }
    hdr->num_buffers = 1;   // §5.1.6.4: 1 without MRG_RXBUF; fixed up in place_frame with it
    std::memcpy(rx_frame_.data(), &*hdr, hdr_size_);
    rx_len_ = r.bytes;
    rx_placed_ = 0;
    return true;
}

// Writes the pending frame into as many chains as it needs (one without MRG_RXBUF). Used
// entries are published only once the whole frame is in place, so num_buffers is written while
// every buffer still belongs to the device.
NetDevice::Placed NetDevice::place_frame(virtio::DeviceContext& ctx) {
    virtio::Queue& q = ctx.queue(RX_QUEUE);
    const bool mergeable = features_ & bit(VIRTIO_NET_F_MRG_RXBUF);
    while (rx_placed_ < rx_len_) {
        if (!rx_chains_.empty() && (!mergeable || rx_chains_.size() >= q.size())) {
            // No single buffer holds it, or all the ring would not: drop it, return the buffers.
            count_drop(counters_.rx_no_room, "received frame larger than the posted buffers");
            drop_rx_chains(ctx);
            return Placed::Dropped;
        }
        auto head = q.pop();
        if (!head) {
            if (q.broken()) {
                ctx.set_needs_reset();
                rx_stalled_ = true;
                return Placed::NeedBuffers;
            }
            if (!rx_buffers_available(ctx)) return Placed::NeedBuffers;
            continue;
        }
        auto chain = q.chain(*head);
        if (!chain || chain->readable_len() > 0) {
            // Guest-controlled: malformed, or a device-readable buffer in a receive chain. The
            // chain goes back empty; the frame waits for the next one.
            ++counters_.rx_bad_chain;
            add_used(ctx, RX_QUEUE, *head, 0);
            continue;
        }
        const size_t room = chain->writable_len();
        const size_t left = rx_len_ - rx_placed_;
        if (rx_chains_.empty() && (room < hdr_size_ || (!mergeable && room < left))) {
            // The first buffer must hold the header (§5.1.6.3.1), and the whole frame without
            // MRG_RXBUF: the frame is dropped, the buffer returned with length 0.
            count_drop(counters_.rx_no_room, "receive buffer smaller than the frame");
            add_used(ctx, RX_QUEUE, *head, 0);
            rx_len_ = 0;
            return Placed::Dropped;
        }
        const size_t n = std::min(room, left);
        virtio::ChainWriter writer(ctx.memory(), *chain);
        if (!writer.write({rx_frame_.data() + rx_placed_, n})) {
            ++counters_.rx_bad_chain;
            add_used(ctx, RX_QUEUE, *head, 0);
            continue;
        }
        rx_chains_.push_back(std::move(*chain));
        rx_lens_.push_back(static_cast<uint32_t>(n));
        rx_placed_ += n;
    }
    if (mergeable && rx_chains_.size() > 1) {
        // num_buffers, then the header again into the first buffer (which holds all of it).
        virtio_net_hdr_v1 hdr{};
        std::memcpy(&hdr, rx_frame_.data(), hdr_size_);
        hdr.num_buffers = static_cast<uint16_t>(rx_chains_.size());
        virtio::ChainWriter writer(ctx.memory(), rx_chains_.front());
        if (!writer.write({reinterpret_cast<const uint8_t*>(&hdr), hdr_size_})) {
            drop_rx_chains(ctx);
            return Placed::Dropped;
        }
    }
    for (size_t i = 0; i < rx_chains_.size(); ++i)
        add_used(ctx, RX_QUEUE, rx_chains_[i].head(), rx_lens_[i]);
    ++counters_.rx_frames;
    counters_.rx_bytes += rx_len_ - hdr_size_;
    rx_chains_.clear();
    rx_lens_.clear();
    rx_len_ = 0;
    rx_placed_ = 0;
    return Placed::Done;
}

// Returns every chain popped for the pending frame with length 0 and forgets the frame.
void NetDevice::drop_rx_chains(virtio::DeviceContext& ctx) {
    for (const DescriptorChain& c : rx_chains_) add_used(ctx, RX_QUEUE, c.head(), 0);
    rx_chains_.clear();
    rx_lens_.clear();
    rx_len_ = 0;
    rx_placed_ = 0;
}

} // namespace minivmm::net
