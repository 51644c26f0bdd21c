/* A guest that never ends on its own: it keeps writing a counter to port 0x80. Stop it with
 * Ctrl-C (SIGINT), SIGTERM or --timeout; minivmm exits with the documented code. */
#include "hw.h"

void demo_main(void) {
    puts_serial("spin demo: running until stopped (Ctrl-C, SIGTERM or --timeout)\n");
    for (uint32_t i = 0;; ++i) outb(0x80, (uint8_t)i);
}
