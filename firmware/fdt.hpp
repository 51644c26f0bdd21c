// A flattened device tree (devicetree specification v0.4) of the same machine the ACPI tables
// describe: memory, CPUs, the IOAPIC, COM1 and every virtio-mmio device. Built with libfdt.
// x86 Linux does not need it (it reads ACPI); it is for inspection (`--dump-dtb`, `dtc`) and for
// an arm64 port.
#pragma once

#include <cstdint>
#include <vector>

#include "acpi/dsdt.hpp"
#include "base/result.hpp"

namespace minivmm::firmware {

constexpr uint32_t FDT_IOAPIC_PHANDLE = 1;
constexpr uint64_t FDT_MAX_SIZE = 64 * 1024;   // far more than 256 devices and 64 CPUs need

struct FdtConfig {
    uint64_t ram_size = 0;       // laid out as GuestMemory::create_x86: low RAM, the rest from 4 GiB
    uint32_t num_vcpus = 1;      // cpu@0..N-1, reg = APIC ID
    std::vector<acpi::VirtioMmioDeviceInfo> virtio_devices;
};

// The blob:
//   /                       compatible "minivmm,x86-64", #address-cells = #size-cells = 2,
//                           interrupt-parent = the IOAPIC
//   /memory@0 (+ @100000000) device_type "memory", reg = each RAM range
//   /cpus/cpu@N             device_type "cpu", reg = N
//   /ioapic@fec00000        compatible "intel,ce4100-ioapic", interrupt-controller,
//                           #interrupt-cells = 2 (pin, 0 = edge rising / 1 = level low)
//   /serial@3f8             compatible "ns16550a", reg = the I/O port range, interrupts = <4 0>
//   /virtio_mmio@BASE       compatible "virtio,mmio", reg = <base size>, interrupts = <irq 0>
// ErrorCode::Invalid for zero vCPUs, a RAM size outside the layout's bounds, a device with an
// empty window, or a blob larger than FDT_MAX_SIZE.
Result<std::vector<uint8_t>> build_fdt(const FdtConfig& config);

} // namespace minivmm::firmware
