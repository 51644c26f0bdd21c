// libFuzzer target for virtio-net receive: a sequence of frames (0 to
// 70 KiB, any header) "from the tap" interleaved with receive chains of any shape (tiny, split,
// device-readable) and notifications, under any negotiated feature set (MRG_RXBUF or not).
// Oracles: nothing is written outside the posted writable buffers (guard bytes around each);
// the used lengths add up to exactly the bytes delivered (used len == bytes written, dropped
// chains 0); a used length never exceeds its chain; without buffers the device stops watching
// the tap (back-pressure) and holds at most one frame.
#include <cstring>
#include <sys/epoll.h>

#include "base/log.hpp"
#include "net_fuzz_common.hpp"
#include "net_rig.hpp"

using namespace minivmm;

namespace {
constexpr uint32_t GUARD = 16;
constexpr uint8_t GUARD_BYTE = 0xa5;

struct Posted {
    GuestAddress addr;   // guard, buffer, guard
    uint32_t len;
};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static bool quiet = (set_log_level(LogLevel::Off), true);
    (void)quiet;
    FuzzedDataProvider in(data, size);
    const uint16_t qsize = fuzz::queue_size(in);
    test::NetRig rig(qsize, nullptr, 4ULL << 20);
    rig.device->set_poll_ns(0);   // no spinning per input: the poll only delays the same path
    if (!rig.activate(fuzz::acked_features(in))) return 0;
    const size_t hdr_size = rig.device->header_size();

    std::vector<Posted> posted;
    std::vector<uint32_t> chain_room(qsize, 0);   // writable bytes per head
    uint64_t data_left = 3ULL << 19;   // the receive data area is 2 MiB (never reused)
    uint64_t used_total = 0;
    const unsigned ops = in.ConsumeIntegralInRange<unsigned>(1, 48);
    for (unsigned op = 0; op < ops && in.remaining_bytes() > 0; ++op) {
        switch (in.ConsumeIntegralInRange<uint8_t>(0, 3)) {
        case 0: {   // post a receive chain
            const unsigned pieces = in.ConsumeIntegralInRange<unsigned>(1, 3);
            if (pieces > rig.rx.free_descriptors()) break;
            std::vector<test::DriverBuffer> bufs;
            uint32_t room = 0;
            for (unsigned p = 0; p < pieces; ++p) {
                uint32_t len = fuzz::buffer_len(in, 4096);
                if (uint64_t{len} + 2 * GUARD + 16 > data_left) break;
                data_left -= len + 2 * GUARD + 16;
                GuestAddress a = rig.rx.alloc(len + 2 * GUARD);
                rig.rx.fill(a, std::vector<uint8_t>(len + 2 * GUARD, GUARD_BYTE));
                auto dir = fuzz::rarely(in) ? virtio::Direction::Readable : virtio::Direction::Writable;
                bufs.push_back({a + GUARD, len, dir});
                if (dir == virtio::Direction::Writable) {
                    posted.push_back({a, len});
                    room += len;
                }
            }
            if (bufs.empty()) break;
            uint16_t head = rig.rx.add_chain(bufs);
            chain_room[head] = room;
            rig.rx.publish();
            if (in.ConsumeBool()) rig.kick_rx();
            break;
        }
        case 1: {   // a frame arrives on the "tap"
            uint32_t len = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, 70 * 1024)
                                            : in.ConsumeIntegralInRange<uint32_t>(0, 1600);
            virtio_net_hdr_v1 h = fuzz::header(in);
            std::vector<uint8_t> frame(len, static_cast<uint8_t>(op));
            if (len > 0) std::memcpy(frame.data(), &h, std::min<size_t>(len, hdr_size));
            (void)rig.peer_send(frame);   // a full "tap" drops it, as a real one does
            rig.backend_ready();
            break;
        }
        case 2:
            // Back-pressure: once the ring is empty the tap is no longer watched for input (the
            // second wakeup covers a first one that ended on its work budget).
            rig.backend_ready();
            rig.backend_ready();
            if (rig.ctx.queue(0).available() == 0 && !rig.ctx.needs_reset &&
                (rig.watch.current & EPOLLIN))
                __builtin_trap();
            break;
        case 3: rig.kick_rx(); break;
        }
        while (auto used = rig.rx.pop_used()) {
            if (used->id >= qsize || used->len > chain_room[used->id]) __builtin_trap();
            used_total += used->len;
        }
    }
    const auto& c = rig.device->counters();
    if (!rig.ctx.needs_reset && used_total != c.rx_bytes + c.rx_frames * hdr_size) __builtin_trap();
    for (const Posted& p : posted) {
        auto bytes = rig.rx.read(p.addr, p.len + 2 * GUARD);
        for (uint32_t i = 0; i < GUARD; ++i)
            if (bytes[i] != GUARD_BYTE || bytes[GUARD + p.len + i] != GUARD_BYTE) __builtin_trap();
    }
    return 0;
}
