// BlockDevice: virtio-blk (Virtio 1.2 §5.2) on a BlockBackend: IN, OUT, FLUSH, GET_ID, DISCARD,
// WRITE_ZEROES; one request queue.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <linux/virtio_blk.h>

#include "block/block_backend.hpp"
#include "block/block_request.hpp"
#include "virtio/virtio_device.hpp"

namespace minivmm::block {

// How the device serves its queue (process_queue); the defaults are the machine's.
struct BlockTuning {
    // How long the I/O thread keeps looking at a drained queue, notifications still off,
    // before it re-enables them and sleeps. A notification costs the guest an exit (about
    // 8 us on PVM hosts, 1-2 us with VT-x/AMD-V) and the device a wake-up of the I/O thread
    // (several us, far more on a busy host); a driver that keeps requests in flight adds the
    // next one within a few microseconds of a completion, so a short poll finds it. The
    // longest poll; the device adapts its window below it (BlockDevice::poll).
    std::chrono::nanoseconds poll = std::chrono::microseconds(50);
    // The most one process_queue call serves before it yields the I/O thread (and the
    // core's lock) and asks to be called again (DeviceContext::requeue): a driver that
    // never lets the queue run dry must not starve the other devices or the vCPUs.
    unsigned max_requests = 256;
    uint64_t max_bytes = uint64_t{16} << 20;
};

class BlockDevice : public virtio::VirtioDevice {
public:
    static constexpr size_t NUM_QUEUES = 1;   // one request queue
    static constexpr uint16_t QUEUE_SIZE = 256;
    static constexpr uint32_t MAX_DISCARD_SECTORS = 0x400000;   // 2 GiB per DISCARD/WRITE_ZEROES

    // `serial` is what GET_ID answers (at most 20 bytes are used).
    BlockDevice(std::unique_ptr<BlockBackend> backend, std::string serial,
                BlockTuning tuning = {});

    uint32_t device_type() const override;
    uint64_t features() const override;
    size_t num_queues() const override { return NUM_QUEUES; }
    uint16_t queue_max_size() const override { return QUEUE_SIZE; }
    size_t config_size() const override;
    void read_config(uint64_t offset, std::span<uint8_t> data) const override;
    Result<void> activate(virtio::DeviceContext& ctx, uint64_t features) override;
    // Serves the queue with the driver's notifications off: drains what is available, raises
    // at most one interrupt per pass (before polling, so an interrupt-driven driver is not
    // kept waiting), polls the ring for more (poll()), and only then re-enables
    // notifications and re-checks (no lost wake-up). Stops early, leaving notifications off
    // and calling ctx.requeue(), after `tuning.max_requests` requests or `max_bytes`.
    void process_queue(virtio::DeviceContext& ctx, size_t index) noexcept override;
    void reset() noexcept override {}
    // State version 2: flush_failed u8 (0 or 1), then the capacity in sectors u64 (version 1
    // has only the flag). Requests complete within a queue pass, so a paused disk holds none.
    // A restore onto an image of another size is refused: the guest sized the disk already.
    uint16_t state_version() const override { return 2; }
    void save_state(StateWriter& out) const override;
    Result<void> restore_state(StateReader& in, uint16_t version) override;

    BlockBackend& backend() { return *backend_; }
    // Once an fdatasync failed, the page cache may have dropped dirty data: every later FLUSH
    // fails too (the guest must not believe older writes are durable).
    bool flush_failed() const { return flush_failed_; }
    std::chrono::nanoseconds poll_window() const { return poll_window_; }

private:
    // Polls the drained queue for the current window, then adapts the window: doubled (up to
    // tuning.poll) when the poll found requests, halved (down to tuning.poll / 64) when not.
    // Polling pays only while the guest's vCPU runs on another CPU; when it is descheduled, or
    // shares the I/O thread's CPU (the scheduler likes to wake the I/O thread next to the vCPU
    // that kicked it), no poll can succeed and each would take the CPU the vCPU needs. An idle
    // guest's occasional request costs the short window, not the long one.
    bool poll(virtio::Queue& q);
    // Pops and completes up to `max_requests` chains (fewer once `max_bytes` data bytes were
    // moved); returns how many.
    unsigned drain(virtio::DeviceContext& ctx, virtio::Queue& q, unsigned max_requests,
                   uint64_t max_bytes, uint64_t& bytes);
    // Handles one chain; returns the used length (0 when the chain is refused).
    uint32_t handle(const GuestMemory& mem, const virtio::DescriptorChain& chain);
    BlockStatus execute(const BlockRequest& r, virtio::ChainReader& in, virtio::ChainWriter& out);

    std::unique_ptr<BlockBackend> backend_;
    std::string serial_;
    BlockTuning tuning_;
    std::chrono::nanoseconds poll_window_;
    virtio_blk_config config_{};
    bool flush_failed_ = false;
};

} // namespace minivmm::block
