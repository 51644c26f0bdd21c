// ControlChannel: commands posted from other threads run on the thread that polls the channel,
// in order, each answered; after close() nothing runs and every caller gets "stopped".
#include "machine/control_channel.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <thread>
#include <vector>

namespace minivmm {
namespace {

using namespace std::chrono_literals;

bool readable(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1;
}

TEST(ControlChannel, CommandsFromOtherThreadsRunOnThePollingThreadInOrder) {
    auto channel = ControlChannel::create();
    ASSERT_TRUE(channel);
    ControlChannel& c = **channel;
    EXPECT_FALSE(readable(c.fd(), 0));
    std::vector<std::future<Reply>> replies;
    std::thread poster([&] {
        replies.push_back(c.post(Command::Pause));
        replies.push_back(c.post(Command::Resume));
    });
    poster.join();
    ASSERT_TRUE(readable(c.fd(), 1000));
    const auto me = std::this_thread::get_id();
    std::vector<Command> ran;
    c.run_pending([&](Command command) {
        EXPECT_EQ(std::this_thread::get_id(), me);
        ran.push_back(command);
        return Reply{command == Command::Pause, "did it"};
    });
    EXPECT_EQ(ran, (std::vector<Command>{Command::Pause, Command::Resume}));
    EXPECT_FALSE(readable(c.fd(), 0)) << "the wake-up was consumed";
    ASSERT_EQ(replies.at(0).wait_for(0s), std::future_status::ready);
    EXPECT_TRUE(replies[0].get().ok);
    EXPECT_FALSE(replies.at(1).get().ok);
}

TEST(ControlChannel, AfterCloseCommandsAreRefusedNotRun) {
    auto channel = ControlChannel::create();
    ASSERT_TRUE(channel);
    ControlChannel& c = **channel;
    auto waiting = c.post(Command::TogglePause);
    c.close();
    auto late = c.post(Command::Pause);
    bool ran = false;
    c.run_pending([&](Command) {
        ran = true;
        return Reply{};
    });
    EXPECT_FALSE(ran);
    for (auto* f : {&waiting, &late}) {
        ASSERT_EQ(f->wait_for(0s), std::future_status::ready);
        Reply r = f->get();
        EXPECT_FALSE(r.ok);
        EXPECT_EQ(r.message, "the VM has stopped");
    }
}

} // namespace
} // namespace minivmm
