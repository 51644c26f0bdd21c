// libFuzzer target for virtio-blk: a queue of 1-64 entries and up to 16
// structured requests (types mostly valid, sectors mostly in range, rarely flipped flags and
// odd lengths) into a BlockDevice on a 1 MiB memory disk, read-only or not. Oracles:
//  - every request the driver published is on the used ring (or the queue is broken), after
//    calling the device again for as long as it yields with work left (its request budget);
//  - guest memory changes only inside buffers the driver marked device-writable;
//  - a status byte (0x5a until then), when written, is OK, IOERR or UNSUPP;
//  - no backend call reaches past the end of the disk; a read-only disk never changes.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <linux/virtio_blk.h>
#include <vector>

#include "base/log.hpp"
#include "block/block_device.hpp"
#include "fake_device_context.hpp"
#include "fuzz_chains.hpp"
#include "guest_driver.hpp"

using namespace minivmm;

namespace {

constexpr uint64_t MEM_SIZE = 384 * 1024;
constexpr uint64_t DATA_BASE = 0x10000;   // request buffers live above the rings
constexpr uint64_t DISK_SIZE = 1 << 20;
constexpr size_t MAX_REQUESTS = 16;

// A memory disk over one static buffer (re-filled per input, no 1 MiB allocation per run) that
// traps on any call outside the disk (the device must range-check first) and on writes to a
// read-only disk.
class CheckedBackend : public block::BlockBackend {
public:
    CheckedBackend(std::vector<uint8_t>& data, bool ro) : data_(data), ro_(ro) {}
    uint64_t size() const override { return data_.size(); }
    bool read_only() const override { return ro_; }
    Result<void> read_at(uint64_t o, std::span<uint8_t> out) override {
        check(o, out.size());
        std::memcpy(out.data(), data_.data() + o, out.size());
        return {};
    }
    Result<void> write_at(uint64_t o, std::span<const uint8_t> in) override {
        check(o, in.size());
        if (ro_) __builtin_trap();
        std::memcpy(data_.data() + o, in.data(), in.size());
        return {};
    }
    Result<void> flush() override { return {}; }
    Result<void> discard(uint64_t o, uint64_t len) override {
        check(o, len);
        return {};
    }
    Result<void> write_zeroes(uint64_t o, uint64_t len, bool) override {
        check(o, len);
        if (ro_) __builtin_trap();
        std::memset(data_.data() + o, 0, len);
        return {};
    }

private:
    void check(uint64_t o, uint64_t len) const {
        if (o > size() || len > size() - o) __builtin_trap();
    }
    std::vector<uint8_t>& data_;
    bool ro_;
};

using Desc = test::FuzzDesc;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto [mem, all] = test::fuzz_memory(MEM_SIZE, 0x5a);

    FuzzedDataProvider in(data, size);
    const bool ro = in.ConsumeProbability<float>() < 0.2f;
    const uint16_t qsize = static_cast<uint16_t>(1u << in.ConsumeIntegralInRange(0, 6));
    const bool event_idx = in.ConsumeBool();
    static const std::vector<uint8_t> pristine = [] {
        std::vector<uint8_t> d(DISK_SIZE);
        for (size_t i = 0; i < DISK_SIZE; i += 4096) d[i] = static_cast<uint8_t>(i >> 12);
        return d;
    }();
    static std::vector<uint8_t> disk(DISK_SIZE);
    std::memcpy(disk.data(), pristine.data(), DISK_SIZE);
    // No polling (it would only spin here); a request budget of 1-16, so the device also yields
    // (requeue) and is called again, as the machine does.
    const block::BlockTuning tuning{std::chrono::nanoseconds(0), in.ConsumeIntegralInRange(1u, 16u),
                                    in.ConsumeBool() ? 8192 : uint64_t{1} << 20};
    block::BlockDevice device(std::make_unique<CheckedBackend>(disk, ro), "fuzz-serial", tuning);
    test::FakeDeviceContext ctx(mem, 1, 64);
    test::GuestDriver ring(mem, qsize, GuestAddress(0x1000));
    ring.configure(ctx.queue(0), event_idx ? virtio::FEATURE_EVENT_IDX : 0);
    if (!ctx.queue(0).activate(mem)) return 0;

    static std::vector<uint8_t> writable;   // per byte above DATA_BASE: the device may write it
    writable.assign(MEM_SIZE - DATA_BASE, 0);
    std::vector<uint64_t> status_addrs;
    uint64_t next = DATA_BASE;
    uint16_t next_desc = 0;
    uint16_t published = 0;
    for (size_t r = 0; r < MAX_REQUESTS && in.remaining_bytes() > 0; ++r) {
        const bool rare = in.ConsumeProbability<float>() < 0.1f;
        std::vector<Desc> descs;
        uint32_t type = rare ? in.ConsumeIntegral<uint32_t>()
                             : in.PickValueInArray({0u, 1u, 4u, 8u, 11u, 13u});
        uint64_t sector = in.ConsumeProbability<float>() < 0.9f
                              ? in.ConsumeIntegralInRange<uint64_t>(0, DISK_SIZE / 512 + 2)
                              : in.ConsumeIntegral<uint64_t>();
        virtio_blk_outhdr hdr{type, 0, sector};
        uint32_t hdr_len = rare ? in.ConsumeIntegralInRange<uint32_t>(0, 20) : 16;
        descs.push_back({next, hdr_len, false});
        std::memcpy(all.data() + next, &hdr, sizeof hdr);
        next += 32;
        unsigned ndata = in.ConsumeIntegralInRange(0u, 3u);
        for (unsigned d = 0; d < ndata; ++d) {
            uint32_t len = rare ? in.ConsumeIntegralInRange<uint32_t>(0, 5000)
                                : 512u * in.ConsumeIntegralInRange<uint32_t>(0, 8);
            bool w = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
            if (rare && in.ConsumeBool()) w = !w;
            if (type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES) {
                virtio_blk_discard_write_zeroes seg{in.ConsumeIntegralInRange<uint64_t>(0, 2100),
                                                    in.ConsumeIntegralInRange<uint32_t>(0, 300),
                                                    in.ConsumeIntegralInRange<uint32_t>(0, 2)};
                std::memcpy(all.data() + next, &seg, sizeof seg);
                len = rare ? len : 16;
            }
            if (next + len + 64 > MEM_SIZE) break;
            descs.push_back({next, len, w});
            next = (next + len + 15) & ~uint64_t{15};
        }
        if (!(rare && in.ConsumeBool())) {   // status, 0x5a until the device writes it
            all[next] = 0x5a;   // a zero-length segment descriptor may have put its bytes here
            descs.push_back({next, 1, true});
        }
        next += 16;
        // Readable descriptors must precede writable ones or the chain is refused: either way.
        if (descs.size() > static_cast<size_t>(qsize - next_desc)) break;
        const uint16_t head = test::write_fuzz_chain(ring, next_desc, descs, writable, DATA_BASE);
        if (descs.back().writable && descs.back().len == 1) status_addrs.push_back(descs.back().addr);
        ring.push_head(head);
        ++published;
    }
    ring.publish();
    // Everything above DATA_BASE is 0x5a or request bytes; keep a copy of what was used.
    const uint64_t used_end = std::min<uint64_t>(next + 64, MEM_SIZE);
    const std::vector<uint8_t> mem_before(all.begin() + DATA_BASE, all.begin() + static_cast<long>(used_end));
    device.process_queue(ctx, 0);
    // Called again as long as the device yields with work left: at most once per request.
    for (unsigned calls = 1; ctx.requeues == calls; ++calls) {
        if (calls > MAX_REQUESTS) __builtin_trap();
        device.process_queue(ctx, 0);
    }

    // Liveness: everything published was completed, unless the ring itself was broken.
    if (!ctx.queue(0).broken() && ring.used_idx() != published) __builtin_trap();
    // Guest memory: changes only inside device-writable buffers.
    for (uint64_t a = DATA_BASE; a < used_end; ++a)
        if (all[a] != mem_before[a - DATA_BASE] && !writable[a - DATA_BASE]) __builtin_trap();
    for (uint64_t a = used_end; a < MEM_SIZE; a += 8)   // untouched area: a cheap sample
        if (all[a] != 0x5a) __builtin_trap();
    for (uint64_t s : status_addrs)
        if (all[s] != 0x5a && all[s] > VIRTIO_BLK_S_UNSUPP) __builtin_trap();
    if (ro && std::memcmp(disk.data(), pristine.data(), DISK_SIZE) != 0) __builtin_trap();
    return 0;
}
