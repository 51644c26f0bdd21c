// The guest's description of the machine, written into guest RAM once every device exists
// (Machine::create step 4): the kernel command line (the user's; with acpi=off in it, also one
// virtio_mmio.device= per virtio-mmio device), the ACPI tables (the devices in the DSDT), the MP
// table (the vCPUs and interrupt wiring again, for a kernel without ACPI), and the boot_params
// zero page (bzImage, with the page tables and GDT of the 64-bit entry) or the hvm_start_info
// (PVH). Pure: plain GuestMemory, no KVM, so it is unit-tested.
#pragma once

#include <asm/bootparam.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "acpi/dsdt.hpp"
#include "base/result.hpp"
#include "memory/guest_memory.hpp"

namespace minivmm {

struct GuestDescription {
    // Set for a bzImage (its setup header): boot_params; empty for a PVH kernel: hvm_start_info.
    std::optional<setup_header> bzimage_header;
    uint64_t cmdline_capacity = 0;           // longest command line without its NUL
    std::string user_cmdline;                // --cmdline
    uint32_t num_vcpus = 1;
    std::vector<acpi::VirtioMmioDeviceInfo> virtio_devices;
    uint64_t initrd_addr = 0;                // initrd_size 0: none
    uint64_t initrd_size = 0;
};

// The user's command line; when it has the word acpi=off (the kernel will not read the DSDT),
// followed by virtio_mmio.device=<size>@<base>:<irq> for each device, space-separated.
// ErrorCode::Usage (naming --cmdline) when it exceeds `capacity`.
Result<std::string> assemble_cmdline(uint64_t capacity, const std::string& user,
                                     const std::vector<acpi::VirtioMmioDeviceInfo>& devices);

// Writes the command line at CMDLINE_ADDR, the ACPI tables at ACPI_TABLES_START, the MP table at
// MPTABLE_START and the zero page at ZERO_PAGE_ADDR (with the long-mode tables) or the
// hvm_start_info at PVH_START_INFO_ADDR. Returns the address the entry register gets (RSI for a
// bzImage, EBX for PVH).
Result<GuestAddress> write_guest_description(GuestMemory& mem, const GuestDescription& desc);

} // namespace minivmm
