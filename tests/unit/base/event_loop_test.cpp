// Unit tests for EventLoop (vmm/base/event_loop.hpp): dispatch, removal, stop from a thread.
#include "base/event_loop.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "open_fds.hpp"

namespace minivmm {
namespace {

std::unique_ptr<EventLoop> make_loop() {
    auto loop = EventLoop::create();
    EXPECT_TRUE(loop.has_value()) << loop.error().message();
    return std::move(*loop);
}

EventFd make_event() {
    auto e = EventFd::create();
    EXPECT_TRUE(e.has_value());
    return std::move(*e);
}

TEST(EventLoop, CallsTheHandlerOfAReadyDescriptor) {
    auto loop = make_loop();
    EventFd e = make_event();
    int calls = 0;
    uint32_t seen = 0;
    ASSERT_TRUE(loop->add(e.fd(), EPOLLIN, [&](uint32_t ev) {
        ++calls;
        seen = ev;
        e.consume();
    }));
    EXPECT_EQ(loop->run_once(0), 0);
    EXPECT_EQ(calls, 0);
    e.signal();
    EXPECT_EQ(loop->run_once(1000), 1);
    EXPECT_EQ(calls, 1);
    EXPECT_NE(seen & EPOLLIN, 0u);
}

TEST(EventLoop, RefusesTheSameDescriptorTwice) {
    auto loop = make_loop();
    EventFd e = make_event();
    ASSERT_TRUE(loop->add(e.fd(), EPOLLIN, [](uint32_t) {}));
    EXPECT_FALSE(loop->add(e.fd(), EPOLLIN, [](uint32_t) {}));
}

TEST(EventLoop, RemovedDescriptorIsNotDispatched) {
    auto loop = make_loop();
    EventFd e = make_event();
    int calls = 0;
    ASSERT_TRUE(loop->add(e.fd(), EPOLLIN, [&](uint32_t) { ++calls; }));
    e.signal();
    ASSERT_TRUE(loop->remove(e.fd()));
    loop->run_once(0);
    EXPECT_EQ(calls, 0);
    EXPECT_FALSE(loop->remove(e.fd()));
}

TEST(EventLoop, HandlerRemovingAnotherReadyDescriptorInTheSameBatchStopsIt) {
    auto loop = make_loop();
    EventFd a = make_event();
    EventFd b = make_event();
    int a_calls = 0, b_calls = 0;
    // Whichever runs first removes the other; exactly one handler runs.
    ASSERT_TRUE(loop->add(a.fd(), EPOLLIN, [&](uint32_t) { ++a_calls; (void)loop->remove(b.fd()); }));
    ASSERT_TRUE(loop->add(b.fd(), EPOLLIN, [&](uint32_t) { ++b_calls; (void)loop->remove(a.fd()); }));
    a.signal();
    b.signal();
    loop->run_once(1000);
    EXPECT_EQ(a_calls + b_calls, 1);
}

TEST(EventLoop, SetEventsChangesWhatWakesTheHandler) {
    auto loop = make_loop();
    EventFd e = make_event();   // an eventfd is always writable
    int calls = 0;
    ASSERT_TRUE(loop->add(e.fd(), 0, [&](uint32_t) { ++calls; }));
    EXPECT_EQ(loop->run_once(0), 0);
    ASSERT_TRUE(loop->set_events(e.fd(), EPOLLOUT));
    EXPECT_EQ(loop->run_once(0), 1);
    EXPECT_EQ(calls, 1);
    EXPECT_FALSE(loop->set_events(12345, EPOLLIN));
}

TEST(EventLoop, EmptyEventSetStopsHangUpWakeupsAndKeepsTheHandler) {
    auto loop = make_loop();
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    UniqueFd r(fds[0]), w(fds[1]);
    int calls = 0;
    ASSERT_TRUE(loop->add(r.get(), EPOLLIN, [&](uint32_t) { ++calls; }));
    w.reset();   // EPOLLHUP from now on, whatever the event set
    EXPECT_EQ(loop->run_once(0), 1);
    ASSERT_TRUE(loop->set_events(r.get(), 0));
    for (int i = 0; i < 5; ++i) EXPECT_EQ(loop->run_once(0), 0);
    EXPECT_EQ(calls, 1);
    ASSERT_TRUE(loop->set_events(r.get(), EPOLLIN));   // the same handler, armed again
    EXPECT_EQ(loop->run_once(0), 1);
    EXPECT_EQ(calls, 2);
    ASSERT_TRUE(loop->remove(r.get()));
}

TEST(EventLoop, StopFromAnotherThreadEndsRun) {
    auto loop = make_loop();
    EventFd e = make_event();
    std::atomic<int> calls{0};
    ASSERT_TRUE(loop->add(e.fd(), EPOLLIN, [&](uint32_t) {
        e.consume();
        calls.fetch_add(1);
    }));
    std::thread t([&] { loop->run(); });
    e.signal();
    while (calls.load() == 0) std::this_thread::yield();
    loop->stop();
    t.join();
    EXPECT_EQ(calls.load(), 1);
}

} // namespace
} // namespace minivmm

namespace minivmm {
namespace {

TEST(EventLoop, EveryDescriptorItCreatesIsCloseOnExec) {
    auto before = test::open_fds();
    auto loop = make_loop();
    int created = 0;
    for (int fd : test::open_fds()) {
        if (before.count(fd) != 0) continue;
        ++created;
        EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0) << "fd " << fd;
    }
    EXPECT_EQ(created, 2);   // the epoll set and its wake-up eventfd
    loop.reset();
    EXPECT_EQ(test::open_fds(), before) << "EventLoop leaked a descriptor";
}

} // namespace
} // namespace minivmm
