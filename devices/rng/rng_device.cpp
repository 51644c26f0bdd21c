// RngDevice (see rng_device.hpp).
#include "rng/rng_device.hpp"

#include <algorithm>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "base/log.hpp"
#include "virtio/chain_io.hpp"

namespace minivmm::rng {

std::chrono::nanoseconds RngDevice::steady_now() {
    return std::chrono::steady_clock::now().time_since_epoch();
}

RngDevice::RngDevice(std::unique_ptr<EntropySource> source, EventSources& events,
                     RngTuning tuning, Clock clock)
    : source_(std::move(source)), events_(events), tuning_(tuning), clock_(std::move(clock)),
      limiter_(tuning.bytes_per_sec) {}

uint32_t RngDevice::device_type() const { return VIRTIO_ID_RNG; }

uint64_t RngDevice::features() const { return uint64_t{1} << VIRTIO_F_VERSION_1; }

Result<void> RngDevice::activate(virtio::DeviceContext&, uint64_t) { return {}; }

void RngDevice::process_queue(virtio::DeviceContext& ctx, size_t) noexcept { serve(ctx); }

void RngDevice::process_backend(virtio::DeviceContext& ctx) noexcept {
    waiting_ = false;
    serve(ctx);
}

void RngDevice::reset() noexcept {
    if (waiting_) events_.disarm_timer();
    waiting_ = false;
}

void RngDevice::pause(virtio::DeviceContext&) noexcept {
    if (waiting_) events_.disarm_timer();
}

void RngDevice::resume(virtio::DeviceContext&) noexcept {
    if (waiting_) events_.arm_timer(RateLimiter::until_refill(clock_()));
}

// Serves requests while the budget lasts. Notifications stay on (a request queue is not a hot
// path): a request the driver adds after pop() found none is notified.
void RngDevice::serve(virtio::DeviceContext& ctx) noexcept {
    virtio::Queue& q = ctx.queue(0);
    if (!q.ready() || waiting_) return;   // waiting: the timer comes back for the queue
    unsigned served = 0;
    uint64_t bytes = 0;
    for (;;) {
        if (q.available() == 0) break;
        if (served >= tuning_.max_requests || bytes >= tuning_.max_bytes) {
            ctx.requeue(0);   // the core calls us again after the loop's other sources
            break;
        }
        const std::chrono::nanoseconds now = clock_();
        const uint64_t budget = limiter_.available(now);
        if (budget == 0) {
            // Left on the ring, not dropped: served when the next period starts.
            waiting_ = true;
            ++counters_.waits;
            events_.arm_timer(RateLimiter::until_refill(now));
            break;
        }
        auto head = q.pop();
        if (!head) break;   // a broken ring: the core sets DEVICE_NEEDS_RESET
        uint32_t written = 0;
        if (auto chain = q.chain(*head)) {
            written = fill(ctx.memory(), *chain, budget);
        } else {
            log(LogLevel::Debug, "virtio-rng: chain refused: {}", chain.error().message());
        }
        limiter_.consume(written);
        (void)q.add_used(*head, written);   // cannot fail: the head was just popped
        ++served;
        bytes += written;
        ++counters_.requests;
        counters_.bytes += written;
    }
    if (served > 0 && q.needs_notification()) ctx.signal_used();
}

// Guest-controlled: the chain's writable buffers, of any number and length (none at all is a
// request answered with 0 bytes); readable buffers are ignored. Fills up to `budget` bytes.
uint32_t RngDevice::fill(const GuestMemory& mem, const virtio::DescriptorChain& chain,
                         uint64_t budget) {
    virtio::ChainWriter out(mem, chain);
    const uint64_t count = std::min(out.remaining(), budget);
    if (count == 0) return 0;
    auto r = out.write_spans(count, [this](std::span<uint8_t> piece) {
        return source_->fill(piece);
    });
    if (!r) {
        if (counters_.source_errors++ == 0)
            log(LogLevel::Error, "virtio-rng: {}", r.error().message());
        return 0;   // nothing counts as written; the request completes empty
    }
    return out.bytes_written();
}

} // namespace minivmm::rng
