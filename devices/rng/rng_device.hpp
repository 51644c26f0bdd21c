// RngDevice: virtio-rng (Virtio 1.2 §5.4, device type 4): one request queue; each request is
// a chain of device-writable buffers the device fills with random bytes from its
// EntropySource, under a RateLimiter. A request beyond the period's budget is not dropped: it
// stays on the ring, the device arms its timer for the next period and serves it then.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "event_sources.hpp"
#include "rng/entropy_source.hpp"
#include "rng/rate_limiter.hpp"
#include "virtio/virtio_device.hpp"

namespace minivmm::rng {

// Tuning, one place: the default rate and how much one pass may do before it yields the I/O
// thread to the other devices (DeviceContext::requeue), as virtio-blk's BlockTuning does.
struct RngTuning {
    // 1 MiB/s: far more than a guest's entropy pool asks for (Linux's hwrng thread reads a few
    // hundred bytes when its pool wants reseeding), small enough that a guest reading
    // /dev/hwrng in a loop costs the host little.
    static constexpr uint64_t DEFAULT_RATE = uint64_t{1} << 20;
    uint64_t bytes_per_sec = DEFAULT_RATE;
    unsigned max_requests = 256;               // per pass
    uint64_t max_bytes = uint64_t{1} << 20;    // per pass
};

class RngDevice final : public virtio::VirtioDevice {
public:
    static constexpr size_t NUM_QUEUES = 1;
    // The monotonic time (tests pass their own).
    using Clock = std::function<std::chrono::nanoseconds()>;
    static std::chrono::nanoseconds steady_now();

    // `events` (outlives the device) gets the refill timer; `tuning.bytes_per_sec` in
    // RateLimiter::MIN_RATE..MAX_RATE.
    RngDevice(std::unique_ptr<EntropySource> source, EventSources& events, RngTuning tuning = {},
              Clock clock = steady_now);

    uint32_t device_type() const override;
    uint64_t features() const override;
    size_t num_queues() const override { return NUM_QUEUES; }
    size_t config_size() const override { return 0; }   // §5.4.4: no configuration
    void read_config(uint64_t, std::span<uint8_t>) const override {}

    Result<void> activate(virtio::DeviceContext& ctx, uint64_t features) override;
    void process_queue(virtio::DeviceContext& ctx, size_t index) noexcept override;
    // The refill timer expired.
    void process_backend(virtio::DeviceContext& ctx) noexcept override;
    // Forgets the wait; the period's budget stays spent (a reset buys no extra bytes).
    void reset() noexcept override;
    // A request waiting for the next period keeps waiting: the timer is disarmed on pause and
    // armed again, for what is left of the period, on resume.
    void pause(virtio::DeviceContext& ctx) noexcept override;
    void resume(virtio::DeviceContext& ctx) noexcept override;

    struct Counters {
        uint64_t requests = 0;   // completed
        uint64_t bytes = 0;      // random bytes written
        uint64_t waits = 0;      // times a request waited for the next period
        uint64_t source_errors = 0;
    };
    const Counters& counters() const { return counters_; }
    bool waiting() const { return waiting_; }

private:
    void serve(virtio::DeviceContext& ctx) noexcept;
    uint32_t fill(const GuestMemory& mem, const virtio::DescriptorChain& chain, uint64_t budget);

    std::unique_ptr<EntropySource> source_;
    EventSources& events_;
    RngTuning tuning_;
    Clock clock_;
    RateLimiter limiter_;
    bool waiting_ = false;   // the timer is armed for the next period
    Counters counters_;
};

} // namespace minivmm::rng
