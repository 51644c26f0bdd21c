// libFuzzer target: operation sequences over one split virtqueue, as a
// hostile driver and a device would interleave them, with guest-memory writes between the steps
// (the rings change under the device's feet: double-fetch / TOCTOU). A reference model of the
// heads in flight checks the invariants after every step:
//  - in flight <= size, and exactly the heads the model popped and did not complete;
//  - no double completion: add_used succeeds iff the head is in flight (never after a reset);
//  - used->idx advances by exactly one per completion (mod 2^16) and is the device's next_used;
//  - a popped head is < size and was not already in flight; a broken queue pops nothing;
//  - a walked chain has at most size + MAX_INDIRECT buffers, each inside guest RAM.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>

#include <fuzzer/FuzzedDataProvider.h>

#include "base/log.hpp"
#include "memory/guest_memory.hpp"
#include "virtio/descriptor_chain.hpp"
#include "virtio/queue.hpp"
#include "virtio/virtio_ring.hpp"

using namespace minivmm;

namespace {

constexpr uint64_t MEM_SIZE = 64 * 1024;
constexpr uint16_t MAX_SIZE = 64;
constexpr size_t MAX_STEPS = 512;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) __builtin_trap();                                                             \
    } while (0)

struct Harness {
    Harness(const GuestMemory& m, FuzzedDataProvider& i) : mem(m), in(i) {}

    const GuestMemory& mem;
    FuzzedDataProvider& in;
    virtio::Queue q{MAX_SIZE};
    std::set<uint16_t> in_flight;   // the model: popped, not yet completed
    std::set<uint16_t> stale;       // popped before a reset: must never be completable
    // The geometry the driver sets; kept so the "driver" knows where to write.
    uint16_t size = 16;
    uint64_t desc = 0x1000, avail = 0x2000, used = 0x3000;
    uint16_t driver_avail_idx = 0;

    // Mostly aligned addresses inside RAM; rarely anything.
    uint64_t address(uint64_t align) {
        if (in.ConsumeProbability<float>() < 0.05f) return in.ConsumeIntegral<uint64_t>();
        return in.ConsumeIntegralInRange<uint64_t>(0, MEM_SIZE - 1) & ~(align - 1);
    }

    uint8_t* host(uint64_t addr, uint64_t len) const {
        auto s = mem.slice(GuestAddress(addr), len);
        return s ? s->data() : nullptr;
    }

    void write16(uint64_t addr, uint16_t v) const {
        if (uint8_t* p = host(addr, 2)) std::memcpy(p, &v, 2);
    }

    uint16_t used_idx() const {
        uint16_t v = 0;
        if (const uint8_t* p = host(used + 2, 2)) std::memcpy(&v, p, 2);
        return v;
    }

    // The driver publishes one chain of 1..3 descriptors starting at a chosen index.
    void driver_publish() {
        if (size == 0 || size > MAX_SIZE || (size & (size - 1)) != 0) return;
        uint16_t head = in.ConsumeIntegralInRange<uint16_t>(0, static_cast<uint16_t>(size - 1));
        unsigned n = in.ConsumeIntegralInRange<unsigned>(1, 3);
        for (unsigned i = 0; i < n; ++i) {
            vring_desc d{};
            d.addr = in.ConsumeIntegralInRange<uint64_t>(0x8000, MEM_SIZE - 1);
            d.len = in.ConsumeIntegralInRange<uint32_t>(0, 512);
            uint16_t idx = static_cast<uint16_t>((head + i) % size);
            d.flags = static_cast<uint16_t>((i + 1 < n ? VRING_DESC_F_NEXT : 0) |
                                            (in.ConsumeBool() ? VRING_DESC_F_WRITE : 0));
            d.next = static_cast<uint16_t>((head + i + 1) % size);
            if (uint8_t* p = host(desc + 16ull * idx, sizeof d)) std::memcpy(p, &d, sizeof d);
        }
        write16(avail + 4 + 2ull * (driver_avail_idx % size), head);
        driver_avail_idx = static_cast<uint16_t>(driver_avail_idx + 1);
        write16(avail + 2, driver_avail_idx);
    }

    // The guest scribbles: a few bytes anywhere, mostly over the rings.
    void mutate() {
        uint64_t base;
        switch (in.ConsumeIntegralInRange<int>(0, 4)) {
        case 0: base = desc; break;
        case 1: base = avail; break;
        case 2: base = used; break;
        case 3: write16(avail + 2, in.ConsumeIntegral<uint16_t>()); return;   // avail->idx
        default: base = 0; break;
        }
        uint64_t off = in.ConsumeIntegralInRange<uint64_t>(0, base == 0 ? MEM_SIZE - 1 : 1024);
        auto bytes = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(1, 16));
        if (bytes.empty() || base > UINT64_MAX - off) return;
        if (uint8_t* p = host(base + off, bytes.size())) std::memcpy(p, bytes.data(), bytes.size());
    }

    // The driver writes the queue registers; on a ready queue the writes must be ignored.
    void configure() {
        uint16_t new_size;
        if (in.ConsumeProbability<float>() < 0.1f) new_size = in.ConsumeIntegral<uint16_t>();
        else new_size = static_cast<uint16_t>(1u << in.ConsumeIntegralInRange<unsigned>(0, 7));
        uint64_t new_desc = address(16), new_avail = address(2), new_used = address(4);
        const bool ready = q.ready();
        const uint16_t ready_size = q.size();
        q.set_size(new_size);
        q.set_desc_table(GuestAddress(new_desc));
        q.set_avail_ring(GuestAddress(new_avail));
        q.set_used_ring(GuestAddress(new_used));
        if (ready) {
            CHECK(q.ready() && q.size() == ready_size);   // frozen while ready
        } else {
            size = new_size;
            desc = new_desc;
            avail = new_avail;
            used = new_used;
        }
        uint64_t features = 0;
        if (in.ConsumeBool()) features |= virtio::FEATURE_INDIRECT_DESC;
        if (in.ConsumeBool()) features |= virtio::FEATURE_EVENT_IDX;
        q.set_features(features);
    }

    void activate() {
        bool was_ready = q.ready();
        auto r = q.activate(mem);
        if (was_ready) {
            CHECK(!r);   // a ready queue cannot be activated again
            return;
        }
        if (r) {
            CHECK(q.ready() && q.in_flight() == 0);
            CHECK(q.size() >= 1 && q.size() <= q.max_size() && (q.size() & (q.size() - 1)) == 0);
            size = q.size();
            CHECK(q.next_used() == 0 && q.next_avail() == 0);
            driver_avail_idx = 0;
            in_flight.clear();
        } else {
            CHECK(!q.ready());
        }
    }

    void pop() {
        bool was_broken = q.broken();
        auto head = q.pop();
        if (!head) return;
        CHECK(q.ready() && !was_broken);
        CHECK(*head < q.size());
        CHECK(in_flight.insert(*head).second);   // never handed out twice
        stale.erase(*head);
    }

    void walk() {
        uint16_t head = in_flight.empty() || in.ConsumeBool() ? in.ConsumeIntegral<uint16_t>()
                                                              : *in_flight.begin();
        auto chain = q.chain(head);
        if (!chain) return;
        CHECK(q.ready());
        CHECK(chain->buffers().size() <= size_t{q.size()} + virtio::DescriptorChain::MAX_INDIRECT);
        uint64_t readable = 0, writable = 0;
        for (const auto& b : chain->buffers()) {
            CHECK(mem.slice(b.addr, b.len).has_value());
            CHECK(b.len > 0);
            (b.direction == virtio::Direction::Writable ? writable : readable) += b.len;
        }
        CHECK(readable == chain->readable_len() && writable == chain->writable_len());
    }

    void complete() {
        uint16_t head;
        int pick = in.ConsumeIntegralInRange<int>(0, 3);
        if (pick == 0 && !in_flight.empty()) head = *in_flight.begin();
        else if (pick == 1 && !in_flight.empty()) head = *in_flight.rbegin();
        else if (pick == 2 && !stale.empty()) head = *stale.begin();
        else head = in.ConsumeIntegral<uint16_t>();
        uint32_t len = in.ConsumeIntegral<uint32_t>();
        bool expected = q.ready() && in_flight.count(head) != 0;
        uint16_t before = q.next_used();
        auto r = q.add_used(head, len);
        CHECK(r.has_value() == expected);   // no double completion, none after a reset
        if (!r) {
            CHECK(q.next_used() == before);
            return;
        }
        in_flight.erase(head);
        CHECK(q.next_used() == static_cast<uint16_t>(before + 1));
        CHECK(used_idx() == q.next_used());
    }

    void reset() {
        q.reset();
        size = q.max_size();   // what reset() leaves; the rings are at 0 until configured
        desc = avail = used = 0;
        stale.insert(in_flight.begin(), in_flight.end());
        in_flight.clear();
        CHECK(!q.ready() && q.in_flight() == 0 && q.size() == q.max_size());
    }

    void check() const {
        CHECK(q.in_flight() <= q.size() || !q.ready());
        CHECK(q.in_flight() == in_flight.size());
        if (!q.ready()) CHECK(q.in_flight() == 0);
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static bool quiet = (set_log_level(LogLevel::Off), true);
    (void)quiet;
    static auto mem_result = GuestMemory::create({{GuestAddress(0), MEM_SIZE}});
    const GuestMemory& mem = *mem_result;
    auto all = *mem.slice(GuestAddress(0), MEM_SIZE);
    std::memset(all.data(), 0, all.size());

    FuzzedDataProvider in(data, size);
    Harness h(mem, in);
    // Start from a valid, ready queue most of the time, so that deep states are reached.
    h.q.set_size(h.size);
    h.q.set_desc_table(GuestAddress(h.desc));
    h.q.set_avail_ring(GuestAddress(h.avail));
    h.q.set_used_ring(GuestAddress(h.used));
    if (in.ConsumeBool()) h.activate();

    for (size_t step = 0; step < MAX_STEPS && in.remaining_bytes() > 0; ++step) {
        switch (in.ConsumeIntegralInRange<int>(0, 13)) {
        case 0: h.configure(); break;
        case 1: h.activate(); break;
        case 2: case 3: h.pop(); break;
        case 4: h.walk(); break;
        case 5: case 6: h.complete(); break;
        case 7: (void)h.q.enable_notification(); break;
        case 8: h.q.disable_notification(); break;
        case 9: (void)h.q.needs_notification(); break;
        case 10: h.reset(); break;
        case 11: h.mutate(); break;
        default: h.driver_publish(); break;
        }
        h.check();
    }
    return 0;
}
