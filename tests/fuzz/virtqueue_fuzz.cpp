// libFuzzer target for the device side of the split virtqueue: the input is a guest memory
// image plus a small header (queue size, features, ring addresses) and a list of operations.
// Every path must stay inside guest RAM and never crash, whatever the rings contain.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/log.hpp"
#include "memory/guest_memory.hpp"
#include "virtio/chain_io.hpp"
#include "virtio/queue.hpp"
#include "virtio/virtio_ring.hpp"

using namespace minivmm;

namespace {

constexpr uint64_t MEM_SIZE = 64 * 1024;
constexpr size_t HEADER = 8;     // size, features, desc, avail, used (u16 each)
constexpr size_t MAX_OPS = 256;

uint16_t u16_at(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

void process(const GuestMemory& mem, virtio::Queue& q, uint8_t op) {
    auto head = q.pop();
    if (!head) return;
    uint32_t written = 0;
    if (auto chain = q.chain(*head)) {
        virtio::ChainReader reader(mem, *chain);
        std::vector<uint8_t> buf(std::min<uint64_t>(reader.remaining(), 4096));
        (void)reader.read(buf);
        virtio::ChainWriter writer(mem, *chain);
        std::vector<uint8_t> reply(std::min<uint64_t>(writer.remaining(), op * 17u), op);
        (void)writer.write(reply);
        written = writer.bytes_written();
    }
    if (!q.add_used(*head, written)) __builtin_trap();   // a popped head must be completable
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static bool quiet = (set_log_level(LogLevel::Off), true);
    (void)quiet;
    if (size < HEADER) return 0;
    static auto mem_result = GuestMemory::create({{GuestAddress(0), MEM_SIZE}});
    const GuestMemory& mem = *mem_result;
    // The memory image: the whole input (header and ops included), zero-padded.
    auto all = *mem.slice(GuestAddress(0), MEM_SIZE);
    std::fill(all.begin(), all.end(), uint8_t{0});
    std::memcpy(all.data(), data, std::min<size_t>(size, MEM_SIZE));

    virtio::Queue q(16);
    const uint8_t flags = data[1];
    uint64_t features = 0;
    if (flags & 1) features |= virtio::FEATURE_INDIRECT_DESC;
    if (flags & 2) features |= virtio::FEATURE_EVENT_IDX;
    q.set_features(features);
    // Bit 2 keeps the raw addresses (often misaligned); otherwise they are aligned.
    const bool raw = (flags & 4) != 0;
    const GuestAddress desc(u16_at(data + 2) & (raw ? 0xFFFF : 0xFFF0));
    const GuestAddress avail(u16_at(data + 4) & (raw ? 0xFFFF : 0xFFFE));
    const GuestAddress used(u16_at(data + 6) & (raw ? 0xFFFF : 0xFFFC));
    auto configure = [&] {
        q.set_size(static_cast<uint16_t>(1u << (data[0] % 6)));   // 1..32: 32 exceeds max 16
        q.set_features(features);
        q.set_desc_table(desc);
        q.set_avail_ring(avail);
        q.set_used_ring(used);
        return q.activate(mem).has_value();
    };
    if (!configure()) return 0;

    // Operations: the input bytes after the header (they are part of the memory image too).
    std::vector<uint16_t> held;   // popped heads the "device" completes later
    const size_t ops = std::min(size - HEADER, MAX_OPS);
    for (size_t i = 0; i < ops; ++i) {
        const uint8_t op = data[HEADER + i];
        switch (op & 7) {
        case 0: case 1: process(mem, q, op); break;
        case 2:
            if (auto h = q.pop()) held.push_back(*h);
            break;
        case 3: {   // the guest publishes more (or garbage): bump avail->idx
            auto idx = mem.read_obj<uint16_t>(avail + 2);
            if (idx) (void)mem.write_obj(avail + 2, static_cast<uint16_t>(*idx + (op >> 3)));
            break;
        }
        case 4: (void)q.enable_notification(); break;
        case 5: q.disable_notification(); break;
        case 6: (void)q.needs_notification(); break;
        case 7:
            if (!held.empty()) {
                if (!q.add_used(held.back(), op)) __builtin_trap();
                held.pop_back();
            } else {
                q.reset();   // then the driver sets the queue up again
                if (!configure()) return 0;
            }
            break;
        }
        if (q.in_flight() > q.size() || q.in_flight() != held.size()) __builtin_trap();
    }
    return 0;
}
