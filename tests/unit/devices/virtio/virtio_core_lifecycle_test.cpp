// VirtioCore's lifecycle without a machine: a paused core calls nothing in its device, pause
// waits for a pass in progress, and the saved state round-trips into a fresh core, which then
// carries on where the first stopped; damaged or foreign states are refused and leave the
// core reset.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "core_fixture.hpp"

namespace minivmm::virtio {
namespace {

using namespace std::chrono_literals;

TEST_F(VirtioCoreTest, PausedCoreDropsNotificationsAndServesAfterResume) {
    init();
    core.pause();
    EXPECT_TRUE(core.paused());
    EXPECT_EQ(device->pauses, 1u);
    add_buffer();
    EXPECT_FALSE(core.notify(0));
    core.backend_ready();
    EXPECT_EQ(ring.used_idx(), 0) << "a paused device served its queue";
    core.resume();
    EXPECT_EQ(device->resumes, 1u);
    EXPECT_EQ(ring.used_idx(), 0) << "resume itself runs no queue: its caller notifies";
    core.notify(0);
    EXPECT_EQ(ring.used_idx(), 1);
}

TEST_F(VirtioCoreTest, PauseWaitsForAQueuePassInProgress) {
    init();
    start_held_pass();
    auto paused = std::async(std::launch::async, [&] { core.pause(); });
    EXPECT_EQ(paused.wait_for(100ms), std::future_status::timeout)
        << "pause returned while the device was inside a pass";
    finish_held_pass();
    ASSERT_EQ(paused.wait_for(2s), std::future_status::ready);
    EXPECT_EQ(ring.used_idx(), 1) << "the pass in progress was finished, not cut";
}

TEST_F(VirtioCoreTest, SaveIsRefusedUnlessPausedAndWithNothingInFlight) {
    init();
    EXPECT_FALSE(core.save_state());
    device->hold = true;
    add_buffer();
    core.notify(0);
    core.pause();
    auto saved = core.save_state();
    ASSERT_FALSE(saved);
    EXPECT_NE(saved.error().message().find("in flight"), std::string::npos)
        << saved.error().message();
}

class VirtioCoreStateTest : public VirtioCoreTest {
protected:
    // A second core over the same memory and a device of the same type, as a restore makes it.
    VirtioCoreStateTest()
        : fresh_device(std::make_shared<GatedDevice>()),
          fresh(fresh_device, mem, std::make_unique<CountingIrqLine>(), "fresh") {}

    // A core that served three requests, has an interrupt pending and a device byte to keep.
    std::vector<uint8_t> saved_running_core() {
        init();
        for (int i = 0; i < 3; ++i) add_buffer();
        core.notify(0);
        device->own_state = 0x5a;
        core.pause();
        auto saved = core.save_state();
        if (!saved) throw std::runtime_error(saved.error().message());
        return *saved;
    }

    std::shared_ptr<GatedDevice> fresh_device;
    VirtioCore fresh;
};

TEST_F(VirtioCoreStateTest, RoundTripIntoAFreshCoreWhichCarriesOn) {
    const auto bytes = saved_running_core();
    ASSERT_TRUE(fresh.restore_state(bytes)) << fresh.restore_state(bytes).error().message();
    EXPECT_TRUE(fresh.paused());
    EXPECT_EQ(fresh.status(), core.status());
    EXPECT_EQ(fresh.driver_features(), VERSION_1);
    EXPECT_EQ(fresh.interrupt_status(), VirtioCore::INT_USED_BUFFER);
    EXPECT_EQ(fresh.config_generation(), core.config_generation());
    EXPECT_EQ(fresh.queue_address(0, VirtioCore::Ring::Used), ring.used_ring().value());
    EXPECT_EQ(fresh_device->own_state, 0x5a);
    auto again = fresh.save_state();
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, bytes) << "a restored core saves the same state";

    // The restored queue continues from the saved indexes: the next request is used entry 4.
    fresh.resume();
    add_buffer();
    fresh.notify(0);
    EXPECT_EQ(ring.used_idx(), 4);
    EXPECT_EQ(ring.used_elem(3).len, 0u);
}

TEST_F(VirtioCoreStateTest, EveryTruncationIsRefusedAndLeavesTheCoreReset) {
    const auto bytes = saved_running_core();
    for (size_t n = 0; n < bytes.size(); ++n) {
        auto r = fresh.restore_state(std::span<const uint8_t>(bytes).first(n));
        ASSERT_FALSE(r) << "accepted " << n << " of " << bytes.size() << " bytes";
        EXPECT_EQ(fresh.status(), 0u);
        EXPECT_FALSE(fresh.queue_ready(0));
    }
    auto longer = bytes;
    longer.push_back(0);
    EXPECT_FALSE(fresh.restore_state(longer));
}

// Values a well-formed file may carry that no driver could have reached, or that do not fit
// this device or this guest's memory.
TEST_F(VirtioCoreStateTest, ForeignOrImpossibleValuesAreRefused) {
    const auto bytes = saved_running_core();
    auto modified = [&](auto change) {
        StateReader in(bytes);
        auto s = read_core_state(in);
        if (!s) throw std::runtime_error(s.error().message());
        change(*s);
        StateWriter out;
        write_core_state(out, *s);
        return out.take();
    };
    const std::vector<std::pair<const char*, std::vector<uint8_t>>> cases = {
        {"device type", modified([](CoreState& s) { s.device_type = VIRTIO_ID_BLOCK; })},
        {"features not offered", modified([](CoreState& s) { s.driver_features |= 1ULL << 40; })},
        {"status out of order", modified([](CoreState& s) { s.status = VIRTIO_CONFIG_S_DRIVER_OK; })},
        {"queue count", modified([](CoreState& s) { s.queues.push_back(s.queues[0]); })},
        {"ring outside RAM", modified([](CoreState& s) { s.queues[0].used = 1ULL << 40; })},
        {"queue size", modified([](CoreState& s) { s.queues[0].size = 3; })},
        {"interrupt bits", modified([](CoreState& s) { s.interrupt_status = 0x80; })},
        {"device version", modified([](CoreState& s) { s.device_version = 2; })},
        {"activated without DRIVER_OK",
         modified([](CoreState& s) { s.status &= ~uint32_t{VIRTIO_CONFIG_S_DRIVER_OK}; })},
    };
    for (const auto& [what, b] : cases) {
        auto r = fresh.restore_state(b);
        EXPECT_FALSE(r) << what;
        EXPECT_EQ(fresh.status(), 0u) << what;
        EXPECT_FALSE(fresh.queue_ready(0)) << what;
    }
    EXPECT_TRUE(fresh.restore_state(bytes)) << "the unmodified state";
}

} // namespace
} // namespace minivmm::virtio
