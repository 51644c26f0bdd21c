// libFuzzer target for the virtio-mmio transport: a stream of register
// reads and writes (any offset, widths 1/2/4/8, config space included), driver
// initialisations, notifications and guest-memory mutations over an MmioTransport with a
// virtio-blk device on a memory disk. Oracles: no crash or UB; status bits are only cleared by
// a reset; QueueReady and the queue size of a live device never change until the reset.
#include <fuzzer/FuzzedDataProvider.h>

#include <chrono>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "base/log.hpp"
#include "block/block_device.hpp"
#include "block/memory_backend.hpp"
#include "counting_irq_line.hpp"
#include "guest_driver.hpp"
#include "mmio_driver.hpp"
#include "virtio/mmio_transport.hpp"

using namespace minivmm;

namespace {

constexpr uint64_t MEM_SIZE = 256 * 1024;
constexpr size_t MAX_OPS = 512;
constexpr uint32_t REGISTERS[] = {
    VIRTIO_MMIO_MAGIC_VALUE,      VIRTIO_MMIO_VERSION,         VIRTIO_MMIO_DEVICE_ID,
    VIRTIO_MMIO_DEVICE_FEATURES,  VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DRIVER_FEATURES,
    VIRTIO_MMIO_DRIVER_FEATURES_SEL, VIRTIO_MMIO_QUEUE_SEL,    VIRTIO_MMIO_QUEUE_NUM_MAX,
    VIRTIO_MMIO_QUEUE_NUM,        VIRTIO_MMIO_QUEUE_READY,     VIRTIO_MMIO_QUEUE_NOTIFY,
    VIRTIO_MMIO_INTERRUPT_STATUS, VIRTIO_MMIO_INTERRUPT_ACK,   VIRTIO_MMIO_STATUS,
    VIRTIO_MMIO_QUEUE_DESC_LOW,   VIRTIO_MMIO_QUEUE_DESC_HIGH, VIRTIO_MMIO_QUEUE_AVAIL_LOW,
    VIRTIO_MMIO_QUEUE_AVAIL_HIGH, VIRTIO_MMIO_QUEUE_USED_LOW,  VIRTIO_MMIO_QUEUE_USED_HIGH,
    VIRTIO_MMIO_CONFIG_GENERATION, 0x100, 0x104, 0x108, 0x120, 0x13c, 0x140};
constexpr uint32_t STATUS_BITS[] = {VIRTIO_CONFIG_S_ACKNOWLEDGE, VIRTIO_CONFIG_S_DRIVER,
                                    VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_CONFIG_S_DRIVER_OK,
                                    VIRTIO_CONFIG_S_FAILED, VIRTIO_CONFIG_S_NEEDS_RESET};

struct Live {   // what must not change while DRIVER_OK is set
    bool valid = false;
    uint32_t ready = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static bool quiet = (set_log_level(LogLevel::Off), true);
    (void)quiet;
    static auto mem_result = GuestMemory::create({{GuestAddress(0), MEM_SIZE}});
    const GuestMemory& mem = *mem_result;
    auto all = *mem.slice(GuestAddress(0), MEM_SIZE);
    std::fill(all.begin(), all.end(), uint8_t{0});

    FuzzedDataProvider in(data, size);
    // No polling (it would only spin here); a small request budget, so that notify() also
    // returns with the device yielding (requeue) and later calls pick up from there.
    const block::BlockTuning tuning{std::chrono::nanoseconds(0), in.ConsumeIntegralInRange(1u, 8u),
                                    uint64_t{1} << 20};
    auto device = std::make_shared<block::BlockDevice>(
        std::make_unique<block::MemoryBackend>(64 * 1024, in.ConsumeBool()), "fuzz", tuning);
    virtio::MmioTransport t(device, mem, std::make_unique<CountingIrqLine>());
    test::MmioDriver drv(t);
    const uint16_t qsize = static_cast<uint16_t>(1u << in.ConsumeIntegralInRange(0, 8));
    test::GuestDriver ring(mem, qsize, GuestAddress(0x1000));

    Live live;
    for (size_t op = 0; op < MAX_OPS && in.remaining_bytes() > 0; ++op) {
        const uint32_t before = t.status();
        bool reset = false;
        switch (in.ConsumeIntegralInRange(0, 7)) {
        case 0:
        case 1: {   // register or config write
            uint64_t offset = in.ConsumeBool() ? in.PickValueInArray(REGISTERS)
                                               : in.ConsumeIntegralInRange<uint64_t>(0, 0xfff);
            // The bus passes widths 1/2/4/8 only (the bus's own tests check the rest).
            size_t width = in.PickValueInArray<size_t>({1, 2, 4, 4, 4, 8});
            if (offset + width > 0x1000) break;   // the bus never passes such an access
            uint8_t buf[8];
            uint64_t value = in.ConsumeBool() ? in.PickValueInArray(STATUS_BITS) | before
                                              : in.ConsumeIntegral<uint64_t>();
            for (size_t i = 0; i < 8; ++i) buf[i] = static_cast<uint8_t>(value >> (8 * i));
            reset = offset == VIRTIO_MMIO_STATUS && width == 4 && static_cast<uint32_t>(value) == 0;
            t.write(offset, std::span<const uint8_t>(buf, width));
            break;
        }
        case 2: {   // register or config read
            uint64_t offset = in.ConsumeIntegralInRange<uint64_t>(0, 0xff8);
            uint8_t buf[8];
            t.read(offset, std::span<uint8_t>(buf, in.PickValueInArray<size_t>({1, 2, 4, 8})));
            break;
        }
        case 3:   // a well-behaved initialisation
            reset = true;
            drv.negotiate(in.ConsumeBool() ? drv.device_features() : in.ConsumeIntegral<uint64_t>());
            drv.setup_queue(0, ring);
            drv.add_status(VIRTIO_CONFIG_S_DRIVER_OK);
            break;
        case 4:   // the I/O thread's entry points
            if (in.ConsumeBool())
                t.notify(in.ConsumeIntegralInRange<size_t>(0, 2));
            else
                t.backend_ready();
            break;
        case 5: {   // the guest scribbles on its rings and buffers
            uint64_t at = in.ConsumeIntegralInRange<uint64_t>(0x1000, MEM_SIZE - 8);
            uint64_t value = in.ConsumeIntegral<uint64_t>();
            std::memcpy(all.data() + at, &value, 8);
            break;
        }
        case 6: {   // a plausible request: header, data, status
            uint64_t base = 0x20000 + 0x1000 * in.ConsumeIntegralInRange<uint64_t>(0, 15);
            vring_desc d[3] = {{base, 16, VRING_DESC_F_NEXT, 1},
                               {base + 0x100, 512, static_cast<uint16_t>(VRING_DESC_F_NEXT |
                                   (in.ConsumeBool() ? VRING_DESC_F_WRITE : 0)), 2},
                               {base + 0x400, 1, VRING_DESC_F_WRITE, 0}};
            uint32_t hdr[4] = {in.PickValueInArray({0u, 1u, 4u, 8u, 11u, 13u, 99u}), 0,
                               in.ConsumeIntegralInRange<uint32_t>(0, 200), 0};
            std::memcpy(all.data() + base, hdr, sizeof hdr);
            for (uint16_t i = 0; i < 3 && i < qsize; ++i) ring.write_desc(i, d[i]);
            ring.push_head(0);
            ring.publish();
            break;
        }
        default:   // an ack
            drv.write32(VIRTIO_MMIO_INTERRUPT_ACK, in.ConsumeIntegral<uint32_t>());
            break;
        }
        const uint32_t after = t.status();
        // Oracle: bits are only cleared by a reset.
        if (!reset && (before & ~after) != 0) __builtin_trap();
        // Oracle: the queue of a live device is frozen.
        if (after & VIRTIO_CONFIG_S_DRIVER_OK) {
            drv.write32(VIRTIO_MMIO_QUEUE_SEL, 0);
            uint32_t ready = drv.read32(VIRTIO_MMIO_QUEUE_READY);
            if (live.valid && !reset && ready != live.ready) __builtin_trap();
            live = {true, ready};
        } else {
            live.valid = false;
        }
    }
    return 0;
}
