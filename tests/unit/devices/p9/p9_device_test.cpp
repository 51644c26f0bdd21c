// virtio-9p against plain guest memory: GuestDriver plays Linux's transport (a request in the
// readable buffers, room for the reply in the writable ones), the server a temporary share.
#include "p9/p9_device.hpp"

#include <cerrno>
#include <gtest/gtest.h>
#include <linux/virtio_9p.h>
#include <linux/virtio_ids.h>

#include "fake_device_context.hpp"
#include "guest_driver.hpp"
#include "p9_client.hpp"
#include "share_tree.hpp"
#include "test_memory.hpp"

namespace minivmm::p9::test {
namespace {

using minivmm::test::DriverBuffer;
using virtio::Direction;

std::vector<uint8_t> message(uint8_t type, uint16_t tag, const std::function<void(WireWriter&)>& body) {
    std::vector<uint8_t> m;
    WireWriter w(m, 1 << 20);
    w.u32(0);
    w.u8(type);
    w.u16(tag);
    body(w);
    w.patch_u32(0, static_cast<uint32_t>(m.size()));
    return m;
}

struct Rig {
    Rig()
        : mem(minivmm::test::make_memory({{GuestAddress(0), 4 * minivmm::test::MIB}})),
          drv(mem, 64), ctx(mem, 1, 64),
          device("hostshare", tree.server(Access::ReadWrite)) {
        drv.configure(ctx.queue(0), 0);
        if (!ctx.queue(0).activate(mem)) throw std::runtime_error("queue activation");
        if (!device.activate(ctx, device.features())) throw std::runtime_error("activate");
    }
    // One request split over readable buffers of `pieces` bytes (the rest in the last), and
    // one writable buffer of `room` bytes; served; returns the reply (used length bytes).
    std::vector<uint8_t> serve(const std::vector<uint8_t>& request, uint32_t room,
                               std::vector<uint32_t> pieces = {}) {
        std::vector<DriverBuffer> bufs;
        size_t at = 0;
        pieces.push_back(static_cast<uint32_t>(request.size()));
        for (uint32_t p : pieces) {
            const uint32_t len = static_cast<uint32_t>(std::min<size_t>(p, request.size() - at));
            if (len == 0) break;
            GuestAddress a = drv.alloc(len);
            drv.fill(a, {request.data() + at, len});
            bufs.push_back({a, len, Direction::Readable});
            at += len;
        }
        GuestAddress out = drv.alloc(room == 0 ? 1 : room);
        if (room > 0) bufs.push_back({out, room, Direction::Writable});
        drv.add_chain(bufs);
        drv.publish();
        device.process_queue(ctx, 0);
        auto used = drv.pop_used();
        if (!used) throw std::runtime_error("no used entry");
        return drv.read(out, used->len);
    }

    ShareTree tree;
    GuestMemory mem;
    minivmm::test::GuestDriver drv;
    minivmm::test::FakeDeviceContext ctx;
    P9Device device;
};

TEST(P9Device, IsTypeNineWithItsTagInTheConfiguration) {
    Rig rig;
    EXPECT_EQ(rig.device.device_type(), uint32_t{VIRTIO_ID_9P});
    EXPECT_EQ(rig.device.device_type(), 9u);
    EXPECT_NE(rig.device.features() & (uint64_t{1} << VIRTIO_9P_MOUNT_TAG), 0u);
    EXPECT_NE(rig.device.features() & (uint64_t{1} << 32), 0u);   // VERSION_1
    EXPECT_EQ(rig.device.num_queues(), 1u);
    ASSERT_EQ(rig.device.config_size(), 2u + 9u);
    std::vector<uint8_t> config(rig.device.config_size());
    rig.device.read_config(0, config);
    EXPECT_EQ(config, (std::vector<uint8_t>{9, 0, 'h', 'o', 's', 't', 's', 'h', 'a', 'r', 'e'}));
}

TEST(P9Device, ServesRequestsSplitOverBuffers) {
    Rig rig;
    auto version = message(TVERSION, NOTAG, [](WireWriter& w) {
        w.u32(65536);
        w.str("9P2000.L");
    });
    auto reply = rig.serve(version, 128, {3, 5});
    WireReader r(reply);
    EXPECT_EQ(r.u32(), reply.size());
    EXPECT_EQ(r.u8(), TVERSION + 1);
    EXPECT_EQ(r.u16(), NOTAG);
    EXPECT_EQ(r.u32(), 65536u);
    EXPECT_EQ(rig.ctx.used_signals, 1u);
    auto attach = message(TATTACH, 1, [](WireWriter& w) {
        w.u32(0);
        w.u32(NOFID);
        w.str("");
        w.str("");
        w.u32(0);
    });
    reply = rig.serve(attach, 64, {1, 1, 1, 1, 1, 1, 1, 1});
    ASSERT_EQ(reply.size(), HEADER_SIZE + QID_SIZE);
    EXPECT_EQ(reply[4], TATTACH + 1);
    EXPECT_EQ(rig.device.server().fid_count(), 1u);
}

TEST(P9Device, AMessageItCannotReadGetsEinvalForItsTag) {
    Rig rig;
    auto clunk = message(TCLUNK, 77, [](WireWriter& w) { w.u32(0); });
    auto lying = clunk;
    lying[0] = 200;   // says 200 bytes, has 11
    auto reply = rig.serve(lying, 64);
    ASSERT_EQ(reply.size(), 11u);
    WireReader r(reply);
    (void)r.u32();
    EXPECT_EQ(r.u8(), RLERROR);
    EXPECT_EQ(r.u16(), 77);
    EXPECT_EQ(r.u32(), uint32_t{EINVAL});
    auto huge = clunk;
    huge[3] = 0x7f;   // far past msize
    EXPECT_EQ(rig.serve(huge, 64).size(), 11u);
    auto tiny = clunk;
    tiny[0] = 3;      // shorter than a header
    EXPECT_EQ(rig.serve(tiny, 64).size(), 11u);
    EXPECT_EQ(rig.serve(clunk, 0).size(), 0u);    // no room for any reply: completed empty
    EXPECT_EQ(rig.serve(clunk, 10).size(), 0u);   // nor for an Rlerror
    EXPECT_EQ(rig.serve({1, 2, 3}, 64).size(), 0u);   // not even a header
    EXPECT_EQ(rig.device.counters().refused, 3u);
}

TEST(P9Device, AResetEndsTheSession) {
    Rig rig;
    rig.serve(message(TVERSION, NOTAG, [](WireWriter& w) {
                  w.u32(65536);
                  w.str("9P2000.L");
              }),
              64);
    rig.serve(message(TATTACH, 1, [](WireWriter& w) {
                  w.u32(0);
                  w.u32(NOFID);
                  w.str("");
                  w.str("");
                  w.u32(0);
              }),
              64);
    EXPECT_EQ(rig.device.server().fid_count(), 1u);
    rig.device.reset();
    EXPECT_EQ(rig.device.server().fid_count(), 0u);
}

} // namespace
} // namespace minivmm::p9::test
