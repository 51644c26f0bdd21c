// virtio-mmio version 2 transport (Virtio 1.2 §4.2.2): register decoding over a VirtioCore.
#include "virtio/mmio_transport.hpp"

#include <algorithm>

#include <linux/virtio_mmio.h>

namespace minivmm::virtio {

namespace {

constexpr uint32_t MAGIC = 0x74726976;   // "virt"
constexpr uint32_t VERSION = 2;          // modern virtio-mmio
static_assert(VirtioCore::INT_USED_BUFFER == VIRTIO_MMIO_INT_VRING &&
              VirtioCore::INT_CONFIG == VIRTIO_MMIO_INT_CONFIG);

uint32_t load_le32(std::span<const uint8_t> data) {
    return static_cast<uint32_t>(data[0]) | static_cast<uint32_t>(data[1]) << 8 |
           static_cast<uint32_t>(data[2]) << 16 | static_cast<uint32_t>(data[3]) << 24;
}

void store_le32(std::span<uint8_t> data, uint32_t value) {
    for (size_t i = 0; i < 4; ++i) data[i] = static_cast<uint8_t>(value >> (8 * i));
}

uint64_t set_half(uint64_t old, uint32_t value, bool high) {
    return high ? (old & 0xffff'ffffULL) | (static_cast<uint64_t>(value) << 32)
                : (old & ~0xffff'ffffULL) | value;
}

} // namespace

MmioTransport::MmioTransport(std::shared_ptr<VirtioCore> core) : core_(std::move(core)) {}

MmioTransport::MmioTransport(std::shared_ptr<VirtioDevice> device, const GuestMemory& mem,
                             std::unique_ptr<IrqLine> irq)
    : MmioTransport(
          std::make_shared<VirtioCore>(std::move(device), mem, std::move(irq), "virtio-mmio")) {}

void MmioTransport::read(uint64_t offset, std::span<uint8_t> data) noexcept {
    if (offset >= CONFIG_OFFSET) {
        core_->read_config(offset - CONFIG_OFFSET, data);
        return;
    }
    std::fill(data.begin(), data.end(), uint8_t{0});
    if (data.size() != 4 || offset % 4 != 0) return;   // §4.2.2.2: 32-bit accesses only
    store_le32(data, read_register(offset));
}

void MmioTransport::write(uint64_t offset, std::span<const uint8_t> data) noexcept {
    if (offset >= CONFIG_OFFSET) {
        core_->write_config(offset - CONFIG_OFFSET, data);
        return;
    }
    if (data.size() != 4 || offset % 4 != 0) {
        core_->warn("ignored {}-byte register write at {:#x}", data.size(), offset);
        return;
    }
    write_register(offset, load_le32(data));
}

uint32_t MmioTransport::read_register(uint64_t offset) const {
    const uint32_t sel = queue_sel_.load(std::memory_order_relaxed);
    switch (offset) {
    case VIRTIO_MMIO_MAGIC_VALUE: return MAGIC;
    case VIRTIO_MMIO_VERSION: return VERSION;
    case VIRTIO_MMIO_DEVICE_ID: return core_->device_type();
    case VIRTIO_MMIO_VENDOR_ID: return VENDOR_ID;
    case VIRTIO_MMIO_DEVICE_FEATURES: {
        const uint32_t page = device_features_sel_.load(std::memory_order_relaxed);
        return page > 1 ? 0 : static_cast<uint32_t>(core_->device_features() >> (32 * page));
    }
    case VIRTIO_MMIO_QUEUE_NUM_MAX: return core_->queue_max_size(sel);
    case VIRTIO_MMIO_QUEUE_READY: return core_->queue_ready(sel) ? 1 : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS: return core_->interrupt_status();
    case VIRTIO_MMIO_STATUS: return core_->status();
    case VIRTIO_MMIO_CONFIG_GENERATION: return core_->config_generation();
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH: return 0xffff'ffff;   // §4.2.2: no shared memory regions
    default: return 0;                                   // write-only or reserved
    }
}

void MmioTransport::write_register(uint64_t offset, uint32_t value) {
    switch (offset) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: device_features_sel_.store(value); return;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: driver_features_sel_.store(value); return;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        core_->write_driver_features(driver_features_sel_.load(), value);
        return;
    case VIRTIO_MMIO_QUEUE_SEL: queue_sel_.store(value); return;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        // Not caught by an ioeventfd (the machine registers one per queue, so only in tests or
        // for an index out of range): served to the end here, nobody would come back for it.
        while (core_->notify(value)) {
        }
        return;
    case VIRTIO_MMIO_INTERRUPT_ACK: core_->acknowledge_interrupt(value); return;
    case VIRTIO_MMIO_STATUS:
        if (value == 0) {   // a reset also clears the selectors
            device_features_sel_.store(0);
            driver_features_sel_.store(0);
            queue_sel_.store(0);
        }
        core_->write_status(value);
        return;
    case VIRTIO_MMIO_QUEUE_NUM:
    case VIRTIO_MMIO_QUEUE_READY:
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
    case VIRTIO_MMIO_QUEUE_USED_LOW:
    case VIRTIO_MMIO_QUEUE_USED_HIGH: write_queue_register(offset, value); return;
    default: core_->warn("ignored write of {:#x} to register {:#x}", value, offset); return;
    }
}

// The 64-bit ring addresses are written as two halves; the core keeps the whole address.
void MmioTransport::write_queue_register(uint64_t offset, uint32_t value) {
    const uint32_t sel = queue_sel_.load(std::memory_order_relaxed);
    auto set_ring = [&](VirtioCore::Ring ring, bool high) {
        core_->set_queue_address(sel, ring, set_half(core_->queue_address(sel, ring), value, high));
    };
    switch (offset) {
    case VIRTIO_MMIO_QUEUE_NUM: core_->set_queue_size(sel, value); return;
    case VIRTIO_MMIO_QUEUE_READY: core_->set_queue_ready(sel, value != 0); return;
    case VIRTIO_MMIO_QUEUE_DESC_LOW: set_ring(VirtioCore::Ring::Desc, false); return;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: set_ring(VirtioCore::Ring::Desc, true); return;
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW: set_ring(VirtioCore::Ring::Avail, false); return;
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH: set_ring(VirtioCore::Ring::Avail, true); return;
    case VIRTIO_MMIO_QUEUE_USED_LOW: set_ring(VirtioCore::Ring::Used, false); return;
    case VIRTIO_MMIO_QUEUE_USED_HIGH: set_ring(VirtioCore::Ring::Used, true); return;
    default: return;
    }
}

} // namespace minivmm::virtio
