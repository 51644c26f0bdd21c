// ACPI 6.5 §5.2.6 table header and checksum helpers.
#include "acpi/sdt.hpp"

#include <algorithm>
#include <cstring>

namespace minivmm::acpi {

namespace {

template <size_t N>
void copy_id(char (&field)[N], std::string_view value) {
    std::memset(field, ' ', N);
    std::memcpy(field, value.data(), std::min(N, value.size()));
}

} // namespace

GenericAddress io_port_register_8(uint16_t port) {
    return GenericAddress{ADDRESS_SPACE_SYSTEM_IO, 8, 0, ACCESS_SIZE_BYTE, port};
}

SdtHeader make_header(std::string_view signature, uint8_t revision) {
    SdtHeader h{};
    copy_id(h.signature, signature);
    h.revision = revision;
    copy_id(h.oem_id, OEM_ID);
    copy_id(h.oem_table_id, OEM_TABLE_ID);
    h.oem_revision = OEM_REVISION;
    copy_id(h.creator_id, CREATOR_ID);
    h.creator_revision = CREATOR_REVISION;
    return h;
}

void seal(std::vector<uint8_t>& table) {
    const auto length = static_cast<uint32_t>(table.size());
    std::memcpy(table.data() + offsetof(SdtHeader, length), &length, sizeof(length));
    table[offsetof(SdtHeader, checksum)] = 0;
    table[offsetof(SdtHeader, checksum)] = checksum(table);
}

} // namespace minivmm::acpi
