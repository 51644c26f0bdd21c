// PciHostBridge: PCI configuration mechanism #1 (PCI Local Bus Specification 3.0 §3.2.2.3.2,
// ports 0xcf8 address and 0xcfc data) with a host bridge at 00:00.0 and nothing else. It gives
// a kernel a working configuration access (Linux logs "PCI: Fatal: No config space access
// function found" without one) and an empty bus: every other function reads all ones.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "bus/bus_device.hpp"

namespace minivmm {

class PciHostBridge : public BusDevice {
public:
    static constexpr uint64_t PORT_COUNT = 8;        // 0xcf8-0xcff
    static constexpr uint32_t ADDRESS_ENABLE = 1U << 31;
    static constexpr uint16_t VENDOR_ID = 0x1b36;    // Red Hat, Inc. (QEMU's virtual devices)
    static constexpr uint16_t DEVICE_ID = 0x0008;    // QEMU's PCIe host bridge: no quirks in Linux
    static constexpr uint32_t CLASS_HOST_BRIDGE = 0x06'00'00;

    PciHostBridge();

    // Guest-controlled offset and size. A 4-byte read of the address register returns the
    // address last written; narrower accesses to it read all ones and are ignored (so the
    // mechanism #2 probe fails). Data reads return the host bridge's header for 00:00.0 with
    // the enable bit set and all ones otherwise; data writes are ignored (the header is
    // read-only: no BARs, the command register stays 0).
    void read(uint64_t offset, std::span<uint8_t> data) noexcept override;
    void write(uint64_t offset, std::span<const uint8_t> data) noexcept override;

private:
    std::array<uint8_t, 64> header_{};   // type 0 configuration header
    // The address register: vCPUs may access it concurrently (Linux serializes its own
    // accesses with a lock, so a plain atomic is enough to stay free of data races).
    std::atomic<uint32_t> address_{0};
};

} // namespace minivmm
