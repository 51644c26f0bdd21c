// Root System Description Pointer, ACPI 6.5 §5.2.5.3 (revision 2: points at the XSDT).
#pragma once

#include <cstdint>

#include "memory/guest_address.hpp"

namespace minivmm::acpi {

// ACPI 6.5 §5.2.5.3, Table 5.3: RSDP Structure.
struct [[gnu::packed]] Rsdp {
    char signature[8];         // 0: "RSD PTR "
    uint8_t checksum;          // 8: the first 20 bytes (the ACPI 1.0 part) sum to 0
    char oem_id[6];            // 9
    uint8_t revision;          // 15: 2 for ACPI 2.0 and later
    uint32_t rsdt_address;     // 16: 0, there is no RSDT (the XSDT replaces it)
    uint32_t length;           // 20: sizeof(Rsdp)
    uint64_t xsdt_address;     // 24
    uint8_t extended_checksum; // 32: the whole structure sums to 0
    uint8_t reserved[3];       // 33
};
static_assert(sizeof(Rsdp) == 36);

// The part of the RSDP covered by `checksum` (ACPI 1.0 layout).
constexpr uint32_t RSDP_V1_LENGTH = 20;
constexpr uint8_t RSDP_REVISION = 2;

// An RSDP pointing at the XSDT at `xsdt`, with both checksums set.
Rsdp make_rsdp(GuestAddress xsdt);

} // namespace minivmm::acpi
