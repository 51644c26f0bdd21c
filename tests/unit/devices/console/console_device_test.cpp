// virtio-console against plain guest memory: GuestDriver plays Linux's driver on both queues,
// a ScriptedHost plays the host end.
#include "console/console_device.hpp"

#include <gtest/gtest.h>
#include <linux/virtio_ids.h>

#include "fake_device_context.hpp"
#include "guest_driver.hpp"
#include "recording_event_sources.hpp"
#include "scripted_console_host.hpp"
#include "test_memory.hpp"

namespace minivmm::console {
namespace {

using test::DriverBuffer;
using virtio::Direction;
constexpr size_t RX = ConsoleDevice::RECEIVEQ;
constexpr size_t TX = ConsoleDevice::TRANSMITQ;

struct Rig {
    explicit Rig(ConsoleTuning tuning = {})
        : mem(test::make_memory({{GuestAddress(0), 8 * test::MIB}})),
          rx(mem, 64, GuestAddress(0x1000)), tx(mem, 64, GuestAddress(0x400000)), ctx(mem, 2, 64) {
        auto h = std::make_unique<test::ScriptedHost>();
        host = h.get();
        device = std::make_unique<ConsoleDevice>(std::move(h), events, tuning);
        rx.configure(ctx.queue(RX), 0);
        tx.configure(ctx.queue(TX), 0);
        if (!ctx.queue(RX).activate(mem) || !ctx.queue(TX).activate(mem))
            throw std::runtime_error("queue activation");
        if (!device->activate(ctx, device->features())) throw std::runtime_error("activate");
    }
    // A transmit chain of readable buffers holding `text` split at `cuts`.
    uint16_t send(const std::string& text, std::vector<size_t> lens) {
        std::vector<DriverBuffer> bufs;
        size_t at = 0;
        for (size_t len : lens) {
            GuestAddress a = tx.alloc(static_cast<uint32_t>(len));
            tx.fill(a, {reinterpret_cast<const uint8_t*>(text.data()) + at, len});
            bufs.push_back({a, static_cast<uint32_t>(len), Direction::Readable});
            at += len;
        }
        return tx.add_chain(bufs);
    }
    GuestAddress receive_buffer(uint32_t len) {
        GuestAddress a = rx.alloc(len);
        rx.add_chain({{a, len, Direction::Writable}});
        return a;
    }
    std::string out() const { return {host->out.begin(), host->out.end()}; }
    // `text` sent to a host end with room for one byte: the device holds the chain.
    void hold_output(const std::string& text) {
        host->room = 1;
        send(text, {text.size()});
        tx.publish();
        device->process_queue(ctx, TX);
    }

    GuestMemory mem;
    test::GuestDriver rx, tx;
    test::FakeDeviceContext ctx;
    test::RecordingEventSources events;
    test::ScriptedHost* host = nullptr;
    std::unique_ptr<ConsoleDevice> device;
};

TEST(ConsoleDevice, IsTypeThreeWithTwoQueuesAndAZeroConfiguration) {
    Rig rig;
    EXPECT_EQ(rig.device->device_type(), uint32_t{VIRTIO_ID_CONSOLE});
    EXPECT_EQ(rig.device->device_type(), 3u);
    EXPECT_EQ(rig.device->num_queues(), 2u);
    EXPECT_EQ(rig.device->features(), uint64_t{1} << 32);   // no MULTIPORT, SIZE, EMERG_WRITE
    EXPECT_EQ(rig.device->config_size(), 12u);
    std::vector<uint8_t> config(12, 0xff);
    rig.device->read_config(0, config);
    EXPECT_EQ(config, std::vector<uint8_t>(12, 0));
}

TEST(ConsoleDevice, SendsTheReadableBytesOfEachChainInOrder) {
    Rig rig;
    const uint16_t a = rig.send("hello, ", {3, 4});
    // A writable buffer in a transmit chain is ignored, not written.
    GuestAddress w = rig.tx.alloc(8);
    rig.tx.fill(w, std::vector<uint8_t>(8, 0xee));
    GuestAddress r = rig.tx.alloc(5);
    rig.tx.fill(r, {reinterpret_cast<const uint8_t*>("world"), 5});
    const uint16_t b = rig.tx.add_chain({{r, 5, Direction::Readable}, {w, 8, Direction::Writable}});
    rig.tx.publish();
    rig.device->process_queue(rig.ctx, TX);
    EXPECT_EQ(rig.out(), "hello, world");
    auto u1 = rig.tx.pop_used();
    auto u2 = rig.tx.pop_used();
    ASSERT_TRUE(u1 && u2);
    EXPECT_EQ(u1->id, a);
    EXPECT_EQ(u2->id, b);
    EXPECT_EQ(u1->len, 0u);   // the device writes nothing back
    EXPECT_EQ(u2->len, 0u);
    EXPECT_EQ(rig.tx.read(w, 8), std::vector<uint8_t>(8, 0xee));
    EXPECT_EQ(rig.ctx.used_signals, 1u);
    EXPECT_EQ(rig.device->counters().bytes_out, 12u);
}

TEST(ConsoleDevice, EmptyAndWritableOnlyChainsCompleteWithNothingSent) {
    Rig rig;
    GuestAddress w = rig.tx.alloc(16);
    rig.tx.add_chain({{w, 16, Direction::Writable}});
    rig.tx.add_chain({{rig.tx.alloc(0), 0, Direction::Readable}});
    rig.send("x", {1});
    rig.tx.publish();
    rig.device->process_queue(rig.ctx, TX);
    EXPECT_EQ(rig.out(), "x");
    EXPECT_EQ(rig.device->counters().chains_out, 3u);
    EXPECT_FALSE(rig.ctx.needs_reset);
}

TEST(ConsoleDevice, ABrokenChainIsCompletedEmptyAndTheNextIsServed) {
    Rig rig;
    // A descriptor past the end of guest memory.
    rig.tx.write_desc(0, vring_desc{0x7fff'0000'0000, 64, 0, 0});
    rig.tx.push_head(0);
    rig.tx.publish();
    rig.device->process_queue(rig.ctx, TX);
    auto used = rig.tx.pop_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(used->len, 0u);
    EXPECT_EQ(rig.device->counters().refused, 1u);
    EXPECT_TRUE(rig.host->out.empty());
}

TEST(ConsoleDevice, AFullHostEndHoldsTheChainUntilItIsWritableAndKeepsOrder) {
    Rig rig;
    rig.host->room = 5;
    rig.send("abcdefgh", {8});
    rig.send("ij", {2});
    rig.tx.publish();
    rig.device->process_queue(rig.ctx, TX);
    EXPECT_EQ(rig.out(), "abcde");
    EXPECT_TRUE(rig.device->holding_output());
    EXPECT_TRUE(rig.host->want_output);
    EXPECT_FALSE(rig.tx.pop_used());   // not completed while held
    // A notification meanwhile does not skip ahead.
    rig.device->process_queue(rig.ctx, TX);
    EXPECT_EQ(rig.out(), "abcde");
    rig.host->room = 100;   // the reader caught up: the host end is writable
    rig.device->process_backend(rig.ctx);
    EXPECT_EQ(rig.out(), "abcdefghij");
    EXPECT_FALSE(rig.host->want_output);
    EXPECT_TRUE(rig.tx.pop_used());
    EXPECT_TRUE(rig.tx.pop_used());
    EXPECT_EQ(rig.device->counters().dropped, 0u);
}

TEST(ConsoleDevice, OutputNobodyTakesIsDroppedAndCountedWithoutHoldingTheGuest) {
    Rig rig;
    rig.host->drop = true;   // a socket without a client
    rig.send("lost line\n", {4, 6});
    rig.tx.publish();
    rig.device->process_queue(rig.ctx, TX);
    EXPECT_TRUE(rig.tx.pop_used());
    EXPECT_EQ(rig.device->counters().dropped, 10u);
    EXPECT_EQ(rig.device->counters().bytes_out, 0u);
    EXPECT_FALSE(rig.device->holding_output());
}

TEST(ConsoleDevice, AHugeChainIsSentInPassesThatYieldTheIoThread) {
    ConsoleTuning tuning;
    tuning.max_bytes = 1000;
    Rig rig(tuning);
    const std::string big(2500, 'z');
    rig.send(big, {2500});
    rig.tx.publish();
    rig.device->process_queue(rig.ctx, TX);
    EXPECT_EQ(rig.host->out.size(), 1000u);
    EXPECT_EQ(rig.ctx.requeues, 1u);
    rig.device->process_queue(rig.ctx, TX);
    rig.device->process_queue(rig.ctx, TX);
    EXPECT_EQ(rig.out(), big);
    EXPECT_TRUE(rig.tx.pop_used());
}

TEST(ConsoleDevice, InputFillsReceiveBuffersInOrderAcrossChains) {
    Rig rig;
    GuestAddress a = rig.receive_buffer(3);
    GuestAddress b = rig.receive_buffer(64);
    rig.rx.publish();
    rig.host->in = {'p', 'i', 'n', 'g', '\n'};
    rig.device->process_backend(rig.ctx);
    auto u1 = rig.rx.pop_used();
    auto u2 = rig.rx.pop_used();
    ASSERT_TRUE(u1 && u2);
    EXPECT_EQ(u1->len, 3u);
    EXPECT_EQ(u2->len, 2u);
    EXPECT_EQ(rig.rx.read(a, 3), (std::vector<uint8_t>{'p', 'i', 'n'}));
    EXPECT_EQ(rig.rx.read(b, 2), (std::vector<uint8_t>{'g', '\n'}));
    EXPECT_EQ(rig.device->counters().bytes_in, 5u);
    EXPECT_EQ(rig.ctx.used_signals, 1u);
}

TEST(ConsoleDevice, WatchesInputOnlyWhileTheGuestHasBuffersForIt) {
    Rig rig;
    rig.host->in.assign(10000, 'k');
    rig.device->process_backend(rig.ctx);   // no receive buffers: nothing read
    EXPECT_EQ(rig.host->reads, 0u);
    EXPECT_FALSE(rig.host->want_input);
    rig.receive_buffer(100);
    rig.rx.publish();
    rig.device->process_queue(rig.ctx, RX);
    // One read of at most the input buffer; what the chain had no room for waits in it.
    EXPECT_EQ(rig.host->reads, 1u);
    EXPECT_EQ(rig.host->in.size(), 10000u - ConsoleDevice::INPUT_BUFFER);
    EXPECT_FALSE(rig.host->want_input);
    rig.receive_buffer(100);
    rig.rx.publish();
    rig.device->process_queue(rig.ctx, RX);
    EXPECT_EQ(rig.host->reads, 1u);   // served from the buffer
    EXPECT_EQ(rig.device->counters().bytes_in, 200u);
    // Buffers but no input: the host end is watched.
    rig.host->in.clear();
    rig.receive_buffer(ConsoleDevice::INPUT_BUFFER);
    rig.receive_buffer(16);
    rig.rx.publish();
    rig.device->process_queue(rig.ctx, RX);
    EXPECT_TRUE(rig.host->want_input);
}

TEST(ConsoleDevice, AReceiveChainWithoutWritableBytesCompletesEmptyAndTakesNoInput) {
    Rig rig;
    GuestAddress r = rig.rx.alloc(16);
    rig.rx.add_chain({{r, 16, Direction::Readable}});
    GuestAddress b = rig.receive_buffer(8);
    rig.rx.publish();
    rig.host->in = {'o', 'k'};
    rig.device->process_backend(rig.ctx);
    auto u1 = rig.rx.pop_used();
    auto u2 = rig.rx.pop_used();
    ASSERT_TRUE(u1 && u2);
    EXPECT_EQ(u1->len, 0u);
    EXPECT_EQ(u2->len, 2u);
    EXPECT_EQ(rig.rx.read(b, 2), (std::vector<uint8_t>{'o', 'k'}));
}

TEST(ConsoleDevice, ResetForgetsTheHeldChainAndStopsWatching) {
    Rig rig;
    rig.hold_output("abc");
    ASSERT_TRUE(rig.device->holding_output());
    rig.device->reset();
    EXPECT_FALSE(rig.device->holding_output());
    EXPECT_TRUE(rig.host->detached);
}

TEST(ConsoleDevice, PauseStopsWatchingAndKeepsTheHeldChainResumeWatchesAgain) {
    Rig rig;
    rig.hold_output("abc");
    ASSERT_TRUE(rig.host->want_output);
    rig.device->pause(rig.ctx);
    EXPECT_TRUE(rig.host->detached) << "a paused device still watches its host end";
    EXPECT_TRUE(rig.device->holding_output());
    rig.host->want_output = false;
    rig.device->resume(rig.ctx);
    EXPECT_TRUE(rig.host->want_output) << "resume did not ask for room on the host end again";
    rig.host->room = 100;
    rig.device->process_backend(rig.ctx);
    EXPECT_EQ(rig.out(), "abc");
}

} // namespace
} // namespace minivmm::console
