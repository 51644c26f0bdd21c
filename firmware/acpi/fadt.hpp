// Fixed ACPI Description Table, ACPI 6.5 §5.2.9, for a hardware-reduced platform (§4.1): no
// PM1/GPE blocks, no SCI; poweroff through SLEEP_CONTROL_REG (§4.8.3.7), reboot through RESET_REG.
#pragma once

#include <cstdint>
#include <vector>

#include "acpi/sdt.hpp"
#include "memory/guest_address.hpp"

namespace minivmm::acpi {

// ACPI 6.5 §5.2.9, Table 5.9: FADT Format (revision 6).
struct [[gnu::packed]] Fadt {
    SdtHeader header;                    // 0: "FACP"
    uint32_t firmware_ctrl;              // 36: no FACS on a hardware-reduced platform
    uint32_t dsdt;                       // 40: 0, X_DSDT is used
    uint8_t reserved0;                   // 44
    uint8_t preferred_pm_profile;        // 45
    uint16_t sci_int;                    // 46
    uint32_t smi_cmd;                    // 48
    uint8_t acpi_enable;                 // 52
    uint8_t acpi_disable;                // 53
    uint8_t s4bios_req;                  // 54
    uint8_t pstate_cnt;                  // 55
    uint32_t pm1a_evt_blk;               // 56
    uint32_t pm1b_evt_blk;               // 60
    uint32_t pm1a_cnt_blk;               // 64
    uint32_t pm1b_cnt_blk;               // 68
    uint32_t pm2_cnt_blk;                // 72
    uint32_t pm_tmr_blk;                 // 76
    uint32_t gpe0_blk;                   // 80
    uint32_t gpe1_blk;                   // 84
    uint8_t pm1_evt_len;                 // 88
    uint8_t pm1_cnt_len;                 // 89
    uint8_t pm2_cnt_len;                 // 90
    uint8_t pm_tmr_len;                  // 91
    uint8_t gpe0_blk_len;                // 92
    uint8_t gpe1_blk_len;                // 93
    uint8_t gpe1_base;                   // 94
    uint8_t cst_cnt;                     // 95
    uint16_t p_lvl2_lat;                 // 96
    uint16_t p_lvl3_lat;                 // 98
    uint16_t flush_size;                 // 100
    uint16_t flush_stride;               // 102
    uint8_t duty_offset;                 // 104
    uint8_t duty_width;                  // 105
    uint8_t day_alrm;                    // 106
    uint8_t mon_alrm;                    // 107
    uint8_t century;                     // 108
    uint16_t iapc_boot_arch;             // 109: Table 5.10
    uint8_t reserved1;                   // 111
    uint32_t flags;                      // 112: Table 5.11
    GenericAddress reset_reg;            // 116
    uint8_t reset_value;                 // 128
    uint16_t arm_boot_arch;              // 129
    uint8_t fadt_minor_version;          // 131
    uint64_t x_firmware_ctrl;            // 132
    uint64_t x_dsdt;                     // 140
    GenericAddress x_pm1a_evt_blk;       // 148
    GenericAddress x_pm1b_evt_blk;       // 160
    GenericAddress x_pm1a_cnt_blk;       // 172
    GenericAddress x_pm1b_cnt_blk;       // 184
    GenericAddress x_pm2_cnt_blk;        // 196
    GenericAddress x_pm_tmr_blk;         // 208
    GenericAddress x_gpe0_blk;           // 220
    GenericAddress x_gpe1_blk;           // 232
    GenericAddress sleep_control_reg;    // 244
    GenericAddress sleep_status_reg;     // 256
    uint64_t hypervisor_vendor_identity; // 268
};
static_assert(sizeof(Fadt) == 276);

constexpr uint8_t FADT_REVISION = 6;
constexpr uint8_t FADT_MINOR_VERSION = 5;

// Table 5.11 FADT flags.
constexpr uint32_t FADT_RESET_REG_SUP = 1u << 10;
constexpr uint32_t FADT_HW_REDUCED_ACPI = 1u << 20;
// Table 5.10 IA-PC boot architecture flags.
constexpr uint16_t IAPC_BOOT_ARCH_VGA_NOT_PRESENT = 1u << 2;
constexpr uint16_t IAPC_BOOT_ARCH_MSI_NOT_SUPPORTED = 1u << 3;
constexpr uint16_t IAPC_BOOT_ARCH_CMOS_RTC_NOT_PRESENT = 1u << 5;

// What the guest writes, for the machine's emulation of the registers (§4.8.3.7): a write to
// SLEEP_CONTROL_REG carries SLP_TYPx in bits 2..4 and SLP_EN in bit 5; the DSDT's \_S5 package
// gives S5 the sleep type ACPI_S5_SLP_TYP. RESET_REG is written with ACPI_RESET_VALUE.
constexpr uint8_t ACPI_SLP_TYP_SHIFT = 2;
constexpr uint8_t ACPI_SLP_TYP_MASK = 0x7;
constexpr uint8_t ACPI_SLP_EN = 1u << 5;
constexpr uint8_t ACPI_S5_SLP_TYP = 5;
constexpr uint8_t ACPI_RESET_VALUE = 1;

// Where the machine emulates the power registers (I/O ports, 8 bits each).
struct PowerPorts {
    uint16_t sleep_control;
    uint16_t sleep_status;
    uint16_t reset;
};

// The sealed FADT pointing at the DSDT at `dsdt`.
std::vector<uint8_t> build_fadt(GuestAddress dsdt, const PowerPorts& ports);

} // namespace minivmm::acpi
