// Shared by the virtio-blk unit tests: guest memory with one driver-side queue, and requests
// built the way Linux lays them out (header, data, status in separate descriptors).
#pragma once

#include <cstring>
#include <linux/virtio_blk.h>
#include <vector>

#include "block/block_device.hpp"
#include "fake_device_context.hpp"
#include "faulty_block_backend.hpp"
#include "guest_driver.hpp"
#include "test_memory.hpp"

namespace minivmm::test {

struct BlkReply {
    uint16_t head;
    GuestAddress status_addr;
    GuestAddress data_addr;
    uint32_t data_len;
};

class BlkHarness {
public:
    explicit BlkHarness(uint64_t disk_size = MIB, bool read_only = false, uint64_t features = 0,
                        std::string serial = "disk-serial", block::BlockTuning tuning = {})
        : mem(make_memory({{GuestAddress(0), 8 * MIB}})), drv(mem, 256), ctx(mem, 1, 256) {
        auto b = std::make_unique<FaultyBlockBackend>(disk_size, read_only);
        backend = b.get();
        device = std::make_unique<block::BlockDevice>(std::move(b), std::move(serial), tuning);
        drv.configure(ctx.queue(0), features);
        if (!ctx.queue(0).activate(mem)) throw std::runtime_error("queue activation");
    }

    // Adds (not published) a request: header, `out` as readable data, `in_len` writable data
    // bytes, then a 1-byte status descriptor.
    BlkReply add(uint32_t type, uint64_t sector, std::span<const uint8_t> out = {},
                 uint32_t in_len = 0) {
        virtio_blk_outhdr hdr{type, 0, sector};
        GuestAddress h = drv.alloc(sizeof hdr);
        drv.fill(h, {reinterpret_cast<const uint8_t*>(&hdr), sizeof hdr});
        std::vector<DriverBuffer> bufs{{h, sizeof hdr, virtio::Direction::Readable}};
        BlkReply r{};
        if (!out.empty()) {
            GuestAddress d = drv.alloc(static_cast<uint32_t>(out.size()));
            drv.fill(d, out);
            bufs.push_back({d, static_cast<uint32_t>(out.size()), virtio::Direction::Readable});
        }
        if (in_len) {
            r.data_addr = drv.alloc(in_len);
            r.data_len = in_len;
            bufs.push_back({r.data_addr, in_len, virtio::Direction::Writable});
        }
        r.status_addr = drv.alloc(1);
        drv.fill(r.status_addr, std::vector<uint8_t>{0xee});
        bufs.push_back({r.status_addr, 1, virtio::Direction::Writable});
        r.head = drv.add_chain(bufs);
        return r;
    }
    void run() {
        drv.publish();
        device->process_queue(ctx, 0);
    }
    // One request, processed; returns its status byte (0xee if none was written).
    uint8_t submit(uint32_t type, uint64_t sector, std::span<const uint8_t> out = {},
                   uint32_t in_len = 0, std::vector<uint8_t>* in = nullptr) {
        BlkReply r = add(type, sector, out, in_len);
        run();
        if (in) *in = drv.read(r.data_addr, r.data_len);
        return status(r);
    }
    uint8_t status(const BlkReply& r) const { return drv.read(r.status_addr, 1)[0]; }

    GuestMemory mem;
    GuestDriver drv;
    FakeDeviceContext ctx;
    FaultyBlockBackend* backend = nullptr;
    std::unique_ptr<block::BlockDevice> device;
};

inline std::vector<uint8_t> pattern(size_t len, uint8_t seed) {
    std::vector<uint8_t> v(len);
    for (size_t i = 0; i < len; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
    return v;
}

inline std::vector<uint8_t> segment(uint64_t sector, uint32_t num, uint32_t flags) {
    virtio_blk_discard_write_zeroes s{sector, num, flags};
    std::vector<uint8_t> v(sizeof s);
    std::memcpy(v.data(), &s, sizeof s);
    return v;
}

} // namespace minivmm::test
