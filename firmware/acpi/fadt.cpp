// ACPI 6.5 §5.2.9 FADT for a hardware-reduced platform.
#include "acpi/fadt.hpp"

#include <cstring>

namespace minivmm::acpi {

std::vector<uint8_t> build_fadt(GuestAddress dsdt, const PowerPorts& ports) {
    Fadt f{};
    f.header = make_header("FACP", FADT_REVISION);
    f.fadt_minor_version = FADT_MINOR_VERSION;
    f.flags = FADT_HW_REDUCED_ACPI | FADT_RESET_REG_SUP;
    // No VGA, no MSI (no PCI), no CMOS RTC: Linux then skips probing those legacy devices.
    f.iapc_boot_arch = static_cast<uint16_t>(IAPC_BOOT_ARCH_VGA_NOT_PRESENT |
                                             IAPC_BOOT_ARCH_MSI_NOT_SUPPORTED |
                                             IAPC_BOOT_ARCH_CMOS_RTC_NOT_PRESENT);
    f.x_dsdt = dsdt.value();
    f.reset_reg = io_port_register_8(ports.reset);
    f.reset_value = ACPI_RESET_VALUE;
    f.sleep_control_reg = io_port_register_8(ports.sleep_control);
    f.sleep_status_reg = io_port_register_8(ports.sleep_status);
    std::memcpy(&f.hypervisor_vendor_identity, "MINIVMM", 8);

    std::vector<uint8_t> out;
    append(out, f);
    seal(out);
    return out;
}

} // namespace minivmm::acpi
