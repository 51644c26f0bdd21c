// libFuzzer target for virtio-console: a transmit and a receive queue of 1-64 entries, up to
// 16 chains on each (0-4 descriptors, lengths 0-5000, either direction), a host end that takes
// a fuzzed number of bytes before it is full or drops everything, fuzzed input, a pass budget
// of 64-4096 bytes, resets now and then. Oracles:
//  - guest memory changes only inside buffers the driver marked device-writable;
//  - a receive used length is at most the chain's writable bytes; a transmit one is 0;
//  - the host end gets the readable bytes of the transmit chains, in order, nothing twice;
//  - liveness: once the host end has room, every published transmit chain is completed.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <vector>

#include "console/console_device.hpp"
#include "fake_device_context.hpp"
#include "fuzz_chains.hpp"
#include "guest_driver.hpp"
#include "recording_event_sources.hpp"
#include "scripted_console_host.hpp"

using namespace minivmm;

namespace {

constexpr uint64_t MEM_SIZE = 512 * 1024;
constexpr uint64_t DATA_BASE = 0x10000;
constexpr size_t MAX_CHAINS = 16;

struct Ring {
    test::GuestDriver driver;
    uint16_t next_desc = 0, published = 0;
    std::vector<uint64_t> writable_len;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto [mem, all] = test::fuzz_memory(MEM_SIZE, 0x5a);
    FuzzedDataProvider in(data, size);
    const uint16_t qsize = static_cast<uint16_t>(1u << in.ConsumeIntegralInRange(0, 6));
    console::ConsoleTuning tuning;
    tuning.max_bytes = in.ConsumeIntegralInRange<uint64_t>(64, 4096);
    tuning.max_chains = in.ConsumeIntegralInRange(1u, 16u);
    auto owned = std::make_unique<test::ScriptedHost>();
    test::ScriptedHost& host = *owned;
    host.room = in.ConsumeIntegralInRange<size_t>(0, 20000);
    host.drop = in.ConsumeProbability<float>() < 0.2f;
    const auto input = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 9000));
    host.in.assign(input.begin(), input.end());
    test::RecordingEventSources events;
    console::ConsoleDevice device(std::move(owned), events, tuning);
    test::FakeDeviceContext ctx(mem, 2, 64);
    Ring rings[2] = {{test::GuestDriver(mem, qsize, GuestAddress(0x1000)), 0, 0, {}},
                     {test::GuestDriver(mem, qsize, GuestAddress(0x4000)), 0, 0, {}}};
    for (size_t q = 0; q < 2; ++q) {
        rings[q].driver.configure(ctx.queue(q), 0);
        rings[q].writable_len.assign(qsize, 0);
        if (!ctx.queue(q).activate(mem)) return 0;
    }
    if (!device.activate(ctx, device.features())) __builtin_trap();

    static std::vector<uint8_t> writable;
    writable.assign(MEM_SIZE - DATA_BASE, 0);
    std::vector<uint8_t> expected_out;   // the readable bytes of the transmit chains, in order
    uint64_t next = DATA_BASE;
    for (size_t c = 0; c < 2 * MAX_CHAINS && in.remaining_bytes() > 0; ++c) {
        const size_t q = in.ConsumeBool() ? console::ConsoleDevice::TRANSMITQ
                                          : console::ConsoleDevice::RECEIVEQ;
        Ring& ring = rings[q];
        std::vector<test::FuzzDesc> descs;
        const unsigned n = std::max(1u, in.ConsumeIntegralInRange(0u, 4u));
        for (unsigned d = 0; d < n; ++d) {
            const uint32_t len = in.ConsumeIntegralInRange<uint32_t>(0, 5000);
            if (next + len + 64 > MEM_SIZE) break;
            descs.push_back({next, len, in.ConsumeBool()});
            for (uint32_t i = 0; i < len; ++i) all[next + i] = static_cast<uint8_t>(next + i * 7);
            next = (next + len + 15) & ~uint64_t{15};
        }
        if (descs.empty() || descs.size() > static_cast<size_t>(qsize - ring.next_desc)) break;
        const uint16_t head = test::write_fuzz_chain(ring.driver, ring.next_desc, descs, writable,
                                                     DATA_BASE);
        uint64_t wlen = 0;
        // A chain the queue refuses (readable after writable, ...) completes with nothing sent.
        const bool valid = ctx.queue(q).chain(head).has_value();
        for (const auto& d : descs) {
            wlen += d.writable ? d.len : 0;
            if (q == console::ConsoleDevice::TRANSMITQ && !d.writable && valid)
                expected_out.insert(expected_out.end(), all.begin() + static_cast<long>(d.addr),
                                    all.begin() + static_cast<long>(d.addr + d.len));
        }
        ring.writable_len[head] = wlen;
        ring.driver.push_head(head);
        ++ring.published;
    }
    for (Ring& r : rings) r.driver.publish();
    const uint64_t used_end = std::min<uint64_t>(next + 64, MEM_SIZE);
    const std::vector<uint8_t> before(all.begin() + DATA_BASE, all.begin() + static_cast<long>(used_end));

    uint16_t seen[2] = {0, 0};
    auto check_used = [&] {
        for (size_t q = 0; q < 2; ++q)
            while (auto u = rings[q].driver.pop_used()) {
                if (u->id >= qsize || u->len > rings[q].writable_len[u->id]) __builtin_trap();
                if (q == console::ConsoleDevice::TRANSMITQ && u->len != 0) __builtin_trap();
                ++seen[q];
            }
    };
    bool was_reset = false;
    for (unsigned step = 0; step < 64 && in.remaining_bytes() > 0; ++step) {
        switch (in.ConsumeIntegralInRange(0, 5)) {
        case 0: device.process_queue(ctx, console::ConsoleDevice::TRANSMITQ); break;
        case 1: device.process_queue(ctx, console::ConsoleDevice::RECEIVEQ); break;
        case 2: device.process_backend(ctx); break;
        case 3: host.room += in.ConsumeIntegralInRange<size_t>(0, 8000); break;
        case 4:
            if (in.ConsumeProbability<float>() < 0.1f) {
                device.reset();
                was_reset = true;
            }
            break;
        default: break;
        }
        check_used();
        if (was_reset) break;
    }
    if (!was_reset) {
        // Liveness: with room on the host end, every transmit chain completes.
        // Each pass sends max_bytes or completes max_chains: a bounded number of passes.
        host.room = SIZE_MAX;
        const size_t passes = expected_out.size() / tuning.max_bytes + 2 * MAX_CHAINS + 2;
        for (size_t i = 0; i < passes && seen[1] != rings[1].published &&
                             !ctx.queue(console::ConsoleDevice::TRANSMITQ).broken();
             ++i) {
            device.process_backend(ctx);
            check_used();
        }
        if (!ctx.queue(1).broken() && seen[1] != rings[1].published) __builtin_trap();
        if (!host.drop && host.out != expected_out) __builtin_trap();
    }
    if (!host.drop && host.out.size() > expected_out.size()) __builtin_trap();
    if (!std::equal(host.out.begin(), host.out.end(), expected_out.begin())) __builtin_trap();
    for (uint64_t a = DATA_BASE; a < used_end; ++a)
        if (all[a] != before[a - DATA_BASE] && !writable[a - DATA_BASE]) __builtin_trap();
    for (uint64_t a = used_end; a < MEM_SIZE; a += 8)
        if (all[a] != 0x5a) __builtin_trap();
    return 0;
}
