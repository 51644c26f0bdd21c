// libFuzzer target for virtio-net transmit: transmit chains of any shape
// (shorter than the header, over 64 KiB, split anywhere, with writable buffers, looping
// descriptors) under any negotiated feature set, sent to a socketpair standing in for the tap.
// Oracles: every frame the "tap" gets is header + at most MAX_FRAME_SIZE bytes and its header
// passes check_tx_header for the latched features; frames sent == tx_frames; every chain the
// driver made available is completed (used length 0), unless the ring was broken on purpose,
// also when a small transmit budget makes the device come back through EPOLLOUT wakeups.
#include <cstring>
#include <sys/epoll.h>
#include <stdexcept>

#include "base/log.hpp"
#include "net_fuzz_common.hpp"
#include "net_rig.hpp"

using namespace minivmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static bool quiet = (set_log_level(LogLevel::Off), true);
    (void)quiet;
    FuzzedDataProvider in(data, size);
    const uint16_t qsize = fuzz::queue_size(in);
    test::NetRig rig(qsize, nullptr, 4ULL << 20);
    rig.device->set_poll_ns(0);   // no spinning per input: the poll only delays the same path
    if (in.ConsumeBool()) rig.device->set_tx_budget(in.ConsumeIntegralInRange<unsigned>(1, 8));
    if (!rig.activate(fuzz::acked_features(in))) return 0;
    const uint64_t features = rig.device->negotiated_features();
    const size_t hdr_size = rig.device->header_size();

    uint16_t posted = 0;
    uint64_t data_left = 3ULL << 19;   // the transmit data area is 2 MiB (never reused)
    const unsigned chains = in.ConsumeIntegralInRange<unsigned>(1, 16);
    for (unsigned c = 0; c < chains && in.remaining_bytes() > 0; ++c) {
        const unsigned pieces = in.ConsumeIntegralInRange<unsigned>(1, 4);
        if (pieces > rig.tx.free_descriptors()) break;
        std::vector<test::DriverBuffer> bufs;
        virtio_net_hdr_v1 hdr = fuzz::header(in);
        std::vector<uint8_t> bytes(hdr_size);
        std::memcpy(bytes.data(), &hdr, hdr_size);
        for (unsigned p = 0; p < pieces; ++p) {
            uint32_t len = fuzz::buffer_len(in, 2048);
            if (len > data_left) break;
            data_left -= len + 16;
            GuestAddress a = rig.tx.alloc(len);
            std::vector<uint8_t> fill = in.ConsumeBytes<uint8_t>(len);
            fill.resize(len);
            if (p == 0 && len > 0) std::memcpy(fill.data(), bytes.data(), std::min<size_t>(len, hdr_size));
            rig.tx.fill(a, fill);
            auto dir = fuzz::rarely(in) ? virtio::Direction::Writable : virtio::Direction::Readable;
            bufs.push_back({a, len, dir});
        }
        if (bufs.empty()) break;
        uint16_t head = rig.tx.add_chain(bufs);
        ++posted;
        if (fuzz::rarely(in)) {
            // Corrupt one descriptor of the ring (next out of range, a loop, a bad address).
            vring_desc d{};
            d.addr = in.ConsumeIntegral<uint64_t>();
            d.len = in.ConsumeIntegral<uint32_t>();
            d.flags = in.ConsumeIntegral<uint16_t>();
            d.next = in.ConsumeIntegral<uint16_t>();
            rig.tx.write_desc(head, d);
        }
        if (in.ConsumeBool()) {
            rig.tx.publish();
            rig.kick_tx();
        }
    }
    rig.tx.publish();
    rig.kick_tx();

    // The event loop's part: drain the "tap", and wake the device while it asks for EPOLLOUT
    // (a send waited for room, or its budget ran out). Each wakeup makes progress.
    uint64_t frames = 0;
    for (unsigned round = 0; round < 4096; ++round) {
        while (auto m = rig.peer_recv()) {
            if (m->size() < hdr_size || m->size() - hdr_size > net::MAX_FRAME_SIZE)
                __builtin_trap();
            virtio_net_hdr_v1 sent{};
            std::memcpy(&sent, m->data(), hdr_size);
            if (net::check_tx_header(sent, features, m->size() - hdr_size) !=
                net::TxHeaderCheck::Ok)
                __builtin_trap();
            if (sent.num_buffers != 0) __builtin_trap();
            ++frames;
        }
        if (!(rig.watch.current & EPOLLOUT)) break;
        rig.backend_ready();
    }
    const auto& c = rig.device->counters();
    if (frames != c.tx_frames) __builtin_trap();
    // Liveness ("check-used"): every available chain is completed, or the device asked for a
    // reset because the ring was broken.
    if (!rig.ctx.needs_reset && rig.tx.used_idx() != posted) __builtin_trap();
    if (!rig.ctx.needs_reset && c.tx_frames + c.tx_drops() != rig.tx.used_idx()) __builtin_trap();
    return 0;
}
