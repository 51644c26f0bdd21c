// PCI configuration mechanism #1 with a lone host bridge; see pci_host_bridge.hpp.
#include "legacy/pci_host_bridge.hpp"

#include <algorithm>
#include <cstring>

namespace minivmm {

namespace {
constexpr uint64_t DATA_OFFSET = 4;                   // 0xcfc
constexpr uint32_t BUS_DEVICE_FUNCTION = 0x00ff'ff00; // address bits 23:8
constexpr uint32_t REGISTER = 0xfc;                   // address bits 7:2
} // namespace

PciHostBridge::PciHostBridge() {
    const uint32_t ids = VENDOR_ID | uint32_t{DEVICE_ID} << 16;
    const uint32_t class_revision = CLASS_HOST_BRIDGE << 8;   // revision 0
    std::memcpy(header_.data() + 0x00, &ids, 4);
    std::memcpy(header_.data() + 0x08, &class_revision, 4);
    // Header type 0 (0x0e), no capabilities, no BARs, no interrupt pin: the rest stays 0.
}

void PciHostBridge::read(uint64_t offset, std::span<uint8_t> data) noexcept {
    std::fill(data.begin(), data.end(), uint8_t{0xff});
    if (offset < DATA_OFFSET) {
        if (offset == 0 && data.size() == 4) {
            const uint32_t a = address_.load(std::memory_order_relaxed);
            std::memcpy(data.data(), &a, 4);
        }
        return;
    }
    const uint32_t a = address_.load(std::memory_order_relaxed);
    if ((a & ADDRESS_ENABLE) == 0 || (a & BUS_DEVICE_FUNCTION) != 0) return;
    // Guest-controlled: register (< 256) + offset within the data port (< 4) + size.
    const uint64_t reg = (a & REGISTER) + (offset - DATA_OFFSET);
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = reg + i < header_.size() ? header_[reg + i] : uint8_t{0};
}

void PciHostBridge::write(uint64_t offset, std::span<const uint8_t> data) noexcept {
    if (offset != 0 || data.size() != 4) return;
    uint32_t a;
    std::memcpy(&a, data.data(), 4);
    address_.store(a, std::memory_order_relaxed);
}

} // namespace minivmm
