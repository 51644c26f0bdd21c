// Unit tests for EventFd (vmm/base/event_fd.hpp): counter semantics and descriptor flags.
#include "base/event_fd.hpp"

#include <fcntl.h>
#include <poll.h>

#include <thread>

#include <gtest/gtest.h>

namespace minivmm {
namespace {

bool readable(const EventFd& e) {
    pollfd p{e.fd(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

TEST(EventFd, CreateGivesNonBlockingCloexecDescriptor) {
    auto e = EventFd::create();
    ASSERT_TRUE(e.has_value()) << e.error().message();
    ASSERT_GE(e->fd(), 0);
    EXPECT_NE(::fcntl(e->fd(), F_GETFL) & O_NONBLOCK, 0);
    EXPECT_NE(::fcntl(e->fd(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(EventFd, ConsumeWithoutSignalReturnsZero) {
    auto e = EventFd::create();
    ASSERT_TRUE(e.has_value()) << e.error().message();
    ASSERT_NE(::fcntl(e->fd(), F_GETFL) & O_NONBLOCK, 0) << "consume() would block forever";
    EXPECT_EQ(e->consume(), 0u);
    EXPECT_FALSE(readable(*e));
}

TEST(EventFd, ConsumeReturnsSignalCountAndResets) {
    auto e = EventFd::create();
    ASSERT_TRUE(e.has_value()) << e.error().message();
    e->signal();
    e->signal();
    e->signal();
    EXPECT_TRUE(readable(*e));
    EXPECT_EQ(e->consume(), 3u);
    EXPECT_EQ(e->consume(), 0u);
    EXPECT_FALSE(readable(*e));
}

TEST(EventFd, SignalFromAnotherThreadWakesPoll) {
    auto e = EventFd::create();
    ASSERT_TRUE(e.has_value()) << e.error().message();
    std::thread t([&] { e->signal(); });
    pollfd p{e->fd(), POLLIN, 0};
    int n = ::poll(&p, 1, 5000);
    t.join();
    EXPECT_EQ(n, 1);
    EXPECT_EQ(e->consume(), 1u);
}

TEST(EventFd, MoveKeepsDescriptor) {
    auto e = EventFd::create();
    ASSERT_TRUE(e.has_value()) << e.error().message();
    int fd = e->fd();
    EventFd moved = std::move(*e);
    EXPECT_EQ(moved.fd(), fd);
    moved.signal();
    EXPECT_EQ(moved.consume(), 1u);
}

} // namespace
} // namespace minivmm
