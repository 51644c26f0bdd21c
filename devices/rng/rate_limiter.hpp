// RateLimiter: at most BYTES_PER_SEC / 10 bytes in each 100 ms period of the monotonic clock.
// A period's unused budget is not carried over, so a guest cannot save up a burst; the time
// is passed in, so tests control it.
#pragma once

#include <chrono>
#include <cstdint>

namespace minivmm::rng {

class RateLimiter {
public:
    static constexpr std::chrono::nanoseconds PERIOD = std::chrono::milliseconds(100);
    static constexpr uint64_t PERIODS_PER_SEC = 10;
    static constexpr uint64_t MIN_RATE = PERIODS_PER_SEC;   // one byte per period
    static constexpr uint64_t MAX_RATE = uint64_t{1} << 30;

    // `bytes_per_sec` in MIN_RATE..MAX_RATE (the caller checks).
    explicit RateLimiter(uint64_t bytes_per_sec) : per_period_(bytes_per_sec / PERIODS_PER_SEC) {}

    // What may still be served in the period `now` falls in.
    uint64_t available(std::chrono::nanoseconds now);
    // Takes `bytes` (at most available(now) of the same period) from the budget.
    void consume(uint64_t bytes);
    // How long from `now` until the next period's budget (always > 0).
    static std::chrono::nanoseconds until_refill(std::chrono::nanoseconds now);

    uint64_t per_period() const { return per_period_; }

private:
    uint64_t per_period_;
    int64_t period_ = -1;   // the period `left_` belongs to
    uint64_t left_ = 0;
};

} // namespace minivmm::rng
