/* Echoes what it receives on the UART (polling LSR bit 0, data ready) until Ctrl-D, then exits
 * with the number of bytes it read (mod 256): the console's input path, end to end. */
#include "hw.h"

void demo_main(void) {
    puts_serial("echo demo: type, Ctrl-D ends\n");
    uint32_t count = 0;
    for (;;) {
        while ((inb(COM1 + 5) & 0x01) == 0) { }
        char c = (char)inb(COM1);
        if (c == 0x04) break;
        ++count;
        putc_serial(c);
    }
    exit_vm((uint8_t)count);
}
