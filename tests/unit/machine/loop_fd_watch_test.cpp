#include "machine/loop_fd_watch.hpp"

#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <unistd.h>

namespace minivmm {
namespace {

struct Pipe {
    Pipe() {
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe");
        r = UniqueFd(fds[0]);
        w = UniqueFd(fds[1]);
    }
    UniqueFd r, w;
};

TEST(LoopFdWatch, WakesTheDeviceOnlyForTheEventsItAskedFor) {
    auto loop = EventLoop::create();
    ASSERT_TRUE(loop);
    Pipe p;
    int calls = 0;
    LoopFdWatch watch(**loop, p.r.get(), [&] { ++calls; });
    ASSERT_EQ(::write(p.w.get(), "x", 1), 1);
    EXPECT_EQ((*loop)->run_once(0), 0);   // not watched yet
    watch.set_events(EPOLLIN);
    (*loop)->run_once(0);
    EXPECT_EQ(calls, 1);
    watch.set_events(EPOLLOUT);   // a pipe's read end is never writable
    (*loop)->run_once(0);
    EXPECT_EQ(calls, 1);
    watch.set_events(EPOLLIN);
    (*loop)->run_once(0);
    EXPECT_EQ(calls, 2);
}

TEST(LoopFdWatch, NoEventsRemovesTheDescriptorSoAHangUpCannotSpinTheLoop) {
    auto loop = EventLoop::create();
    ASSERT_TRUE(loop);
    Pipe p;
    int calls = 0;
    LoopFdWatch watch(**loop, p.r.get(), [&] { ++calls; });
    watch.set_events(EPOLLIN);
    p.w.reset();   // EPOLLHUP from now on, whatever the event set
    (*loop)->run_once(0);
    EXPECT_EQ(calls, 1);
    watch.set_events(0);
    for (int i = 0; i < 5; ++i) (*loop)->run_once(0);
    EXPECT_EQ(calls, 1);
}

} // namespace
} // namespace minivmm
