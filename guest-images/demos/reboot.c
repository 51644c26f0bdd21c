/* Reboots the machine the way Linux's reboot=k does: wait for the i8042's input buffer to be
 * empty, then command 0xFE (pulse the reset line). minivmm ends with exit code 0. */
#include "hw.h"

#define I8042_STATUS 0x64
#define I8042_COMMAND 0x64
#define I8042_INPUT_FULL 0x02

void demo_main(void) {
    puts_serial("reboot demo: i8042 reset command 0xfe\n");
    for (int i = 0; i < 0x10000 && (inb(I8042_STATUS) & I8042_INPUT_FULL); ++i) { }
    outb(I8042_COMMAND, 0xfe);
    exit_vm(99); /* not reached: the VM has ended */
}
