// Pieces every ACPI table shares: the system description table header (ACPI 6.5 §5.2.6), the
// Generic Address Structure (§5.2.3.2) and the checksum rule (§5.2.6: all bytes sum to zero).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "table_bytes.hpp"

namespace minivmm::acpi {

// Identity written into every table (OEMID is 6 bytes, OEM Table ID 8, Creator ID 4).
constexpr std::string_view OEM_ID = "MINVMM";
constexpr std::string_view OEM_TABLE_ID = "MINIVMM ";
constexpr uint32_t OEM_REVISION = 1;
constexpr std::string_view CREATOR_ID = "MVMM";
constexpr uint32_t CREATOR_REVISION = 1;

// ACPI 6.5 §5.2.6, Table 5.4: System Description Table Header.
struct [[gnu::packed]] SdtHeader {
    char signature[4];         // 0
    uint32_t length;           // 4: whole table, header included
    uint8_t revision;          // 8
    uint8_t checksum;          // 9: makes the whole table sum to 0
    char oem_id[6];            // 10
    char oem_table_id[8];      // 16
    uint32_t oem_revision;     // 24
    char creator_id[4];        // 28
    uint32_t creator_revision; // 32
};
static_assert(sizeof(SdtHeader) == 36);

// ACPI 6.5 §5.2.3.2, Table 5.1: Generic Address Structure.
struct [[gnu::packed]] GenericAddress {
    uint8_t address_space_id;    // 0: 0 = system memory, 1 = system I/O
    uint8_t register_bit_width;  // 1
    uint8_t register_bit_offset; // 2
    uint8_t access_size;         // 3: 1 = byte access
    uint64_t address;            // 4
};
static_assert(sizeof(GenericAddress) == 12);

constexpr uint8_t ADDRESS_SPACE_SYSTEM_IO = 1;
constexpr uint8_t ACCESS_SIZE_BYTE = 1;

// An 8-bit register at I/O port `port`, accessed with byte accesses.
GenericAddress io_port_register_8(uint16_t port);

// A header with signature, revision, our OEM identity and length 0 / checksum 0: the table
// builder fills length, and seal() the checksum once the table bytes are complete.
SdtHeader make_header(std::string_view signature, uint8_t revision);

using firmware::append;     // table_bytes.hpp: shared with the MP table
using firmware::checksum;

// Sets the length field (offset 4) and the checksum (offset 9) of a complete table.
void seal(std::vector<uint8_t>& table);


} // namespace minivmm::acpi
