// ACPI 6.5 §5.2.8 XSDT.
#include "acpi/xsdt.hpp"

#include "acpi/sdt.hpp"

namespace minivmm::acpi {

std::vector<uint8_t> build_xsdt(const std::vector<GuestAddress>& tables) {
    std::vector<uint8_t> out;
    append(out, make_header("XSDT", XSDT_REVISION));
    for (GuestAddress t : tables) append(out, t.value());
    seal(out);
    return out;
}

} // namespace minivmm::acpi
