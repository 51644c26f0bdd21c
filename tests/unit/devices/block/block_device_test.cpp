// Tests of block::BlockDevice on a fault-injecting memory backend, its config space, features,
// batching and notification suppression.
#include "block/block_device.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <linux/virtio_config.h>

#include "blk_harness.hpp"
#include "virtio/virtio_ring.hpp"

namespace minivmm::block {
namespace {

using test::BlkHarness;
using test::pattern;

constexpr uint8_t OK = VIRTIO_BLK_S_OK;
constexpr uint8_t IOERR = VIRTIO_BLK_S_IOERR;
constexpr uint8_t UNSUPP = VIRTIO_BLK_S_UNSUPP;

TEST(BlockDevice, WritesThenReadsBack) {
    BlkHarness h;
    auto data = pattern(4096, 3);
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_OUT, 8, data), OK);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), h.backend->data().begin() + 8 * 512));
    std::vector<uint8_t> in;
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_IN, 8, {}, 4096, &in), OK);
    EXPECT_EQ(in, data);
    auto used = h.drv.pop_used();
    ASSERT_TRUE(used);
    auto read = h.drv.pop_used();
    ASSERT_TRUE(read);
    EXPECT_EQ(read->len, 4096u + 1);   // data and status
}

TEST(BlockDevice, ReadSpanningSeveralDescriptors) {
    BlkHarness h;
    auto data = pattern(1536, 9);
    std::copy(data.begin(), data.end(), h.backend->data().begin());
    virtio_blk_outhdr hdr{VIRTIO_BLK_T_IN, 0, 0};
    GuestAddress ha = h.drv.alloc(16), a = h.drv.alloc(512), b = h.drv.alloc(1024), s = h.drv.alloc(1);
    h.drv.fill(ha, {reinterpret_cast<const uint8_t*>(&hdr), 16});
    h.drv.add_chain({{ha, 16, virtio::Direction::Readable}, {a, 512, virtio::Direction::Writable},
                     {b, 1024, virtio::Direction::Writable}, {s, 1, virtio::Direction::Writable}});
    h.run();
    EXPECT_EQ(h.drv.read(s, 1)[0], OK);
    auto first = h.drv.read(a, 512), second = h.drv.read(b, 1024);
    EXPECT_TRUE(std::equal(first.begin(), first.end(), data.begin()));
    EXPECT_TRUE(std::equal(second.begin(), second.end(), data.begin() + 512));
}

TEST(BlockDevice, ConfigSpaceHasCapacityAndLimits) {
    BlkHarness h(3 * test::MIB);
    virtio_blk_config c{};
    ASSERT_GE(sizeof c, h.device->config_size());
    h.device->read_config(0, {reinterpret_cast<uint8_t*>(&c), h.device->config_size()});
    EXPECT_EQ(c.capacity, 3 * test::MIB / 512);
    EXPECT_EQ(c.blk_size, 512u);
    EXPECT_EQ(c.seg_max, 254u);
    EXPECT_EQ(c.max_discard_seg, 1u);
    EXPECT_EQ(c.max_write_zeroes_seg, 1u);
    uint64_t f = h.device->features();
    for (unsigned b : std::initializer_list<unsigned>{VIRTIO_F_VERSION_1, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_SEG_MAX,
                       VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_DISCARD, VIRTIO_BLK_F_WRITE_ZEROES,
                       VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC})
        EXPECT_NE(f & (1ULL << b), 0u) << b;
    EXPECT_EQ(f & (1ULL << VIRTIO_BLK_F_RO), 0u);
}

// Refused chains are completed with length 0 and nothing written.
TEST(BlockDevice, MalformedChainsGetUsedLengthZeroAndDeviceContinues) {
    BlkHarness h;
    GuestAddress hdr = h.drv.alloc(16);
    GuestAddress st = h.drv.alloc(1);
    h.drv.fill(st, std::vector<uint8_t>{0xee});
    h.drv.add_chain({{hdr, 8, virtio::Direction::Readable}, {st, 1, virtio::Direction::Writable}});
    h.drv.add_chain({{hdr, 16, virtio::Direction::Readable}});   // no status
    h.run();
    EXPECT_EQ(h.drv.pop_used()->len, 0u);
    EXPECT_EQ(h.drv.pop_used()->len, 0u);
    EXPECT_EQ(h.drv.read(st, 1)[0], 0xee);
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_IN, 0, {}, 512), OK);
    EXPECT_FALSE(h.ctx.needs_reset);
}

// No backend call, disk unchanged.
TEST(BlockDevice, BadLengthsAndRangesAreIoErrWithNoIo) {
    BlkHarness h;
    auto before = h.backend->data();
    const uint64_t cap = test::MIB / 512;
    auto data = pattern(1024, 1);
    for (uint64_t sector : std::initializer_list<uint64_t>{cap, cap - 1, ~0ULL, 1ULL << 55}) {
        EXPECT_EQ(h.submit(VIRTIO_BLK_T_OUT, sector, data), IOERR) << sector;
        EXPECT_EQ(h.submit(VIRTIO_BLK_T_IN, sector, {}, 1024), IOERR) << sector;
    }
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_OUT, 0, pattern(100, 1)), IOERR);
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_IN, 0, {}, 1000), IOERR);
    EXPECT_EQ(h.backend->calls(), 0u);
    EXPECT_EQ(h.backend->data(), before);
}

TEST(BlockDevice, UnknownTypeIsUnsupp) {
    BlkHarness h;
    EXPECT_EQ(h.submit(3, 0), UNSUPP);
    EXPECT_EQ(h.submit(0xffffffff, 0, {}, 512), UNSUPP);
    EXPECT_EQ(h.backend->calls(), 0u);
}

TEST(BlockDevice, GetIdAnswersTheSerial) {
    BlkHarness h(test::MIB, false, 0, "serial-0123456789-ABCDEF");   // longer than 20
    std::vector<uint8_t> id;
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_GET_ID, 0, {}, 20, &id), OK);
    EXPECT_EQ(std::string(id.begin(), id.end()), "serial-0123456789-AB");
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_GET_ID, 0, {}, 19, &id), IOERR);
    BlkHarness s(test::MIB, false, 0, "vm1");
    EXPECT_EQ(s.submit(VIRTIO_BLK_T_GET_ID, 0, {}, 64, &id), OK);
    EXPECT_EQ(id[0], 'v');
    EXPECT_EQ(id[3], 0);
}

TEST(BlockDevice, FlushCallsTheBackendOncePerFlush) {
    BlkHarness h;
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_FLUSH, 0), OK);
    EXPECT_EQ(h.backend->flushes, 1u);
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_FLUSH, 99, pattern(512, 0)), OK);
    EXPECT_EQ(h.backend->flushes, 2u);
}

TEST(BlockDevice, ReadOnlyDiskAdvertisesRoAndRefusesWrites) {
    BlkHarness h(test::MIB, true);
    EXPECT_NE(h.device->features() & (1ULL << VIRTIO_BLK_F_RO), 0u);
    EXPECT_EQ(h.device->features() & (1ULL << VIRTIO_BLK_F_DISCARD), 0u);
    h.backend->data()[0] = 0x42;
    auto before = h.backend->data();
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_OUT, 0, pattern(512, 1)), IOERR);
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_FLUSH, 0), IOERR);
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_WRITE_ZEROES, 0, test::segment(0, 1, 0)), IOERR);
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_DISCARD, 0, test::segment(0, 1, 0)), IOERR);
    EXPECT_EQ(h.backend->data(), before);
    EXPECT_EQ(h.backend->writes + h.backend->flushes + h.backend->zeroes, 0u);
    std::vector<uint8_t> in;
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_IN, 0, {}, 512, &in), OK);
    EXPECT_EQ(in[0], 0x42);
}

// Host errors are IOERR, never OK.
TEST(BlockDevice, HostErrorsBecomeIoErr) {
    BlkHarness h;
    h.backend->read_errno = EIO;
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_IN, 0, {}, 512), IOERR);
    h.backend->write_errno = ENOSPC;
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_OUT, 0, pattern(512, 0)), IOERR);
    h.backend->write_errno = EIO;
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_OUT, 0, pattern(512, 0)), IOERR);
    h.backend->read_errno = h.backend->write_errno = 0;
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_IN, 0, {}, 512), OK);
}

TEST(BlockDevice, FailedFlushFailsEveryLaterFlush) {
    BlkHarness h;
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_FLUSH, 0), OK);
    h.backend->flush_failures = 1;
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_FLUSH, 0), IOERR);
    EXPECT_TRUE(h.device->flush_failed());
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_FLUSH, 0), IOERR);
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_OUT, 0, pattern(512, 0)), OK);
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_FLUSH, 0), IOERR);
    EXPECT_EQ(h.backend->flush_failures, 0u);
}

// What was acknowledged before a successful FLUSH survives a crash (the backend's
// durable image); a FLUSH is acknowledged only after the backend's flush returned.
TEST(BlockDevice, AcknowledgedFlushCoversEveryEarlierWrite) {
    BlkHarness h;
    auto a = pattern(4096, 1), b = pattern(4096, 2);
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_OUT, 0, a), OK);
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_OUT, 64, b), OK);
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_FLUSH, 0), OK);
    EXPECT_TRUE(std::equal(a.begin(), a.end(), h.backend->durable.begin()));
    EXPECT_TRUE(std::equal(b.begin(), b.end(), h.backend->durable.begin() + 64 * 512));
    h.backend->flush_failures = 1;
    auto c = pattern(512, 3);
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_OUT, 200, c), OK);
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_FLUSH, 0), IOERR);   // not durable, and not claimed to be
    EXPECT_FALSE(std::equal(c.begin(), c.end(), h.backend->durable.begin() + 200 * 512));
}

TEST(BlockDevice, WriteZeroesAndDiscardTouchOnlyTheirRange) {
    BlkHarness h;
    std::fill(h.backend->data().begin(), h.backend->data().end(), uint8_t{0xab});
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_WRITE_ZEROES, 0, test::segment(2, 3, 0)), OK);
    auto& d = h.backend->data();
    EXPECT_EQ(d[2 * 512 - 1], 0xab);
    EXPECT_EQ(d[2 * 512], 0);
    EXPECT_EQ(d[5 * 512 - 1], 0);
    EXPECT_EQ(d[5 * 512], 0xab);
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_DISCARD, 0, test::segment(8, 8, 0)), OK);
    EXPECT_EQ(h.backend->discards, 1u);
}

TEST(BlockDevice, BatchRaisesOneInterrupt) {
    BlkHarness h;
    std::vector<test::BlkReply> replies;
    for (int i = 0; i < 32; ++i) replies.push_back(h.add(VIRTIO_BLK_T_IN, static_cast<uint64_t>(i), {}, 512));
    h.run();
    for (auto& r : replies) EXPECT_EQ(h.status(r), OK);
    EXPECT_EQ(h.drv.used_idx(), 32);
    EXPECT_EQ(h.ctx.used_signals, 1u);
    // Notifications are enabled again once the queue is drained.
    EXPECT_EQ(h.drv.used_flags() & VRING_USED_F_NO_NOTIFY, 0);
}

TEST(BlockDevice, EventIdxSuppressesInterruptsUntilUsedEvent) {
    BlkHarness h(test::MIB, false, virtio::FEATURE_EVENT_IDX);
    h.add(VIRTIO_BLK_T_IN, 0, {}, 512);
    h.run();
    EXPECT_EQ(h.ctx.used_signals, 1u);   // the first completion always interrupts
    h.drv.set_used_event(5);             // then: interrupt once used idx passes 5
    for (int i = 0; i < 3; ++i) h.add(VIRTIO_BLK_T_IN, 0, {}, 512);
    h.run();
    EXPECT_EQ(h.ctx.used_signals, 1u);
    EXPECT_EQ(h.drv.avail_event(), 4);   // the device asks to be notified for the next one
    for (int i = 0; i < 3; ++i) h.add(VIRTIO_BLK_T_IN, 0, {}, 512);
    h.run();
    EXPECT_EQ(h.ctx.used_signals, 2u);
}

TEST(BlockDevice, FollowsIndirectTables) {
    BlkHarness h(test::MIB, false, virtio::FEATURE_INDIRECT_DESC);
    auto data = pattern(512, 5);
    std::copy(data.begin(), data.end(), h.backend->data().begin() + 512);
    virtio_blk_outhdr hdr{VIRTIO_BLK_T_IN, 0, 1};
    GuestAddress ha = h.drv.alloc(16), da = h.drv.alloc(512), sa = h.drv.alloc(1);
    h.drv.fill(ha, {reinterpret_cast<const uint8_t*>(&hdr), 16});
    vring_desc table[3] = {{ha.value(), 16, VRING_DESC_F_NEXT, 1},
                           {da.value(), 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2},
                           {sa.value(), 1, VRING_DESC_F_WRITE, 0}};
    GuestAddress ta = h.drv.alloc(sizeof table);
    h.drv.fill(ta, {reinterpret_cast<const uint8_t*>(table), sizeof table});
    h.drv.write_desc(0, {ta.value(), sizeof table, VRING_DESC_F_INDIRECT, 0});
    h.drv.push_head(0);
    h.run();
    EXPECT_EQ(h.drv.read(sa, 1)[0], OK);
    EXPECT_EQ(h.drv.read(da, 512), data);
}

// A driver that never lets the queue run dry must not keep the I/O thread: after its request
// budget the device yields, notifications still off, and asks to be called again.
TEST(BlockDevice, YieldsAfterItsRequestBudgetWithNotificationsOff) {
    BlkHarness h(test::MIB, false, 0, "s", BlockTuning{std::chrono::nanoseconds(0), 4, 1 << 20});
    for (int i = 0; i < 10; ++i) h.add(VIRTIO_BLK_T_IN, static_cast<uint64_t>(i), {}, 512);
    h.run();
    EXPECT_EQ(h.drv.used_idx(), 4);
    EXPECT_EQ(h.ctx.requeues, 1u);
    EXPECT_EQ(h.ctx.used_signals, 1u);   // what was done is signalled before yielding
    EXPECT_NE(h.drv.used_flags() & VRING_USED_F_NO_NOTIFY, 0);
    h.device->process_queue(h.ctx, 0);
    EXPECT_EQ(h.drv.used_idx(), 8);
    EXPECT_EQ(h.ctx.requeues, 2u);
    h.device->process_queue(h.ctx, 0);
    EXPECT_EQ(h.drv.used_idx(), 10);
    EXPECT_EQ(h.ctx.requeues, 2u);       // drained: no further call asked for
    EXPECT_EQ(h.drv.used_flags() & VRING_USED_F_NO_NOTIFY, 0);
}

TEST(BlockDevice, YieldsAfterItsByteBudget) {
    BlkHarness h(test::MIB, false, 0, "s", BlockTuning{std::chrono::nanoseconds(0), 256, 8192});
    for (int i = 0; i < 4; ++i) h.add(VIRTIO_BLK_T_IN, 0, {}, 4096);
    h.run();
    EXPECT_EQ(h.drv.used_idx(), 2);   // 2 x (16 + 4096 + 1) bytes reach the 8 KiB budget
    EXPECT_EQ(h.ctx.requeues, 1u);
    h.device->process_queue(h.ctx, 0);
    EXPECT_EQ(h.drv.used_idx(), 4);
}

// The device keeps polling the drained ring, notifications off, and serves a request the
// driver adds meanwhile in the same call, with one interrupt per pass.
TEST(BlockDevice, KeepsPollingWithNotificationsOffAndServesRequestsAddedMeanwhile) {
    BlkHarness h(test::MIB, false, 0, "s",
                 BlockTuning{std::chrono::milliseconds(300), 256, 1 << 20});
    h.add(VIRTIO_BLK_T_IN, 0, {}, 512);
    h.drv.publish();
    uint16_t flags_while_polling = 0;
    test::BlkReply second{};
    std::thread driver([&] {
        while (h.drv.used_idx() != 1) std::this_thread::yield();   // acquire: the first is done
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        flags_while_polling = h.drv.used_flags();
        second = h.add(VIRTIO_BLK_T_IN, 1, {}, 512);
        h.drv.publish();
    });
    h.device->process_queue(h.ctx, 0);
    driver.join();
    EXPECT_NE(flags_while_polling & VRING_USED_F_NO_NOTIFY, 0);
    EXPECT_EQ(h.drv.used_idx(), 2);
    EXPECT_EQ(h.status(second), OK);
    EXPECT_EQ(h.ctx.used_signals, 2u);
    EXPECT_EQ(h.drv.used_flags() & VRING_USED_F_NO_NOTIFY, 0);
}

// Polls that find nothing halve the window, down to 1/64 of the longest poll.
TEST(BlockDevice, PollWindowHalvesWhilePollsFindNothing) {
    using std::chrono::microseconds;
    BlkHarness h(test::MIB, false, 0, "s", BlockTuning{microseconds(64), 256, 1 << 20});
    EXPECT_EQ(h.device->poll_window(), microseconds(64));
    for (long want : {32, 16, 8, 4, 2, 1, 1, 1}) {
        EXPECT_EQ(h.submit(VIRTIO_BLK_T_IN, 0, {}, 512), OK);
        EXPECT_EQ(h.device->poll_window(), microseconds(want));
    }
}

// A poll that finds a request doubles the window again (up to the longest poll): the failed
// poll that ends the call then lasts the doubled window. (Windows of hundreds of ms: the driver
// thread must be scheduled inside the halved one, and on a loaded 2-core machine a 40 ms margin
// was once not enough.)
TEST(BlockDevice, PollWindowDoublesWhenAPollFindsARequest) {
    using namespace std::chrono;
    BlkHarness h(test::MIB, false, 0, "s", BlockTuning{milliseconds(400), 256, 1 << 20});
    EXPECT_EQ(h.submit(VIRTIO_BLK_T_IN, 0, {}, 512), OK);   // the poll fails: 200 ms
    EXPECT_EQ(h.device->poll_window(), milliseconds(200));
    h.add(VIRTIO_BLK_T_IN, 0, {}, 512);
    h.drv.publish();
    std::thread driver([&] {
        while (h.drv.used_idx() != 2) std::this_thread::yield();
        std::this_thread::sleep_for(milliseconds(10));   // inside the 200 ms window
        h.add(VIRTIO_BLK_T_IN, 1, {}, 512);
        h.drv.publish();
    });
    const auto t0 = steady_clock::now();
    h.device->process_queue(h.ctx, 0);
    const auto took = steady_clock::now() - t0;
    driver.join();
    EXPECT_EQ(h.drv.used_idx(), 3);
    EXPECT_GE(took, milliseconds(410));   // 10 ms until the request, then a 400 ms poll
    EXPECT_EQ(h.device->poll_window(), milliseconds(200));
}

TEST(BlockDevice, BrokenRingLeavesTheResetToTheTransport) {
    BlkHarness h;
    h.drv.set_avail_idx(1000);
    h.device->process_queue(h.ctx, 0);
    EXPECT_TRUE(h.ctx.queue(0).broken());
    EXPECT_EQ(h.backend->calls(), 0u);
}

} // namespace
} // namespace minivmm::block
