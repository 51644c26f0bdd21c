// Multiple APIC Description Table, ACPI 6.5 §5.2.12: one local APIC per vCPU, the I/O APIC and
// the ISA interrupt source overrides of a PC (KVM's in-kernel PIC, IOAPIC and LAPICs).
#pragma once

#include <cstdint>
#include <vector>

#include "acpi/sdt.hpp"
#include "base/result.hpp"

namespace minivmm::acpi {

// ACPI 6.5 §5.2.12, Table 5.19: MADT header fields after the SDT header.
struct [[gnu::packed]] MadtHeader {
    SdtHeader header;                 // 0: "APIC"
    uint32_t local_apic_address;      // 36
    uint32_t flags;                   // 40: PCAT_COMPAT
};
static_assert(sizeof(MadtHeader) == 44);

// ACPI 6.5 §5.2.12.2, Table 5.23: Processor Local APIC Structure (type 0).
struct [[gnu::packed]] MadtLocalApic {
    uint8_t type;                     // 0: 0
    uint8_t length;                   // 1: 8
    uint8_t acpi_processor_uid;       // 2
    uint8_t apic_id;                  // 3
    uint32_t flags;                   // 4: bit 0 Enabled
};
static_assert(sizeof(MadtLocalApic) == 8);

// ACPI 6.5 §5.2.12.3, Table 5.25: I/O APIC Structure (type 1).
struct [[gnu::packed]] MadtIoApic {
    uint8_t type;                     // 0: 1
    uint8_t length;                   // 1: 12
    uint8_t io_apic_id;               // 2
    uint8_t reserved;                 // 3
    uint32_t io_apic_address;         // 4
    uint32_t global_system_interrupt_base; // 8
};
static_assert(sizeof(MadtIoApic) == 12);

// ACPI 6.5 §5.2.12.5, Table 5.26: Interrupt Source Override Structure (type 2).
struct [[gnu::packed]] MadtInterruptSourceOverride {
    uint8_t type;                     // 0: 2
    uint8_t length;                   // 1: 10
    uint8_t bus;                      // 2: 0 = ISA
    uint8_t source;                   // 3: ISA IRQ
    uint32_t global_system_interrupt; // 4
    uint16_t flags;                   // 8: MPS INTI flags, Table 5.27
};
static_assert(sizeof(MadtInterruptSourceOverride) == 10);

// ACPI 6.5 §5.2.12.7, Table 5.29: Local APIC NMI Structure (type 4).
struct [[gnu::packed]] MadtLocalApicNmi {
    uint8_t type;                     // 0: 4
    uint8_t length;                   // 1: 6
    uint8_t acpi_processor_uid;       // 2: 0xff = all processors
    uint16_t flags;                   // 3: MPS INTI flags
    uint8_t local_apic_lint;          // 5: LINT# the NMI is wired to
};
static_assert(sizeof(MadtLocalApicNmi) == 6);

constexpr uint8_t MADT_REVISION = 5;
constexpr uint32_t MADT_PCAT_COMPAT = 1;   // a dual 8259 PIC is present (Table 5.20)
constexpr uint8_t MADT_TYPE_LOCAL_APIC = 0;
constexpr uint8_t MADT_TYPE_IO_APIC = 1;
constexpr uint8_t MADT_TYPE_INTERRUPT_SOURCE_OVERRIDE = 2;
constexpr uint8_t MADT_TYPE_LOCAL_APIC_NMI = 4;
constexpr uint32_t MADT_LAPIC_ENABLED = 1;
// Table 5.27 MPS INTI flags: polarity in bits 0..1, trigger mode in bits 2..3.
constexpr uint16_t MPS_INTI_POLARITY_ACTIVE_HIGH = 0x1;
constexpr uint16_t MPS_INTI_TRIGGER_LEVEL = 0x3 << 2;

// xAPIC IDs are 8 bits and 0xff is the broadcast ID: at most 255 vCPUs (IDs 0..254).
constexpr uint32_t MADT_MAX_VCPUS = 255;

// The sealed MADT for `num_vcpus` vCPUs with APIC IDs 0..num_vcpus-1. Returns
// ErrorCode::Invalid when num_vcpus is 0 or above MADT_MAX_VCPUS.
Result<std::vector<uint8_t>> build_madt(uint32_t num_vcpus);

} // namespace minivmm::acpi
