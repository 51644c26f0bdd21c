// ACPI 6.5 §5.2.5.3 RSDP.
#include "acpi/rsdp.hpp"

#include <cstring>
#include <span>

#include "acpi/sdt.hpp"

namespace minivmm::acpi {

Rsdp make_rsdp(GuestAddress xsdt) {
    Rsdp r{};
    std::memcpy(r.signature, "RSD PTR ", sizeof(r.signature));
    std::memcpy(r.oem_id, OEM_ID.data(), sizeof(r.oem_id));
    r.revision = RSDP_REVISION;
    r.length = sizeof(Rsdp);
    r.xsdt_address = xsdt.value();
    auto bytes = reinterpret_cast<const uint8_t*>(&r);
    r.checksum = checksum(std::span(bytes, RSDP_V1_LENGTH));
    r.extended_checksum = checksum(std::span(bytes, sizeof(Rsdp)));
    return r;
}

} // namespace minivmm::acpi
