// virtio-blk device (Virtio 1.2 §5.2).
#include "block/block_device.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "base/log.hpp"
#include "virtio/virtio_ring.hpp"

namespace minivmm::block {

namespace {
// Config space up to the WRITE_ZEROES fields (the secure-erase ones are not offered).
constexpr size_t CONFIG_SIZE = offsetof(virtio_blk_config, max_secure_erase_sectors);
constexpr uint64_t bit(unsigned n) { return uint64_t{1} << n; }
} // namespace

BlockDevice::BlockDevice(std::unique_ptr<BlockBackend> backend, std::string serial,
                         BlockTuning tuning)
    : backend_(std::move(backend)), serial_(std::move(serial)), tuning_(tuning),
      poll_window_(tuning.poll) {
    config_.capacity = backend_->size() / SECTOR_SIZE;
    // A chain holds at most an indirect table of 256 entries: header and status take two.
    config_.seg_max = virtio::DescriptorChain::MAX_INDIRECT - 2;
    config_.blk_size = SECTOR_SIZE;
    config_.max_discard_sectors = MAX_DISCARD_SECTORS;
    config_.max_discard_seg = 1;
    config_.discard_sector_alignment = 1;
    config_.max_write_zeroes_sectors = MAX_DISCARD_SECTORS;
    config_.max_write_zeroes_seg = 1;
    config_.write_zeroes_may_unmap = 1;
}

uint32_t BlockDevice::device_type() const { return VIRTIO_ID_BLOCK; }

uint64_t BlockDevice::features() const {
    uint64_t f = bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_RING_F_EVENT_IDX) |
                 bit(VIRTIO_RING_F_INDIRECT_DESC) | bit(VIRTIO_BLK_F_FLUSH) |
                 bit(VIRTIO_BLK_F_SEG_MAX) | bit(VIRTIO_BLK_F_BLK_SIZE);
    if (backend_->read_only())
        f |= bit(VIRTIO_BLK_F_RO);
    else
        f |= bit(VIRTIO_BLK_F_DISCARD) | bit(VIRTIO_BLK_F_WRITE_ZEROES);
    return f;
}

size_t BlockDevice::config_size() const { return CONFIG_SIZE; }

void BlockDevice::read_config(uint64_t offset, std::span<uint8_t> data) const {
    // The core checked offset + size <= CONFIG_SIZE. Little-endian host (virtio_ring.hpp).
    std::memcpy(data.data(), reinterpret_cast<const uint8_t*>(&config_) + offset, data.size());
}

Result<void> BlockDevice::activate(virtio::DeviceContext&, uint64_t) { return {}; }

void BlockDevice::process_queue(virtio::DeviceContext& ctx, size_t index) noexcept {
    virtio::Queue& q = ctx.queue(index);
    unsigned served = 0;
    uint64_t bytes = 0;
    q.disable_notification();
    for (;;) {
        const unsigned n = drain(ctx, q, tuning_.max_requests - served, tuning_.max_bytes, bytes);
        served += n;
        if (q.broken()) return;   // the core sets DEVICE_NEEDS_RESET
        // One interrupt per pass, if the driver wants one (EVENT_IDX / NO_INTERRUPT).
        if (n > 0 && q.needs_notification()) ctx.signal_used();
        if (served >= tuning_.max_requests || bytes >= tuning_.max_bytes) {
            if (q.available() != 0) {
                ctx.requeue(index);   // notifications stay off; the core calls us again
                return;
            }
        }
        if (poll(q)) continue;
        if (!q.enable_notification()) return;   // else buffers came in just before: go on
        q.disable_notification();
    }
}

bool BlockDevice::poll(virtio::Queue& q) {
    const bool found = q.poll_available(poll_window_);
    poll_window_ = found ? std::min(tuning_.poll, poll_window_ * 2)
                         : std::max(tuning_.poll / 64, poll_window_ / 2);
    return found;
}

unsigned BlockDevice::drain(virtio::DeviceContext& ctx, virtio::Queue& q, unsigned max_requests,
                            uint64_t max_bytes, uint64_t& bytes) {
    unsigned n = 0;
    while (n < max_requests && bytes < max_bytes) {
        auto head = q.pop();
        if (!head) break;
        uint32_t used = 0;
        if (auto chain = q.chain(*head)) {
            used = handle(ctx.memory(), *chain);
            bytes += uint64_t{chain->readable_len()} + chain->writable_len();
        } else {
            log(LogLevel::Debug, "virtio-blk: chain refused: {}", chain.error().message());
        }
        (void)q.add_used(*head, used);   // cannot fail: the head was just popped
        ++n;
    }
    return n;
}

uint32_t BlockDevice::handle(const GuestMemory& mem, const virtio::DescriptorChain& chain) {
    virtio::ChainReader in(mem, chain);
    virtio::ChainWriter out(mem, chain);
    DiskInfo disk{backend_->size(), backend_->read_only(), MAX_DISCARD_SECTORS};
    auto request = parse_block_request(in, chain.writable_len(), disk);
    if (!request) {
        log(LogLevel::Debug, "{}", request.error().message());
        return 0;
    }
    BlockStatus status = request->status;
    if (status == BlockStatus::Ok) status = execute(*request, in, out);
    // The status is the last writable byte; whatever the request did not fill is left alone.
    uint8_t byte = static_cast<uint8_t>(status);
    if (!out.skip(out.remaining() - 1) || !out.write_obj(byte)) return out.bytes_written();
    return out.bytes_written();
}

BlockStatus BlockDevice::execute(const BlockRequest& r, virtio::ChainReader& in,
                                 virtio::ChainWriter& out) {
    uint64_t pos = r.offset;
    switch (r.op) {
    case BlockOp::Read: {
        auto ok = out.write_spans(r.len, [&](std::span<uint8_t> s) -> Result<void> {
            MINIVMM_TRY(backend_->read_at(pos, s));
            pos += s.size();
            return {};
        });
        return ok ? BlockStatus::Ok : BlockStatus::IoErr;
    }
    case BlockOp::Write: {
        auto ok = in.read_spans(r.len, [&](std::span<const uint8_t> s) -> Result<void> {
            MINIVMM_TRY(backend_->write_at(pos, s));
            pos += s.size();
            return {};
        });
        return ok ? BlockStatus::Ok : BlockStatus::IoErr;
    }
    case BlockOp::Flush:
        if (flush_failed_) return BlockStatus::IoErr;
        if (!backend_->flush()) {
            log(LogLevel::Error, "virtio-blk: flush failed; every later flush fails too");
            flush_failed_ = true;
            return BlockStatus::IoErr;
        }
        return BlockStatus::Ok;
    case BlockOp::GetId: {
        uint8_t id[GET_ID_BYTES] = {};   // NUL-padded; no NUL when the serial is 20 bytes
        std::memcpy(id, serial_.data(), std::min<size_t>(serial_.size(), sizeof id));
        return out.write(id) ? BlockStatus::Ok : BlockStatus::IoErr;
    }
    case BlockOp::Discard:
        return backend_->discard(r.offset, r.len) ? BlockStatus::Ok : BlockStatus::IoErr;
    case BlockOp::WriteZeroes:
        return backend_->write_zeroes(r.offset, r.len, r.unmap) ? BlockStatus::Ok
                                                                 : BlockStatus::IoErr;
    case BlockOp::None: break;
    }
    return BlockStatus::Unsupp;
}

void BlockDevice::save_state(StateWriter& out) const {
    out.u8(flush_failed_ ? 1 : 0);
    out.u64(config_.capacity);
}

Result<void> BlockDevice::restore_state(StateReader& in, uint16_t version) {
    const uint8_t failed = in.u8();
    const uint64_t own = config_.capacity;   // a copy: the field is packed
    const uint64_t capacity = version >= 2 ? in.u64() : own;
    MINIVMM_TRY(in.finish("virtio-blk state"));
    if (version < 1 || version > 2 || failed > 1)
        return Error(ErrorCode::Input,
                     fmt::format("Saved virtio-blk state: version {}, flush_failed {}", version,
                                 failed));
    if (capacity != own)
        return Error(ErrorCode::Input,
                     fmt::format("the disk image is {} bytes ({} sectors), the snapshot's "
                                 "disk had {} sectors", backend_->size(), own,
                                 capacity));
    flush_failed_ = failed == 1;
    return {};
}

} // namespace minivmm::block
