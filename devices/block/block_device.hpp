// BlockDevice: virtio-blk (Virtio 1.2 §5.2) on a BlockBackend: IN, OUT, FLUSH, GET_ID, DISCARD,
// WRITE_ZEROES; one request queue.
#pragma once

#include <memory>
#include <string>

#include <linux/virtio_blk.h>

#include "block/block_backend.hpp"
#include "block/block_request.hpp"
#include "virtio/virtio_device.hpp"

namespace minivmm::block {

class BlockDevice : public virtio::VirtioDevice {
public:
    static constexpr uint16_t QUEUE_SIZE = 256;
    static constexpr uint32_t MAX_DISCARD_SECTORS = 0x400000;   // 2 GiB per DISCARD/WRITE_ZEROES

    // `serial` is what GET_ID answers (at most 20 bytes are used).
    BlockDevice(std::unique_ptr<BlockBackend> backend, std::string serial);

    uint32_t device_type() const override;
    uint64_t features() const override;
    size_t num_queues() const override { return 1; }
    uint16_t queue_max_size() const override { return QUEUE_SIZE; }
    size_t config_size() const override;
    void read_config(uint64_t offset, std::span<uint8_t> data) const override;
    Result<void> activate(virtio::DeviceContext& ctx, uint64_t features) override;
    // Drains the queue with notifications disabled, re-enables them and re-checks (no lost
    // wakeup), and raises at most one interrupt for the batch.
    void process_queue(virtio::DeviceContext& ctx, size_t index) noexcept override;
    void reset() noexcept override {}

    BlockBackend& backend() { return *backend_; }
    // Once an fdatasync failed, the page cache may have dropped dirty data: every later FLUSH
    // fails too (the guest must not believe older writes are durable).
    bool flush_failed() const { return flush_failed_; }

private:
    // Handles one chain; returns the used length (0 when the chain is refused).
    uint32_t handle(const GuestMemory& mem, const virtio::DescriptorChain& chain);
    BlockStatus execute(const BlockRequest& r, virtio::ChainReader& in, virtio::ChainWriter& out);

    std::unique_ptr<BlockBackend> backend_;
    std::string serial_;
    virtio_blk_config config_{};
    bool flush_failed_ = false;
};

} // namespace minivmm::block
