// ACPI 6.5 §5.2.12 MADT.
#include "acpi/madt.hpp"

#include <fmt/format.h>

#include "memory/layout.hpp"

namespace minivmm::acpi {

namespace {

MadtInterruptSourceOverride override_entry(uint8_t irq, uint32_t gsi, uint16_t flags) {
    return {MADT_TYPE_INTERRUPT_SOURCE_OVERRIDE, sizeof(MadtInterruptSourceOverride), 0, irq, gsi,
            flags};
}

} // namespace

Result<std::vector<uint8_t>> build_madt(uint32_t num_vcpus) {
    if (num_vcpus == 0 || num_vcpus > MADT_MAX_VCPUS)
        return Error(ErrorCode::Invalid,
                     fmt::format("MADT: {} vCPUs is outside 1..{}", num_vcpus, MADT_MAX_VCPUS));
    std::vector<uint8_t> out;
    MadtHeader h{};
    h.header = make_header("APIC", MADT_REVISION);
    h.local_apic_address = static_cast<uint32_t>(layout::LAPIC_ADDR);
    h.flags = MADT_PCAT_COMPAT;
    append(out, h);

    for (uint32_t i = 0; i < num_vcpus; ++i) {
        const auto id = static_cast<uint8_t>(i);
        append(out, MadtLocalApic{MADT_TYPE_LOCAL_APIC, sizeof(MadtLocalApic), id, id,
                                  MADT_LAPIC_ENABLED});
    }
    append(out, MadtIoApic{MADT_TYPE_IO_APIC, sizeof(MadtIoApic), layout::IOAPIC_ID, 0,
                           static_cast<uint32_t>(layout::IOAPIC_ADDR), 0});
    // The PIT's IRQ 0 is wired to IOAPIC pin 2 on a PC; IRQ 9 (the ACPI SCI line on a PC) is
    // level-triggered, active high, as KVM's in-kernel IOAPIC and QEMU's PC describe it.
    append(out, override_entry(0, 2, 0));
    append(out, override_entry(9, 9, MPS_INTI_POLARITY_ACTIVE_HIGH | MPS_INTI_TRIGGER_LEVEL));
    // LINT1 of every local APIC is the NMI input (0 flags: conforms to the bus).
    append(out, MadtLocalApicNmi{MADT_TYPE_LOCAL_APIC_NMI, sizeof(MadtLocalApicNmi), 0xff, 0, 1});
    seal(out);
    return out;
}

} // namespace minivmm::acpi
