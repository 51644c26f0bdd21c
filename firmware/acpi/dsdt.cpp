// ACPI 6.5 §5.2.11.1 DSDT, written with the AML writer.
#include "acpi/dsdt.hpp"

#include <fmt/format.h>

#include "acpi/aml.hpp"
#include "acpi/fadt.hpp"
#include "acpi/sdt.hpp"
#include "memory/layout.hpp"

namespace minivmm::acpi {

namespace {

constexpr uint64_t FOUR_GIB = 1ULL << 32;

AmlBytes com1_device() {
    return aml_device("COM1",
                      {aml_name("_HID", aml_eisa_id("PNP0501")), aml_name("_UID", aml_integer(0)),
                       aml_name("_CRS", aml_resource_template(
                                            {aml_io(layout::COM1_PORT, layout::COM1_PORT_COUNT),
                                             aml_irq_no_flags(layout::COM1_IRQ)}))});
}

// QEMU's ISA pvpanic device, as QEMU describes it: Linux's pvpanic-mmio driver binds to
// QEMU0001 and takes its IO resource.
AmlBytes pvpanic_device() {
    return aml_device("PEVT", {aml_name("_HID", aml_string("QEMU0001")),
                               aml_name("_CRS", aml_resource_template(
                                                    {aml_io(layout::PVPANIC_PORT, 1)}))});
}

Result<AmlBytes> virtio_device(size_t index, const VirtioMmioDeviceInfo& d) {
    if (d.size == 0 || d.base >= FOUR_GIB || d.size > FOUR_GIB - d.base)
        return Error(ErrorCode::Invalid,
                     fmt::format("DSDT: virtio-mmio window {:#x}+{:#x} is not below 4 GiB", d.base,
                                 d.size));
    const auto crs = aml_resource_template(
        {aml_memory32_fixed(static_cast<uint32_t>(d.base), static_cast<uint32_t>(d.size)),
         aml_interrupt(d.irq)});
    return aml_device(fmt::format("V{:03X}", index),
                      {aml_name("_HID", aml_string("LNRO0005")),
                       aml_name("_UID", aml_integer(index)), aml_name("_CRS", crs)});
}

} // namespace

Result<std::vector<uint8_t>> build_dsdt(const std::vector<VirtioMmioDeviceInfo>& devices) {
    if (devices.size() > DSDT_MAX_VIRTIO_DEVICES)
        return Error(ErrorCode::Invalid, fmt::format("DSDT: {} virtio-mmio devices, at most {}",
                                                     devices.size(), DSDT_MAX_VIRTIO_DEVICES));
    AmlTerms sb{com1_device(), pvpanic_device()};
    for (size_t i = 0; i < devices.size(); ++i) {
        auto dev = virtio_device(i, devices[i]);
        if (!dev) return dev.error();
        sb.push_back(std::move(*dev));
    }

    std::vector<uint8_t> out;
    append(out, make_header("DSDT", DSDT_REVISION));
    const AmlBytes scope = aml_scope("\\_SB_", sb);
    out.insert(out.end(), scope.begin(), scope.end());
    // Only the first element (SLP_TYPa) matters on a hardware-reduced platform (§7.4.2).
    const AmlBytes s5 = aml_name("\\_S5_", aml_package({aml_integer(ACPI_S5_SLP_TYP),
                                                        aml_integer(0), aml_integer(0),
                                                        aml_integer(0)}));
    out.insert(out.end(), s5.begin(), s5.end());
    seal(out);
    return out;
}

} // namespace minivmm::acpi
