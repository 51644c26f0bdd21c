// Intel MultiProcessor Specification 1.4 tables (chapter 4): the MP floating pointer structure
// and the MP configuration table, describing the same vCPUs, IOAPIC and ISA interrupt wiring as
// the ACPI MADT, for kernels that do not use ACPI (Linux with acpi=off).
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.hpp"
#include "memory/guest_address.hpp"
#include "memory/guest_memory.hpp"

namespace minivmm::firmware {

// MP 1.4 §4.1, Table 4-1: MP Floating Pointer Structure.
struct [[gnu::packed]] MpFloatingPointer {
    char signature[4];              // 0: "_MP_"
    uint32_t config_table_address;  // 4: physical address of the configuration table
    uint8_t length;                 // 8: in 16-byte units: 1
    uint8_t spec_rev;               // 9: 4 (version 1.4)
    uint8_t checksum;               // 10: all 16 bytes sum to 0
    uint8_t features[5];            // 11: 0: a configuration table is present; no IMCR
};
static_assert(sizeof(MpFloatingPointer) == 16);

// MP 1.4 §4.2, Table 4-2: MP Configuration Table Header.
struct [[gnu::packed]] MpConfigHeader {
    char signature[4];              // 0: "PCMP"
    uint16_t base_table_length;     // 4: header and every entry
    uint8_t spec_rev;               // 6: 4
    uint8_t checksum;               // 7: the base table sums to 0
    char oem_id[8];                 // 8
    char product_id[12];            // 16
    uint32_t oem_table_pointer;     // 28: 0, none
    uint16_t oem_table_size;        // 32
    uint16_t entry_count;           // 34
    uint32_t local_apic_address;    // 36
    uint16_t extended_table_length; // 40: 0, none
    uint8_t extended_table_checksum;// 42
    uint8_t reserved;               // 43
};
static_assert(sizeof(MpConfigHeader) == 44);

// MP 1.4 §4.3.1, Table 4-4: Processor Entry.
struct [[gnu::packed]] MpProcessor {
    uint8_t type;                   // 0: 0
    uint8_t local_apic_id;          // 1
    uint8_t local_apic_version;     // 2
    uint8_t cpu_flags;              // 3: bit 0 EN, bit 1 BP
    uint32_t cpu_signature;         // 4: 0, not given (the kernel reads CPUID itself)
    uint32_t feature_flags;         // 8: 0, likewise
    uint32_t reserved[2];           // 12
};
static_assert(sizeof(MpProcessor) == 20);

// MP 1.4 §4.3.2, Table 4-6: Bus Entry.
struct [[gnu::packed]] MpBus {
    uint8_t type;                   // 0: 1
    uint8_t bus_id;                 // 1
    char bus_type[6];               // 2: "ISA   "
};
static_assert(sizeof(MpBus) == 8);

// MP 1.4 §4.3.3, Table 4-8: I/O APIC Entry.
struct [[gnu::packed]] MpIoApic {
    uint8_t type;                   // 0: 2
    uint8_t io_apic_id;             // 1
    uint8_t io_apic_version;        // 2
    uint8_t flags;                  // 3: bit 0 EN
    uint32_t address;               // 4
};
static_assert(sizeof(MpIoApic) == 8);

// MP 1.4 §4.3.4 and §4.3.5, Tables 4-10 and 4-12: I/O Interrupt Assignment Entry (type 3) and
// Local Interrupt Assignment Entry (type 4) share this layout.
struct [[gnu::packed]] MpInterrupt {
    uint8_t type;                   // 0: 3 or 4
    uint8_t interrupt_type;         // 1: 0 INT, 1 NMI, 2 SMI, 3 ExtINT
    uint16_t flags;                 // 2: polarity bits 0-1, trigger mode bits 2-3
    uint8_t source_bus_id;          // 4
    uint8_t source_bus_irq;         // 5
    uint8_t destination_apic_id;    // 6: I/O APIC id (type 3), local APIC id or 0xff (type 4)
    uint8_t destination_pin;        // 7: INTIN# (type 3), LINTIN# (type 4)
};
static_assert(sizeof(MpInterrupt) == 8);

constexpr uint8_t MP_SPEC_REV = 4;
constexpr uint8_t MP_ENTRY_PROCESSOR = 0;
constexpr uint8_t MP_ENTRY_BUS = 1;
constexpr uint8_t MP_ENTRY_IO_APIC = 2;
constexpr uint8_t MP_ENTRY_IO_INTERRUPT = 3;
constexpr uint8_t MP_ENTRY_LOCAL_INTERRUPT = 4;
constexpr uint8_t MP_CPU_ENABLED = 1;
constexpr uint8_t MP_CPU_BOOT_PROCESSOR = 2;
constexpr uint8_t MP_IO_APIC_ENABLED = 1;
constexpr uint8_t MP_INT = 0;
constexpr uint8_t MP_NMI = 1;
constexpr uint8_t MP_EXTINT = 3;
// Table 4-11 flags: 0 means "conforms to the bus" (ISA: edge-triggered, active high).
constexpr uint16_t MP_FLAGS_CONFORMING = 0;
constexpr uint16_t MP_POLARITY_ACTIVE_HIGH = 0x1;
constexpr uint16_t MP_TRIGGER_EDGE = 0x1 << 2;
constexpr uint16_t MP_TRIGGER_LEVEL = 0x3 << 2;
constexpr uint8_t MP_ISA_BUS_ID = 0;
constexpr uint8_t MP_ALL_LOCAL_APICS = 0xff;
// The versions KVM's in-kernel local APIC and IOAPIC report in their version registers.
constexpr uint8_t MP_LOCAL_APIC_VERSION = 0x14;
constexpr uint8_t MP_IO_APIC_VERSION = 0x11;
// Local APIC IDs are 8 bits and 0xff is the broadcast ID: at most 255 vCPUs (IDs 0..254).
constexpr uint32_t MP_MAX_VCPUS = 255;

struct MpTableConfig {
    uint32_t num_vcpus = 1;             // local APIC IDs 0..num_vcpus-1, vCPU 0 boots
    std::vector<uint32_t> virtio_gsis;  // IOAPIC pins of the virtio-mmio devices
};

// The floating pointer, then the configuration table right after it, as laid out from guest
// address `base` (16-byte aligned, as the spec wants the floating pointer):
//   one processor entry per vCPU, the ISA bus, the IOAPIC (layout::IOAPIC_ID at
//   layout::IOAPIC_ADDR), one I/O interrupt entry per IOAPIC pin in use:
//   - ISA IRQs 0-15 but 2: IRQ 0 on pin 2 (the MADT's override; the cascade IRQ 2 has no pin),
//     IRQ 9 level-triggered and active high (as in the MADT), IRQ n on pin n conforming to ISA;
//   - the virtio-mmio GSIs, ISA bus IRQ g on pin g, edge-triggered and active high (what the
//     DSDT says and the devices do); one in 0-15 replaces that ISA IRQ's entry;
//   ExtINT on LINT0 of vCPU 0 and NMI on LINT1 of every vCPU.
// ErrorCode::Invalid when num_vcpus is 0 or above MP_MAX_VCPUS, base is not 16-byte aligned or
// not below 4 GiB, or a virtio GSI is not an IOAPIC pin (below layout::IOAPIC_PINS), is 0 or 2
// (the timer's pins) or appears twice.
Result<std::vector<uint8_t>> build_mptable(const MpTableConfig& config, GuestAddress base);

// build_mptable written into `mem` at `base`; ErrorCode::Invalid also when the tables would not
// end by `end`. Returns the number of bytes written.
Result<uint64_t> write_mptable(const MpTableConfig& config, GuestMemory& mem, GuestAddress base,
                               GuestAddress end);

} // namespace minivmm::firmware
