// RateLimiter (see rate_limiter.hpp).
#include "rng/rate_limiter.hpp"

#include "base/log.hpp"

namespace minivmm::rng {

uint64_t RateLimiter::available(std::chrono::nanoseconds now) {
    const int64_t period = now.count() / PERIOD.count();
    if (period != period_) {
        period_ = period;
        left_ = per_period_;
    }
    return left_;
}

void RateLimiter::consume(uint64_t bytes) {
    MINIVMM_ASSERT(bytes <= left_);
    left_ -= bytes;
}

std::chrono::nanoseconds RateLimiter::until_refill(std::chrono::nanoseconds now) {
    return PERIOD - now % PERIOD;
}

} // namespace minivmm::rng
