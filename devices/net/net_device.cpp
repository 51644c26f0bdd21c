// virtio-net: configuration space, feature negotiation, activation, and what both directions
// share (Virtio 1.2 §5.1.4, §5.1.5).
#include "net/net_device.hpp"

#include <bit>
#include <chrono>
#include <cstring>
#include <linux/virtio_ids.h>
#include <sys/epoll.h>

#include "base/log.hpp"
#include "net/tap.hpp"

namespace minivmm::net {

namespace {
// The part of struct virtio_net_config we offer: mac, status, max_virtqueue_pairs.
constexpr size_t CONFIG_SIZE = 10;
static_assert(offsetof(virtio_net_config, max_virtqueue_pairs) + 2 == CONFIG_SIZE);
} // namespace

NetDevice::NetDevice(MacAddress mac, std::unique_ptr<PacketIo> io, EventSources* events)
    : mac_(mac), io_(std::move(io)), watch_(events),
      rx_frame_(MAX_VNET_HDR_SIZE + MAX_FRAME_SIZE + 1) {}

uint32_t NetDevice::device_type() const { return VIRTIO_ID_NET; }

size_t NetDevice::config_size() const { return CONFIG_SIZE; }

void NetDevice::read_config(uint64_t offset, std::span<uint8_t> data) const {
    uint8_t config[CONFIG_SIZE] = {};
    std::memcpy(config, mac_.data(), mac_.size());
    const uint16_t status = link_up() ? VIRTIO_NET_S_LINK_UP : 0;
    const uint16_t pairs = 1;
    std::memcpy(config + 6, &status, 2);   // little-endian host (virtio_ring.hpp asserts it)
    std::memcpy(config + 8, &pairs, 2);
    // The core checked offset + size <= config_size().
    std::memcpy(data.data(), config + offset, data.size());
}

Result<void> NetDevice::activate(virtio::DeviceContext& ctx, uint64_t features) {
    features_ = negotiate_features(features, io_->carries_vnet_header());
    hdr_size_ = vnet_header_size(features_);
    if (gone_) {
        arm_reattach();   // configured when it is back (the timer stops while inactive)
    } else if (auto r = io_->configure(hdr_size_, tun_offloads(features_)); !r) {
        // A tap deleted before the driver got here: the link starts down, as after a loss.
        if (io_status_for_errno(r.error().sys_errno()) != IoStatus::Gone)
            return r.error().with_context("virtio-net activation");
        backend_gone(ctx, r.error().sys_errno());
    }
    active_ = true;
    rx_stalled_ = false;
    update_watch();
    return {};
}

void NetDevice::process_queue(virtio::DeviceContext& ctx, size_t index) noexcept {
    if (!active_) return;
    if (index == TX_QUEUE) {
        process_tx(ctx);
    } else if (index == RX_QUEUE) {
        // New receive buffers: read the backend again (back-pressure released).
        rx_stalled_ = false;
        process_rx(ctx);
    }
    update_watch();
}

void NetDevice::process_backend(virtio::DeviceContext& ctx) noexcept {
    if (!active_) return;
    if (gone_) try_reattach(ctx);   // the timer (or a late wake-up: then one more try)
    if (!gone_ && io_->output_pending()) {
        // The rest of a frame the guest was told is sent (StreamIo).
        IoResult r = io_->flush_output();
        if (r.status == IoStatus::Gone) backend_gone(ctx, r.err);
    }
    if (tx_queued_ > 0 || tx_more_) process_tx(ctx);
    if (!rx_stalled_) process_rx(ctx);
    update_watch();
}

void NetDevice::reset() noexcept {
    // Heads popped before the reset cannot be completed any more (Queue::reset).
    active_ = false;
    for (TxSlot& slot : tx_batch_) slot.chain.reset();
    tx_queued_ = 0;
    tx_more_ = false;
    rx_len_ = 0;
    rx_placed_ = 0;
    rx_chains_.clear();
    rx_lens_.clear();
    rx_stalled_ = false;
    features_ = 0;
    update_watch();
}

void NetDevice::backend_gone(virtio::DeviceContext& ctx, int err) {
    if (gone_) return;
    gone_ = true;
    ++counters_.link_lost;
    log(LogLevel::Warn, "virtio-net: {} vanished ({}): link down, frames are dropped {}",
        io_->name(), std::strerror(err),
        io_->reattachable() ? "until it exists again" : "from now on");
    link_up_.store(false, std::memory_order_relaxed);
    ctx.signal_config();
    arm_reattach();
}

void NetDevice::arm_reattach() {
    if (watch_ && io_->reattachable()) watch_->arm_timer(REATTACH_PERIOD);
}

void NetDevice::try_reattach(virtio::DeviceContext& ctx) {
    if (!io_->reattach()) {
        arm_reattach();
        return;
    }
    // A new tap: it knows nothing of the header size and offloads the driver negotiated.
    if (auto r = io_->configure(hdr_size_, tun_offloads(features_)); !r) {
        log(LogLevel::Error, "virtio-net: {} is back but cannot be configured ({}): link stays down",
            io_->name(), r.error().message());
        return;
    }
    gone_ = false;
    rx_stalled_ = false;
    ++counters_.link_back;
    log(LogLevel::Info, "virtio-net: {} is back: link up", io_->name());
    link_up_.store(true, std::memory_order_relaxed);
    ctx.signal_config();
}

// The readiness the device wants: EPOLLIN while it can take frames, EPOLLOUT while a send waits.
void NetDevice::pause(virtio::DeviceContext&) noexcept {
    paused_ = true;
    update_watch();
}

void NetDevice::resume(virtio::DeviceContext&) noexcept {
    paused_ = false;
    update_watch();
}

void NetDevice::update_watch() {
    uint32_t want = 0;
    if (active_ && !paused_) {
        if (!gone_ && !rx_stalled_) want |= EPOLLIN;
        // EPOLLOUT: a send waits for room, or the transmit budget ran out with frames left (a
        // tap is writable at once, a deleted one reports an error at once: either way the loop
        // comes back to us after its other ready work).
        if (tx_queued_ > 0 || tx_more_ || (!gone_ && io_->output_pending())) want |= EPOLLOUT;
    }
    // Frames the backend already holds (a stream reads several at once) do not make its
    // descriptor readable: when receive stopped with some left (its budget ran out), a wake-up
    // at the loop's next pass, or they would wait for the peer's next bytes, which a TCP
    // sender waiting for the guest's ACK of those very frames does not send.
    if ((want & EPOLLIN) && watch_ && io_->input_buffered()) watch_->arm_timer({});
    if (want == events_) return;
    events_ = want;
    if (watch_) watch_->watch_fd(io_->fd(), want);
}

bool NetDevice::poll_available(const virtio::Queue& q) const {
    if (poll_ns_ == 0) return false;
    using Clock = std::chrono::steady_clock;
    const auto end = Clock::now() + std::chrono::nanoseconds(poll_ns_);
    do {
        for (int i = 0; i < 64; ++i) {
            if (q.available() > 0) return true;
            __builtin_ia32_pause();
        }
    } while (Clock::now() < end);
    return q.available() > 0;
}

// Guest-caused drops are counted always and logged rate-limited: the 1st, 2nd, 4th, 8th ...
void NetDevice::count_drop(uint64_t& counter, const char* what) {
    ++counter;
    if (std::has_single_bit(counter))
        log(LogLevel::Warn, "virtio-net {}: dropped a frame: {} ({} so far)", io_->name(), what,
            counter);
}

void NetDevice::add_used(virtio::DeviceContext& ctx, size_t queue, uint16_t head, uint32_t len) {
    // Only heads this device popped and has not completed reach here; a refusal means the
    // queue was reset under us, which the core prevents; the device then needs a reset.
    // Published in batches: signal_tx/signal_rx publish before they check for an interrupt,
    // and every path out of the device's work goes through one of them.
    if (!ctx.queue(queue).add_used_deferred(head, len)) ctx.set_needs_reset();
    used_[queue] = true;
}

// Publishes the entries of `queue` used since the last call, and one interrupt for them if the
// driver wants it.
void NetDevice::signal(virtio::DeviceContext& ctx, size_t queue) {
    if (!used_[queue]) return;
    virtio::Queue& q = ctx.queue(queue);
    q.publish_used();
    if (q.needs_notification()) ctx.signal_used();
    used_[queue] = false;
}

} // namespace minivmm::net
