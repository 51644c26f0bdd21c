// Differentiated System Description Table, ACPI 6.5 §5.2.11.1: the header followed by AML that
// describes COM1, the pvpanic port, one virtio-mmio device per entry and the \_S5 (soft off) sleep package.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.hpp"

namespace minivmm::acpi {

constexpr uint8_t DSDT_REVISION = 2; // 2: AML integers are 64 bits

// One virtio-mmio transport: its register window and its interrupt (a GSI of the IOAPIC).
struct VirtioMmioDeviceInfo {
    uint64_t base;
    uint64_t size;
    uint32_t irq;
};

// Devices are named V000..V0FF in \_SB; the bound also keeps the tables in the BIOS area.
constexpr size_t DSDT_MAX_VIRTIO_DEVICES = 256;

// The sealed DSDT:
//   \_SB.COM1  _HID PNP0501, _CRS IO 0x3f8-0x3ff and IRQ 4
//   \_SB.PEVT  _HID "QEMU0001" (pvpanic), _CRS IO 0x505
//   \_SB.Vnnn  _HID "LNRO0005", _UID n, _CRS Memory32Fixed(base, size) and Interrupt(irq)
//   \_S5       Package {ACPI_S5_SLP_TYP, 0, 0, 0}
// Returns ErrorCode::Invalid for more than DSDT_MAX_VIRTIO_DEVICES devices, or a device with
// an empty window or one that does not lie below 4 GiB.
Result<std::vector<uint8_t>> build_dsdt(const std::vector<VirtioMmioDeviceInfo>& devices);

} // namespace minivmm::acpi
