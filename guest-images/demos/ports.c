/* Exit cost: 100000 writes to port 0x80, which no device handles. Each OUT is one exit to
 * minivmm; --stats shows the count and the time per exit. */
#include "hw.h"

void demo_main(void) {
    puts_serial("ports demo: 100000 OUTs to the unhandled port 0x80\n");
    for (uint32_t i = 0; i < 100000; ++i) outb(0x80, (uint8_t)i);
    puts_serial("ports demo: done\n");
    exit_vm(0);
}
