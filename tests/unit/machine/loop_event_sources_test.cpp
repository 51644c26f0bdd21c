#include "machine/loop_event_sources.hpp"

#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <unistd.h>

namespace minivmm {
namespace {

using namespace std::chrono_literals;

struct Pipe {
    Pipe() {
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe");
        r = UniqueFd(fds[0]);
        w = UniqueFd(fds[1]);
    }
    UniqueFd r, w;
};

struct Rig {
    Rig() {
        auto l = EventLoop::create();
        if (!l) throw std::runtime_error(l.error().message());
        loop = std::move(*l);
        auto s = LoopEventSources::create(*loop, [this] { ++calls; });
        if (!s) throw std::runtime_error(s.error().message());
        sources = std::move(*s);
    }
    std::unique_ptr<EventLoop> loop;
    std::unique_ptr<LoopEventSources> sources;
    int calls = 0;
};

TEST(LoopEventSources, WakesTheDeviceOnlyForTheEventsItAskedFor) {
    Rig rig;
    Pipe p;
    ASSERT_EQ(::write(p.w.get(), "x", 1), 1);
    EXPECT_EQ(rig.loop->run_once(0), 0);   // not watched yet
    rig.sources->watch_fd(p.r.get(), EPOLLIN);
    rig.loop->run_once(0);
    EXPECT_EQ(rig.calls, 1);
    rig.sources->watch_fd(p.r.get(), EPOLLOUT);   // a pipe's read end is never writable
    rig.loop->run_once(0);
    EXPECT_EQ(rig.calls, 1);
    rig.sources->watch_fd(p.r.get(), EPOLLIN);
    rig.loop->run_once(0);
    EXPECT_EQ(rig.calls, 2);
    rig.sources->remove_fd(p.r.get());
    rig.loop->run_once(0);
    EXPECT_EQ(rig.calls, 2);
    rig.sources->watch_fd(p.r.get(), EPOLLIN);   // added again after a removal
    rig.loop->run_once(0);
    EXPECT_EQ(rig.calls, 3);
}

TEST(LoopEventSources, NoEventsRemovesTheDescriptorSoAHangUpCannotSpinTheLoop) {
    Rig rig;
    Pipe p;
    rig.sources->watch_fd(p.r.get(), EPOLLIN);
    p.w.reset();   // EPOLLHUP from now on, whatever the event set
    rig.loop->run_once(0);
    EXPECT_EQ(rig.calls, 1);
    rig.sources->watch_fd(p.r.get(), 0);
    for (int i = 0; i < 5; ++i) rig.loop->run_once(0);
    EXPECT_EQ(rig.calls, 1);
}

TEST(LoopEventSources, TheTimerWakesTheDeviceOnceAfterItsDelay) {
    Rig rig;
    EXPECT_EQ(rig.loop->run_once(0), 0);   // disarmed: nothing
    const auto start = std::chrono::steady_clock::now();
    rig.sources->arm_timer(20ms);
    EXPECT_EQ(rig.loop->run_once(0), 0);   // not yet
    while (rig.calls == 0 && std::chrono::steady_clock::now() - start < 2s) rig.loop->run_once(100);
    EXPECT_EQ(rig.calls, 1);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
    rig.loop->run_once(50);   // one shot
    EXPECT_EQ(rig.calls, 1);
}

TEST(LoopEventSources, ADisarmedOrMovedTimerDoesNotFireEarly) {
    Rig rig;
    rig.sources->arm_timer(1ms);
    rig.sources->disarm_timer();
    rig.loop->run_once(30);
    EXPECT_EQ(rig.calls, 0);
    rig.sources->arm_timer(1ms);
    rig.sources->arm_timer(10s);   // moved
    rig.loop->run_once(30);
    EXPECT_EQ(rig.calls, 0);
    rig.sources->arm_timer(0ns);   // at the next pass
    rig.loop->run_once(1000);
    EXPECT_EQ(rig.calls, 1);
}

TEST(LoopEventSources, AnExpiryDisarmedBeforeTheLoopRanWakesNobody) {
    Rig rig;
    rig.sources->arm_timer(1ns);
    ::usleep(2000);   // expired, not yet read
    rig.sources->disarm_timer();   // timerfd_settime clears the expiry count
    rig.loop->run_once(0);
    EXPECT_EQ(rig.calls, 0);
}

} // namespace
} // namespace minivmm
