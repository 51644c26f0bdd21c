/* Shows the exit-status port: the byte the guest writes to 0x510 is minivmm's exit status. */
#include "hw.h"

void demo_main(void) {
    puts_serial("status demo: exiting with status 42\n");
    exit_vm(42);
}
