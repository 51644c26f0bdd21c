// The fixed x86-64 machine layout: every guest-physical address and port minivmm uses.
#pragma once

#include <cstdint>

namespace minivmm::layout {

// RAM starts at 0. Below 4 GiB it stops at the 32-bit MMIO hole; the rest lives above 4 GiB.
constexpr uint64_t RAM_START = 0;
constexpr uint64_t MMIO_HOLE_START = 0xc000'0000;   // 3 GiB: start of the 32-bit device hole
constexpr uint64_t MMIO_HOLE_END = 0x1'0000'0000;   // 4 GiB: high RAM resumes here
constexpr uint64_t MIN_RAM_SIZE = 2ULL << 20;       // 2 MiB: room for a demo and its tables
constexpr uint64_t MAX_RAM_SIZE = 64ULL << 30;      // 64 GiB: documented --mem limit

// Low RAM below the EBDA: the structures minivmm writes for the kernel's entry.
constexpr uint64_t BOOT_GDT_ADDR = 0x500;           // flat GDT of the 64-bit entry (null, -, code, data)
constexpr uint64_t BOOT_GDT_ENTRIES = 4;            // selectors 0x10 (__BOOT_CS) and 0x18 (__BOOT_DS)
constexpr uint64_t PVH_START_INFO_ADDR = 0x6000;   // hvm_start_info, then its memory map (4 KiB)
constexpr uint64_t PVH_START_INFO_SIZE = 0x1000;
constexpr uint64_t ZERO_PAGE_ADDR = 0x7000;         // bzImage: struct boot_params (4 KiB), RSI at entry
constexpr uint64_t PML4_ADDR = 0x9000;              // 64-bit entry page tables: PML4 (CR3) ...
constexpr uint64_t PDPT_ADDR = 0xa000;              // ... one PDPT ...
constexpr uint64_t PD_ADDR = 0xb000;                // ... and PD_COUNT page directories of 2 MiB pages
constexpr uint64_t PD_COUNT = 4;                    // 4 x 1 GiB: the first 4 GiB identity-mapped
constexpr uint64_t PAGE_TABLES_END = PD_ADDR + PD_COUNT * 0x1000;   // 0xf000
constexpr uint64_t CMDLINE_ADDR = 0x2'0000;         // kernel command line, NUL-terminated
constexpr uint64_t CMDLINE_MAX = 0x1'0000;          // 64 KiB, the most minivmm accepts
constexpr uint64_t EBDA_START = 0x9'fc00;           // extended BIOS data area: reserved up to 1 MiB
constexpr uint64_t BIOS_AREA_END = 0x10'0000;       // 1 MiB: end of the reserved legacy area
constexpr uint64_t ACPI_TABLES_START = 0xe'0000;    // RSDP first (inside the OS's RSDP scan range)
constexpr uint64_t ACPI_TABLES_END = 0xf'0000;      // 64 KiB: the largest set takes about 20
constexpr uint64_t MPTABLE_START = 0xf'0000;        // MP floating pointer, then its configuration
constexpr uint64_t MPTABLE_END = 0x10'0000;         // table (inside Linux's 0xf0000-0xfffff scan)

// Interrupt controllers (KVM in-kernel), described to the guest by the ACPI MADT.
constexpr uint64_t IOAPIC_ADDR = 0xfec0'0000;       // the one I/O APIC, GSI base 0
constexpr uint8_t IOAPIC_ID = 0;                    // its ID register's reset value (MADT, MP table)
constexpr uint32_t IOAPIC_PINS = 24;                // KVM's in-kernel IOAPIC: GSIs 0-23
constexpr uint64_t LAPIC_ADDR = 0xfee0'0000;        // local APIC of every vCPU

// Demo (bare-metal) guests are flat binaries loaded at 1 MiB and entered there in 32-bit
// protected mode with paging off, like the PVH entry.
constexpr uint64_t DEMO_LOAD_ADDR = 0x10'0000;
constexpr uint64_t DEMO_MAX_SIZE = 0x10'0000;       // 1 MiB
constexpr uint64_t DEMO_DEFAULT_RAM = 16ULL << 20;  // 16 MiB unless --mem says otherwise
constexpr uint64_t KERNEL_DEFAULT_RAM = 256ULL << 20; // 256 MiB for --kernel unless --mem says otherwise

// Port I/O.
constexpr uint16_t COM1_PORT = 0x3f8;               // 16550 UART, 8 registers
constexpr uint16_t COM1_PORT_COUNT = 8;
constexpr uint32_t COM1_IRQ = 4;                    // ISA IRQ of COM1 (edge, active high)
constexpr uint16_t I8042_DATA_PORT = 0x60;         // i8042 keyboard controller: data
constexpr uint16_t I8042_COMMAND_PORT = 0x64;      // i8042 status (read) / command (write): 0xFE resets
constexpr uint16_t PCI_CONFIG_PORT = 0xcf8;         // PCI mechanism #1: address 0xcf8, data 0xcfc
constexpr uint16_t PVPANIC_PORT = 0x505;            // QEMU's ISA pvpanic (DSDT QEMU0001): bit 0 = panic
constexpr uint16_t EXIT_PORT = 0x510;               // 1-byte write: the VM ends with that status
constexpr uint16_t INIT_STARTED_PORT = 0x511;       // command runner: its init has started
constexpr uint16_t EXPLAIN_PORT = 0x518;            // 8 ports: a GVA (low dword, then high) to explain
constexpr uint16_t ACPI_SLEEP_CONTROL_PORT = 0x600; // FADT SLEEP_CONTROL_REG (8-bit): poweroff
constexpr uint16_t ACPI_SLEEP_STATUS_PORT = 0x601;  // FADT SLEEP_STATUS_REG (8-bit)
constexpr uint16_t ACPI_RESET_PORT = 0x602;         // FADT RESET_REG (8-bit): reboot

// MMIO windows inside the 32-bit hole.
constexpr uint64_t SCRATCH_MMIO_BASE = 0xd000'0000; // teaching/test scratch device, 4 KiB
constexpr uint64_t SCRATCH_MMIO_SIZE = 0x1000;
// virtio-mmio transports: device i (in the order the machine adds them) has its register window
// at VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_SLOT_SIZE and its interrupt on IOAPIC pin
// VIRTIO_MMIO_IRQS[i]. The pins are ISA-range GSIs (Linux maps IRQs 0-15 to the same GSIs at
// boot, so `virtio_mmio.device=...:IRQ` works without ACPI) that avoid the PIT (0, 2), i8042
// (1), COM1 (4), the RTC (8) and the ACPI SCI (9).
constexpr uint64_t VIRTIO_MMIO_BASE = 0xd000'1000;
constexpr uint64_t VIRTIO_MMIO_SLOT_SIZE = 0x1000;  // 4 KiB: registers 0x000-0x0ff, config 0x100-
constexpr uint32_t VIRTIO_MMIO_IRQS[] = {5, 6, 7, 10, 11, 12, 14, 15};
constexpr size_t VIRTIO_MMIO_MAX_DEVICES = sizeof(VIRTIO_MMIO_IRQS) / sizeof(VIRTIO_MMIO_IRQS[0]);

} // namespace minivmm::layout
