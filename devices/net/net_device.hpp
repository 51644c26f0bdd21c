// NetDevice: virtio-net (Virtio 1.2 §5.1) on a PacketIo backend (a tap). Queue 0 receives,
// queue 1 transmits. Frames keep their vnet header end to end: the tap is told the negotiated
// header size and exactly the receive offloads the guest accepted.
//
// A backend that vanishes (a deleted tap: EBADFD) is a cable pulled out: the link goes down
// (VIRTIO_NET_S_LINK_UP cleared, a configuration interrupt), frames the guest sends are
// completed and counted as dropped, and the device tries every REATTACH_PERIOD (its timer) to
// attach again; once the tap is back it is configured as at activation and the link comes up
// (another configuration interrupt).
//
// Threads: activate() runs on a vCPU thread, everything else on the I/O thread; the core
// serialises all calls with its lock (DeviceContext), so the state below needs no lock of its
// own. link_up_ is atomic because config reads may come from a vCPU.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "event_sources.hpp"
#include "net/net_counters.hpp"
#include "net/net_spec.hpp"
#include "net/packet_io.hpp"
#include "net/vnet_header.hpp"
#include "virtio/virtio_device.hpp"

namespace minivmm::net {

class NetDevice : public virtio::VirtioDevice {
public:
    static constexpr size_t RX_QUEUE = 0;
    static constexpr size_t TX_QUEUE = 1;
    static constexpr size_t NUM_QUEUES = 2;

    // `events` (may be null in tests that call process_backend themselves) is told which
    // readiness of io->fd() the device wants; it must outlive the device.
    NetDevice(MacAddress mac, std::unique_ptr<PacketIo> io, EventSources* events);

    uint32_t device_type() const override;
    uint64_t features() const override { return offered_features(io_->carries_vnet_header()); }
    size_t num_queues() const override { return NUM_QUEUES; }
    size_t config_size() const override;
    void read_config(uint64_t offset, std::span<uint8_t> data) const override;

    // Latches negotiate_features(features), sets the header size and the tap's offloads.
    Result<void> activate(virtio::DeviceContext& ctx, uint64_t features) override;
    // TX notify: send what is queued. RX notify: buffers arrived, read the tap again.
    void process_queue(virtio::DeviceContext& ctx, size_t index) noexcept override;
    // The backend is readable (receive) or writable again (a send that hit EAGAIN).
    void process_backend(virtio::DeviceContext& ctx) noexcept override;
    void reset() noexcept override;
    // Stops watching the tap (a readable tap would wake the paused loop for nothing); frames
    // read or waiting for room stay held, with their chains, until resume.
    void pause(virtio::DeviceContext& ctx) noexcept override;
    void resume(virtio::DeviceContext& ctx) noexcept override;

    // Tuning (the defaults suit the machine; tests and fuzzers may turn polling off). A driver
    // that stopped notifying us is polled for up to `ns` before notifications are re-enabled
    // and the device waits (each direction); 0: no polling.
    void set_poll_ns(uint64_t ns) { poll_ns_ = ns; }
    // Transmit frames per wakeup before the device lets the event loop run its other work.
    void set_tx_budget(unsigned frames) { tx_budget_ = frames; }

    static constexpr uint64_t DEFAULT_POLL_NS = 30'000;
    static constexpr unsigned DEFAULT_TX_BUDGET = 1024;
    // Transmit frames handed to the backend at once (one system call for a tap with io_uring);
    // their used entries are published, and an interrupt checked for, after each batch.
    static constexpr size_t TX_BATCH = 32;
    // Received frames are published to the driver (used index, interrupt check) this often.
    static constexpr unsigned RX_PUBLISH_EVERY = 16;
    // How often a vanished backend is tried again: one or two ioctls each time.
    static constexpr std::chrono::milliseconds REATTACH_PERIOD{500};

    const NetCounters& counters() const { return counters_; }
    PacketIo& io() { return *io_; }
    uint64_t negotiated_features() const { return features_; }
    size_t header_size() const { return hdr_size_; }
    bool link_up() const { return link_up_.load(std::memory_order_relaxed); }
    uint32_t watched_events() const { return events_; }

private:
    // A checked frame waiting in the transmit batch: its chain (completed once sent), its
    // length, and what the backend writes: our copy of the header, then the frame's bytes
    // (copied behind the header in `bounce` when both fit in a page, which costs less than the
    // kernel's walk of several pieces, else the guest's buffers as they are).
    struct TxSlot {
        std::optional<virtio::DescriptorChain> chain;
        size_t frame_len = 0;
        std::vector<uint8_t> bounce = std::vector<uint8_t>(4096);
        std::vector<iovec> pieces;   // into bounce and guest memory: valid while the slot is
    };
    enum class Placed : uint8_t { Done, Dropped, NeedBuffers };

    // net_tx.cpp
    void process_tx(virtio::DeviceContext& ctx);
    // Checks the chain at `head`: a good frame joins the batch, a bad one is dropped.
    void handle_tx_chain(virtio::DeviceContext& ctx, uint16_t head);
    void queue_tx(virtio::DeviceContext& ctx, virtio::DescriptorChain&& chain,
                  const virtio_net_hdr_v1& hdr);
    // Sends the batch; false when the backend is full (what is left waits for EPOLLOUT).
    bool flush_tx(virtio::DeviceContext& ctx);
    void signal_tx(virtio::DeviceContext& ctx) { signal(ctx, TX_QUEUE); }
    void complete_tx(virtio::DeviceContext& ctx, uint16_t head);

    // net_rx.cpp
    void process_rx(virtio::DeviceContext& ctx);
    // Reads one frame from the backend into rx_frame_; false when there is nothing to read.
    bool read_frame(virtio::DeviceContext& ctx);
    Placed place_frame(virtio::DeviceContext& ctx);
    void drop_rx_chains(virtio::DeviceContext& ctx);
    bool rx_buffers_available(virtio::DeviceContext& ctx);
    void signal_rx(virtio::DeviceContext& ctx) { signal(ctx, RX_QUEUE); }

    // Spins up to poll_ns_ for the driver to make buffers available in `q`; true if it did.
    bool poll_available(const virtio::Queue& q) const;
    void backend_gone(virtio::DeviceContext& ctx, int err);
    // The timer while gone_: attach again; when back, configure and bring the link up.
    void try_reattach(virtio::DeviceContext& ctx);
    void arm_reattach();
    void update_watch();
    void count_drop(uint64_t& counter, const char* what);
    void add_used(virtio::DeviceContext& ctx, size_t queue, uint16_t head, uint32_t len);
    void signal(virtio::DeviceContext& ctx, size_t queue);

    MacAddress mac_;
    std::unique_ptr<PacketIo> io_;
    EventSources* watch_;
    NetCounters counters_;

    bool active_ = false;
    bool paused_ = false;   // pause(): no wake-ups asked for
    bool used_[2] = {};   // per queue: used entries added since its last notification check
    uint64_t features_ = 0;
    size_t hdr_size_ = 0;
    std::atomic<bool> link_up_{true};
    bool gone_ = false;   // the backend vanished and is not back (the link is down)
    uint32_t events_ = 0;   // what watch_ was last told

    // Transmit state.
    std::vector<TxSlot> tx_batch_ = std::vector<TxSlot>(TX_BATCH);
    size_t tx_queued_ = 0;     // tx_batch_[0, tx_queued_) wait to be sent, in order
    std::vector<std::span<const iovec>> tx_frames_ = std::vector<std::span<const iovec>>(TX_BATCH);
    std::vector<IoResult> tx_results_ = std::vector<IoResult>(TX_BATCH);
    bool tx_more_ = false;     // the budget ran out with frames left: come back (EPOLLOUT)
    uint64_t poll_ns_ = DEFAULT_POLL_NS;
    unsigned tx_budget_ = DEFAULT_TX_BUDGET;

    // Receive state: at most one frame read from the backend and not yet in the guest.
    std::vector<uint8_t> rx_frame_;   // header + frame, MAX_VNET_HDR_SIZE + MAX_FRAME_SIZE + 1
    size_t rx_len_ = 0;               // 0: no frame pending
    std::vector<virtio::DescriptorChain> rx_chains_;   // popped for the pending frame
    std::vector<uint32_t> rx_lens_;                    // bytes written into each
    size_t rx_placed_ = 0;                             // bytes of the frame written so far
    bool rx_stalled_ = false;   // no buffers: the backend is not read until an RX notify
};

} // namespace minivmm::net
