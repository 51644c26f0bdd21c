/* Powers the machine off the ACPI way: SLP_TYP = 5 (the DSDT's \_S5) with SLP_EN in the sleep
 * control register the FADT points at (port 0x600). minivmm ends with exit code 0. */
#include "hw.h"

#define ACPI_SLEEP_CONTROL 0x600
#define ACPI_SLEEP_STATUS 0x601
#define SLP_TYP_S5 5
#define SLP_EN 0x20

void demo_main(void) {
    puts_serial("poweroff demo: ACPI S5 through the sleep control register\n");
    outb(ACPI_SLEEP_STATUS, 0x80); /* clear WAK_STS, as Linux does first */
    outb(ACPI_SLEEP_CONTROL, (SLP_TYP_S5 << 2) | SLP_EN);
    exit_vm(99); /* not reached: the VM has ended */
}
