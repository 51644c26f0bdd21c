// libFuzzer target for virtio-rng: a queue of 1-64 entries and up to 16 requests of 0-4
// descriptors each (lengths 0-5000, either direction, readable ones after writable ones too),
// a rate of 10 B/s to 1 MiB/s, a request budget of 1-16, the clock moving on between calls, a
// reset now and then. Oracles:
//  - guest memory changes only inside buffers the driver marked device-writable;
//  - every used length is at most the chain's writable bytes, and the bytes served in one
//    rate period never exceed the period's budget;
//  - nothing is dropped: once the clock has moved on far enough and the device was called
//    for its timer, every published request is on the used ring (or the ring is broken).
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/log.hpp"
#include "fake_device_context.hpp"
#include "fuzz_chains.hpp"
#include "guest_driver.hpp"
#include "recording_event_sources.hpp"
#include "rng/rng_device.hpp"

using namespace minivmm;

namespace {

constexpr uint64_t MEM_SIZE = 256 * 1024;
constexpr uint64_t DATA_BASE = 0x10000;
constexpr size_t MAX_REQUESTS = 16;

class PatternSource : public rng::EntropySource {
public:
    Result<void> fill(std::span<uint8_t> out) override {
        std::fill(out.begin(), out.end(), uint8_t{0xa5});
        return {};
    }
};

using Desc = test::FuzzDesc;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto [mem, all] = test::fuzz_memory(MEM_SIZE, 0x5a);

    FuzzedDataProvider in(data, size);
    const uint16_t qsize = static_cast<uint16_t>(1u << in.ConsumeIntegralInRange(0, 6));
    const bool event_idx = in.ConsumeBool();
    rng::RngTuning tuning;
    tuning.bytes_per_sec = in.ConsumeIntegralInRange<uint64_t>(rng::RateLimiter::MIN_RATE, 1 << 20);
    tuning.max_requests = in.ConsumeIntegralInRange(1u, 16u);
    std::chrono::nanoseconds now = std::chrono::seconds(1) +
                                   std::chrono::nanoseconds(in.ConsumeIntegral<uint32_t>());
    test::RecordingEventSources events;
    rng::RngDevice device(std::make_unique<PatternSource>(), events, tuning, [&now] { return now; });
    test::FakeDeviceContext ctx(mem, 1, 64);
    test::GuestDriver ring(mem, qsize, GuestAddress(0x1000));
    ring.configure(ctx.queue(0), event_idx ? virtio::FEATURE_EVENT_IDX : 0);
    if (!ctx.queue(0).activate(mem)) return 0;
    if (!device.activate(ctx, device.features())) __builtin_trap();

    static std::vector<uint8_t> writable;
    writable.assign(MEM_SIZE - DATA_BASE, 0);
    std::vector<uint64_t> writable_len;   // per head
    writable_len.assign(qsize, 0);
    uint64_t next = DATA_BASE;
    uint16_t next_desc = 0;
    uint16_t published = 0;
    for (size_t r = 0; r < MAX_REQUESTS && in.remaining_bytes() > 0; ++r) {
        std::vector<Desc> descs;
        unsigned n = in.ConsumeIntegralInRange(0u, 4u);
        if (n == 0) n = 1;
        for (unsigned d = 0; d < n; ++d) {
            uint32_t len = in.ConsumeIntegralInRange<uint32_t>(0, 5000);
            if (next + len + 64 > MEM_SIZE) break;
            descs.push_back({next, len, in.ConsumeProbability<float>() < 0.8f});
            next = (next + len + 15) & ~uint64_t{15};
        }
        if (descs.empty() || descs.size() > static_cast<size_t>(qsize - next_desc)) break;
        const uint16_t head = test::write_fuzz_chain(ring, next_desc, descs, writable, DATA_BASE);
        uint64_t wlen = 0;
        for (const Desc& d : descs) wlen += d.writable ? d.len : 0;
        writable_len[head] = wlen;
        ring.push_head(head);
        ++published;
    }
    ring.publish();
    const uint64_t used_end = std::min<uint64_t>(next + 64, MEM_SIZE);
    const std::vector<uint8_t> before(all.begin() + DATA_BASE, all.begin() + static_cast<long>(used_end));

    // Bytes served per rate period: never more than its budget.
    const rng::RateLimiter budget(tuning.bytes_per_sec);
    int64_t period = -1;
    uint64_t in_period = 0;
    uint16_t seen = 0;
    auto check_used = [&] {
        while (auto u = ring.pop_used()) {
            if (u->id >= qsize || u->len > writable_len[u->id]) __builtin_trap();
            const int64_t p = now.count() / rng::RateLimiter::PERIOD.count();
            if (p != period) {
                period = p;
                in_period = 0;
            }
            in_period += u->len;
            if (in_period > budget.per_period()) __builtin_trap();
            ++seen;
        }
    };
    device.process_queue(ctx, 0);
    check_used();
    // Each step: called again for a yield, for the timer (the clock at its expiry), or
    // reset-and-leave (then nothing is owed).
    bool was_reset = false;
    for (unsigned steps = 0; steps < 64 && !ctx.queue(0).broken(); ++steps) {
        if (in.remaining_bytes() > 0 && in.ConsumeProbability<float>() < 0.05f) {
            device.reset();
            if (events.timer) __builtin_trap();   // a reset leaves no timer armed
            was_reset = true;
            break;
        }
        const unsigned requeues = ctx.requeues;
        if (events.timer && device.waiting()) {
            now += *events.timer;
            events.timer.reset();
            device.process_backend(ctx);
        } else if (ring.used_idx() != published) {
            device.process_queue(ctx, 0);
            if (ctx.requeues == requeues && !device.waiting() && ring.used_idx() != published &&
                !ctx.queue(0).broken())
                __builtin_trap();   // neither served, nor waiting, nor yielding: a lost request
        } else {
            break;
        }
        check_used();
    }
    // Liveness: each step serves at least one request (a period's budget is at least one
    // byte, and a request completes with what the budget allows), so 64 steps are enough.
    if (!was_reset && !ctx.queue(0).broken() && seen != published) __builtin_trap();
    for (uint64_t a = DATA_BASE; a < used_end; ++a)
        if (all[a] != before[a - DATA_BASE] && !writable[a - DATA_BASE]) __builtin_trap();
    for (uint64_t a = used_end; a < MEM_SIZE; a += 8)
        if (all[a] != 0x5a) __builtin_trap();
    return 0;
}
