#include "machine/vm_control.hpp"

#include <gtest/gtest.h>
#include <thread>
#include <vector>

namespace minivmm {
namespace {

TEST(VmControl, FirstEndingWins) {
    auto fd = EventFd::create();
    ASSERT_TRUE(fd);
    VmControl c(std::move(*fd));
    EXPECT_FALSE(c.finished());
    c.finish({Ending::GuestStatus, 7, {}});
    c.finish({Ending::Timeout, 0, "late"});
    EXPECT_TRUE(c.finished());
    EXPECT_EQ(c.outcome().ending, Ending::GuestStatus);
    EXPECT_EQ(c.outcome().guest_status, 7);
}

TEST(VmControl, ConcurrentFinishRecordsExactlyOne) {
    auto fd = EventFd::create();
    ASSERT_TRUE(fd);
    VmControl c(std::move(*fd));
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&c, i] { c.finish({Ending::GuestStatus, static_cast<uint8_t>(i), {}}); });
    for (auto& t : threads) t.join();
    EXPECT_TRUE(c.finished());
    EXPECT_LT(c.outcome().guest_status, 8);
}

} // namespace
} // namespace minivmm
