// MmioDriver: plays the guest's virtio-mmio driver against an MmioTransport (Virtio 1.2 §3.1.1,
// §4.2.3): 32-bit register accesses and the initialisation sequence, the rings laid out by
// GuestDriver helpers.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "guest_driver.hpp"
#include "virtio/mmio_transport.hpp"

namespace minivmm::test {

class MmioDriver {
public:
    explicit MmioDriver(virtio::MmioTransport& t) : t_(t) {}

    uint32_t read32(uint64_t offset) const {
        uint8_t b[4];
        t_.read(offset, b);
        return static_cast<uint32_t>(b[0]) | static_cast<uint32_t>(b[1]) << 8 |
               static_cast<uint32_t>(b[2]) << 16 | static_cast<uint32_t>(b[3]) << 24;
    }
    void write32(uint64_t offset, uint32_t value) const {
        uint8_t b[4];
        for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(value >> (8 * i));
        t_.write(offset, b);
    }
    uint64_t device_features() const {
        write32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
        uint64_t lo = read32(VIRTIO_MMIO_DEVICE_FEATURES);
        write32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
        return lo | static_cast<uint64_t>(read32(VIRTIO_MMIO_DEVICE_FEATURES)) << 32;
    }
    void write_driver_features(uint64_t features) const {
        write32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
        write32(VIRTIO_MMIO_DRIVER_FEATURES, static_cast<uint32_t>(features));
        write32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
        write32(VIRTIO_MMIO_DRIVER_FEATURES, static_cast<uint32_t>(features >> 32));
    }
    void add_status(uint32_t bits) const { write32(VIRTIO_MMIO_STATUS, read32(VIRTIO_MMIO_STATUS) | bits); }
    // ACKNOWLEDGE, DRIVER, features, FEATURES_OK.
    void negotiate(uint64_t features) const {
        write32(VIRTIO_MMIO_STATUS, 0);
        add_status(VIRTIO_CONFIG_S_ACKNOWLEDGE);
        add_status(VIRTIO_CONFIG_S_DRIVER);
        write_driver_features(features);
        add_status(VIRTIO_CONFIG_S_FEATURES_OK);
    }
    // Programs queue `index` with the rings of `ring` and sets it ready.
    void setup_queue(uint32_t index, const GuestDriver& ring) const {
        write32(VIRTIO_MMIO_QUEUE_SEL, index);
        write32(VIRTIO_MMIO_QUEUE_NUM, ring.size());
        write64(VIRTIO_MMIO_QUEUE_DESC_LOW, ring.desc_table().value());
        write64(VIRTIO_MMIO_QUEUE_AVAIL_LOW, ring.avail_ring().value());
        write64(VIRTIO_MMIO_QUEUE_USED_LOW, ring.used_ring().value());
        write32(VIRTIO_MMIO_QUEUE_READY, 1);
    }
    // The whole sequence: negotiate, one ring per queue, DRIVER_OK.
    void init(uint64_t features, std::span<const GuestDriver* const> rings) const {
        negotiate(features);
        for (size_t i = 0; i < rings.size(); ++i) setup_queue(static_cast<uint32_t>(i), *rings[i]);
        add_status(VIRTIO_CONFIG_S_DRIVER_OK);
    }
    void write64(uint64_t low_offset, uint64_t value) const {
        write32(low_offset, static_cast<uint32_t>(value));
        write32(low_offset + 4, static_cast<uint32_t>(value >> 32));
    }

private:
    virtio::MmioTransport& t_;
};

} // namespace minivmm::test
