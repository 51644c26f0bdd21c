// Extended System Description Table, ACPI 6.5 §5.2.8: the header followed by 64-bit pointers
// to the other tables (here FADT and MADT; the DSDT is reached through the FADT).
#pragma once

#include <cstdint>
#include <vector>

#include "memory/guest_address.hpp"

namespace minivmm::acpi {

// ACPI 6.5 §5.2.8, Table 5.8: XSDT layout is SdtHeader (36 bytes) then `Entry` 8-byte addresses
// at offset 36 (so the entries are only 4-byte aligned: written as bytes, never as uint64_t*).
constexpr uint8_t XSDT_REVISION = 1;

// The sealed XSDT listing `tables`.
std::vector<uint8_t> build_xsdt(const std::vector<GuestAddress>& tables);

// Its size for `count` entries, so the caller can lay out memory before building it.
constexpr uint64_t xsdt_size(uint64_t count) { return 36 + 8 * count; }

} // namespace minivmm::acpi
