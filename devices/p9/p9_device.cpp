// P9Device (see p9_device.hpp).
#include "p9/p9_device.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <linux/virtio_9p.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include "virtio/virtio_ring.hpp"

#include "base/log.hpp"
#include "p9/p9_protocol.hpp"
#include "virtio/chain_io.hpp"

namespace minivmm::p9 {

namespace {
constexpr uint64_t bit(unsigned n) { return uint64_t{1} << n; }
} // namespace

P9Device::P9Device(std::string tag, std::unique_ptr<P9Server> server, P9Tuning tuning)
    : tag_(std::move(tag)), server_(std::move(server)), tuning_(tuning) {
    // le16 tag length, then the tag (no NUL); ShareSpec bounds the tag to 31 bytes.
    config_.resize(2 + tag_.size());
    config_[0] = static_cast<uint8_t>(tag_.size() & 0xff);
    config_[1] = static_cast<uint8_t>(tag_.size() >> 8);
    std::memcpy(config_.data() + 2, tag_.data(), tag_.size());
}

uint32_t P9Device::device_type() const { return VIRTIO_ID_9P; }

uint64_t P9Device::features() const {
    return bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_9P_MOUNT_TAG) | bit(VIRTIO_RING_F_INDIRECT_DESC);
}

void P9Device::read_config(uint64_t offset, std::span<uint8_t> data) const {
    // The core checked offset + size <= config_size().
    std::memcpy(data.data(), config_.data() + offset, data.size());
}

Result<void> P9Device::activate(virtio::DeviceContext&, uint64_t) { return {}; }

void P9Device::reset() noexcept { server_->end_session(); }

// Serves requests until the ring is empty or the pass's share is used. Notifications stay on:
// a request the driver adds after pop() found none is notified.
void P9Device::process_queue(virtio::DeviceContext& ctx, size_t index) noexcept {
    virtio::Queue& q = ctx.queue(index);
    if (!q.ready()) return;
    unsigned served = 0;
    uint64_t bytes = 0;
    while (q.available() != 0) {
        if (served >= tuning_.max_requests || bytes >= tuning_.max_bytes) {
            ctx.requeue(index);   // the core calls us again after the loop's other sources
            break;
        }
        auto head = q.pop();
        if (!head) break;   // a broken ring: the core sets DEVICE_NEEDS_RESET
        uint32_t used = 0;
        if (auto chain = q.chain(*head)) {
            used = handle(ctx.memory(), *chain);
            bytes += uint64_t{chain->readable_len()} + chain->writable_len();
        } else {
            log(LogLevel::Debug, "virtio-9p: chain refused: {}", chain.error().message());
        }
        if (used == 0) ++counters_.refused;
        (void)q.add_used(*head, used);   // cannot fail: the head was just popped
        ++served;
        ++counters_.requests;
    }
    if (served > 0 && q.needs_notification()) ctx.signal_used();
}

// Guest-controlled: the chain's shape and every byte of the request. The size field is checked
// against the negotiated msize and the readable bytes before anything is copied, so the
// buffers never exceed P9Server::MAX_MSIZE.
uint32_t P9Device::handle(const GuestMemory& mem, const virtio::DescriptorChain& chain) {
    virtio::ChainReader in(mem, chain);
    virtio::ChainWriter out(mem, chain);
    uint8_t header[HEADER_SIZE];
    if (!in.read(header)) return 0;
    WireReader h(header);
    const uint32_t size = h.u32();
    const size_t capacity = static_cast<size_t>(std::min<uint64_t>(out.remaining(), server_->msize()));
    if (size < HEADER_SIZE || size > server_->msize() || size - HEADER_SIZE > in.remaining()) {
        // Not a message we can read: an Rlerror for its tag, if there is room for one.
        WireWriter e(reply_, capacity);
        e.u32(HEADER_SIZE + 4);
        e.u8(RLERROR);
        e.u16(static_cast<uint16_t>(header[5] | (header[6] << 8)));
        e.u32(EINVAL);
        if (!e.ok() || !out.write(reply_)) return 0;
        return out.bytes_written();
    }
    request_.resize(size);
    std::memcpy(request_.data(), header, HEADER_SIZE);
    if (!in.read({request_.data() + HEADER_SIZE, size - HEADER_SIZE})) return 0;
    if (!server_->handle(request_, reply_, capacity)) return 0;
    if (!out.write(reply_)) return 0;
    return out.bytes_written();
}

} // namespace minivmm::p9
