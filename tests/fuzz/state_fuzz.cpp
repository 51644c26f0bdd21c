// libFuzzer target for the devices' saved state (the parsers a snapshot file reaches):
// VirtioCore::restore_state over a virtio-blk device on a memory disk, and I8042::restore_state.
// The core's input is either raw state bytes, or a real state (a driver initialised the device
// with a fuzzed queue geometry and sent a few requests) with fuzzed bytes overwritten, a fuzzed
// length cut, or both; the i8042's is raw bytes (an accepted state saves back to them).
// Oracles:
//  - a refused state leaves the core reset (status 0, queue not ready);
//  - an accepted state saves again (nothing in flight after a restore), and those bytes restore
//    into another fresh core that saves them unchanged (the format has one spelling per state);
//  - sanitizers: no read outside the bytes or outside guest memory.
#include <fuzzer/FuzzedDataProvider.h>

#include <linux/virtio_config.h>

#include "block/block_device.hpp"
#include "block/memory_backend.hpp"
#include "counting_irq_line.hpp"
#include "fuzz_chains.hpp"
#include "guest_driver.hpp"
#include "legacy/i8042.hpp"
#include "virtio/virtio_core.hpp"

using namespace minivmm;

namespace {

constexpr uint64_t MEM_SIZE = 256 * 1024;

std::unique_ptr<virtio::VirtioCore> make_core(const GuestMemory& mem) {
    auto device = std::make_shared<block::BlockDevice>(
        std::make_unique<block::MemoryBackend>(64 * 1024), "fuzz");
    return std::make_unique<virtio::VirtioCore>(device, mem, std::make_unique<CountingIrqLine>(),
                                                "fuzz");
}

// A state a real driver produced: the §3.1.1 order with a fuzzed geometry, then requests.
std::vector<uint8_t> real_state(FuzzedDataProvider& in, const GuestMemory& mem) {
    auto core = make_core(mem);
    using S = virtio::VirtioCore;
    const uint32_t ok = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                        VIRTIO_CONFIG_S_FEATURES_OK;
    core->write_status(VIRTIO_CONFIG_S_ACKNOWLEDGE);
    core->write_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    const uint64_t features = core->device_features() & in.ConsumeIntegral<uint64_t>();
    core->write_driver_features(0, static_cast<uint32_t>(features));
    core->write_driver_features(1, static_cast<uint32_t>(features >> 32) | 1);   // VERSION_1
    core->write_status(ok);
    const uint16_t qsize = static_cast<uint16_t>(1u << in.ConsumeIntegralInRange(0, 8));
    test::GuestDriver ring(mem, qsize, GuestAddress(0x1000));
    core->set_queue_size(0, qsize);
    core->set_queue_address(0, S::Ring::Desc, ring.desc_table().value());
    core->set_queue_address(0, S::Ring::Avail, ring.avail_ring().value());
    core->set_queue_address(0, S::Ring::Used, ring.used_ring().value());
    core->set_queue_ready(0, in.ConsumeBool());
    if (in.ConsumeBool()) core->write_status(ok | VIRTIO_CONFIG_S_DRIVER_OK);
    // Three descriptors a request: as many as the ring holds, at most three.
    const unsigned requests = in.ConsumeIntegralInRange(0u, std::min(3u, qsize / 3u));
    for (unsigned i = 0; i < requests; ++i) {   // GET_ID requests, answered by the device
        GuestAddress hdr = ring.alloc(16), id = ring.alloc(20), status = ring.alloc(1);
        const uint8_t get_id[16] = {8};
        ring.fill(hdr, get_id);
        ring.add_chain({{hdr, 16, virtio::Direction::Readable},
                        {id, 20, virtio::Direction::Writable},
                        {status, 1, virtio::Direction::Writable}});
    }
    ring.publish();
    core->notify(0);
    core->pause();
    auto saved = core->save_state();
    return saved ? *saved : std::vector<uint8_t>{};
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto [mem, all] = test::fuzz_memory(MEM_SIZE, 0);
    FuzzedDataProvider in(data, size);
    std::vector<uint8_t> bytes;
    const int target = in.ConsumeIntegralInRange(0, 2);
    if (target == 2) {
        I8042 controller([] {});
        const uint16_t version = in.ConsumeIntegralInRange<uint16_t>(0, 2);
        bytes = in.ConsumeRemainingBytes<uint8_t>();
        StateReader r(bytes);
        if (!controller.restore_state(r, version)) {
            if (controller.queued() != 0) __builtin_trap();
            return 0;
        }
        StateWriter w;
        controller.save_state(w);
        if (w.bytes() != bytes) __builtin_trap();
        return 0;
    }
    if (target == 1) {
        bytes = real_state(in, mem);
        const size_t edits = in.ConsumeIntegralInRange<size_t>(0, 4);
        for (size_t i = 0; i < edits && !bytes.empty(); ++i)
            bytes[in.ConsumeIntegralInRange<size_t>(0, bytes.size() - 1)] = in.ConsumeIntegral<uint8_t>();
        if (in.ConsumeBool()) bytes.resize(in.ConsumeIntegralInRange<size_t>(0, bytes.size()));
    } else {
        bytes = in.ConsumeRemainingBytes<uint8_t>();
    }

    auto core = make_core(mem);
    if (!core->restore_state(bytes)) {
        if (core->status() != 0 || core->queue_ready(0)) __builtin_trap();
        return 0;
    }
    auto saved = core->save_state();
    if (!saved) __builtin_trap();
    auto again = make_core(mem);
    if (!again->restore_state(*saved)) __builtin_trap();
    auto resaved = again->save_state();
    if (!resaved || *resaved != *saved) __builtin_trap();
    return 0;
}
