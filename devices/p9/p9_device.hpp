// P9Device: virtio-9p (Virtio 1.2 §5.17 is silent on the protocol; Linux's net/9p/trans_virtio
// is the driver): device type 9, feature VIRTIO_9P_MOUNT_TAG, configuration space = le16 tag
// length + the tag. One request queue; each chain carries one 9P2000.L request in its readable
// buffers and gets the reply in its writable ones. The requests are served on the I/O thread,
// one after the other, by a P9Server.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "p9/p9_server.hpp"
#include "virtio/virtio_device.hpp"

namespace minivmm::p9 {

struct P9Tuning {
    // The most one process_queue call serves before it yields the I/O thread (and the core's
    // lock) to the other devices (DeviceContext::requeue), as virtio-blk's BlockTuning does.
    unsigned max_requests = 64;
    uint64_t max_bytes = uint64_t{8} << 20;
};

class P9Device final : public virtio::VirtioDevice {
public:
    static constexpr size_t NUM_QUEUES = 1;
    static constexpr uint16_t QUEUE_SIZE = 128;   // Linux's client sizes its lists for 128

    P9Device(std::string tag, std::unique_ptr<P9Server> server, P9Tuning tuning = {});

    uint32_t device_type() const override;
    uint64_t features() const override;
    size_t num_queues() const override { return NUM_QUEUES; }
    uint16_t queue_max_size() const override { return QUEUE_SIZE; }
    size_t config_size() const override { return config_.size(); }
    void read_config(uint64_t offset, std::span<uint8_t> data) const override;
    Result<void> activate(virtio::DeviceContext& ctx, uint64_t features) override;
    void process_queue(virtio::DeviceContext& ctx, size_t index) noexcept override;
    // The driver reset the device: a new 9P session will begin with Tversion, which drops the
    // old fids; they are dropped now already (open files closed).
    void reset() noexcept override;

    P9Server& server() { return *server_; }
    struct Counters {
        uint64_t requests = 0;
        uint64_t refused = 0;   // chains completed empty (no request, no room for a reply)
    };
    const Counters& counters() const { return counters_; }

private:
    // One chain: the request read whole (its size field checked against msize and the chain),
    // the reply written; returns the used length.
    uint32_t handle(const GuestMemory& mem, const virtio::DescriptorChain& chain);

    std::string tag_;
    std::unique_ptr<P9Server> server_;
    P9Tuning tuning_;
    std::vector<uint8_t> config_;
    std::vector<uint8_t> request_, reply_;
    Counters counters_;
};

} // namespace minivmm::p9
