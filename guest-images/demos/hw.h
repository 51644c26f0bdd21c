/* Tiny hardware helpers shared by the C demo guests: port I/O, MMIO, CPUID and the UART.
 * Every one of these instructions traps to minivmm, which emulates the device behind it. */
#pragma once
#include <stdint.h>

#define COM1 0x3f8
#define EXIT_PORT 0x510          /* minivmm's exit-status port: one byte = exit status */
#define SCRATCH_MMIO 0xd0000000u /* minivmm's scratch MMIO device */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) {
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void mmio_write32(uintptr_t addr, uint32_t v) { *(volatile uint32_t*)addr = v; }
static inline uint32_t mmio_read32(uintptr_t addr) { return *(volatile uint32_t*)addr; }
static inline void cpuid(uint32_t leaf, uint32_t* a, uint32_t* b, uint32_t* c, uint32_t* d) {
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}
static inline void putc_serial(char c) {
    while ((inb(COM1 + 5) & 0x20) == 0) { } /* wait for THR empty (LSR bit 5) */
    outb(COM1, (uint8_t)c);
}
static inline void puts_serial(const char* s) {
    while (*s) putc_serial(*s++);
}
static inline void put_hex(uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i) putc_serial("0123456789abcdef"[(v >> (i * 4)) & 0xf]);
}
/* v / 10 by binary long division: 32-bit guests have no libgcc for 64-bit division. */
static inline uint64_t div10(uint64_t v, uint32_t* rem) {
    uint64_t q = 0, r = 0;
    for (int i = 63; i >= 0; --i) {
        r = (r << 1) | ((v >> i) & 1);
        if (r >= 10) { r -= 10; q |= (uint64_t)1 << i; }
    }
    *rem = (uint32_t)r;
    return q;
}
static inline void put_dec(uint64_t v) {
    char buf[21];
    int n = 0;
    do { uint32_t r; v = div10(v, &r); buf[n++] = (char)('0' + r); } while (v != 0);
    while (n > 0) putc_serial(buf[--n]);
}
static inline __attribute__((noreturn)) void exit_vm(uint8_t status) {
    outb(EXIT_PORT, status);
    for (;;) __asm__ volatile("hlt");
}
