// Builds minivmm's whole set of ACPI tables (RSDP -> XSDT -> {FADT -> DSDT, MADT}) into guest
// memory, ACPI 6.5 §5.2 (the OS finds the RSDP by scanning 0xe0000-0xfffff, §5.2.5.1, or via
// boot_params.acpi_rsdp_addr).
#pragma once

#include <cstdint>
#include <vector>

#include "acpi/dsdt.hpp"
#include "acpi/fadt.hpp"
#include "base/result.hpp"
#include "memory/guest_address.hpp"
#include "memory/guest_memory.hpp"
#include "memory/layout.hpp"

namespace minivmm::acpi {

struct AcpiConfig {
    uint32_t num_vcpus = 1;                             // APIC IDs 0..num_vcpus-1
    std::vector<VirtioMmioDeviceInfo> virtio_devices;   // described in the DSDT, in this order
    PowerPorts power_ports{layout::ACPI_SLEEP_CONTROL_PORT, layout::ACPI_SLEEP_STATUS_PORT,
                           layout::ACPI_RESET_PORT};
};

// Where each table landed (for the machine's logs and for tests).
struct AcpiTableAddresses {
    GuestAddress rsdp, xsdt, fadt, madt, dsdt;
    uint64_t total_size; // bytes used from the base address
};

// Writes the tables contiguously from `base` (16-byte aligned, as the RSDP must be), each table
// 8-byte aligned, with lengths, checksums and pointers filled in, and returns the RSDP's address.
// Errors: ErrorCode::Invalid for a bad config (see build_madt, build_dsdt) or an unaligned base;
// GuestMemory's error when the tables do not fit inside one region of `mem` from `base`.
Result<GuestAddress> build_acpi_tables(const AcpiConfig& config, GuestMemory& mem,
                                       GuestAddress base);
// The same, returning every table's address.
Result<AcpiTableAddresses> write_acpi_tables(const AcpiConfig& config, GuestMemory& mem,
                                             GuestAddress base);

} // namespace minivmm::acpi
