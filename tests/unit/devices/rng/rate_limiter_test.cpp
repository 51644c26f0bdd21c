#include "rng/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace minivmm::rng {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, GivesATenthOfTheRatePerPeriodWithoutCarryingOver) {
    RateLimiter limiter(1000);
    EXPECT_EQ(limiter.available(5s), 100u);
    limiter.consume(60);
    EXPECT_EQ(limiter.available(5s + 50ms), 40u);
    limiter.consume(40);
    EXPECT_EQ(limiter.available(5s + 99ms), 0u);
    EXPECT_EQ(limiter.available(5s + 100ms), 100u);   // the next period
    EXPECT_EQ(limiter.available(7s), 100u);           // an idle second is not saved up
}

TEST(RateLimiter, TheRefillIsAtTheNextPeriodBoundary) {
    EXPECT_EQ(RateLimiter::until_refill(5s), 100ms);
    EXPECT_EQ(RateLimiter::until_refill(5s + 30ms), 70ms);
    EXPECT_EQ(RateLimiter::until_refill(5s + 100ms - 1ns), 1ns);
}

TEST(RateLimiter, TheSmallestRateIsOneBytePerPeriod) {
    RateLimiter limiter(RateLimiter::MIN_RATE);
    EXPECT_EQ(limiter.per_period(), 1u);
    EXPECT_EQ(limiter.available(0ns), 1u);
}

} // namespace
} // namespace minivmm::rng
