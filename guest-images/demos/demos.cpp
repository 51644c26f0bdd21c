#include "demos.hpp"

extern "C" {
#define MINIVMM_DEMO_SYMBOLS(sym) extern const uint8_t demo_##sym##_start[], demo_##sym##_end[];
MINIVMM_DEMO_SYMBOLS(hello)
MINIVMM_DEMO_SYMBOLS(long)
MINIVMM_DEMO_SYMBOLS(ports)
MINIVMM_DEMO_SYMBOLS(status)
MINIVMM_DEMO_SYMBOLS(spin)
MINIVMM_DEMO_SYMBOLS(triple_fault)
MINIVMM_DEMO_SYMBOLS(poweroff)
MINIVMM_DEMO_SYMBOLS(reboot)
MINIVMM_DEMO_SYMBOLS(echo)
MINIVMM_DEMO_SYMBOLS(paging)
MINIVMM_DEMO_SYMBOLS(paging_live)
MINIVMM_DEMO_SYMBOLS(uart_vs_console)
MINIVMM_DEMO_SYMBOLS(count)
}

namespace minivmm {

namespace {
std::span<const uint8_t> blob(const uint8_t* start, const uint8_t* end) {
    return {start, static_cast<size_t>(end - start)};
}
} // namespace

const std::vector<Demo>& demos() {
    static const std::vector<Demo> list = {
        {"hello", "the default: port I/O, CPUID, MMIO and HLT, each trapped and emulated",
         blob(demo_hello_start, demo_hello_end)},
        {"long", "enters 64-bit mode with its own page tables and drops to user mode (CPL 3)",
         blob(demo_long_start, demo_long_end)},
        {"ports", "100000 writes to an unhandled port: measure the cost of an exit with --stats",
         blob(demo_ports_start, demo_ports_end)},
        {"status", "exits with status 42 through the exit-status port",
         blob(demo_status_start, demo_status_end)},
        {"spin", "never ends by itself: stop it with Ctrl-a x, SIGTERM or --timeout",
         blob(demo_spin_start, demo_spin_end)},
        {"triple-fault", "loads an empty IDT and faults: the CPU shuts down (KVM_EXIT_SHUTDOWN)",
         blob(demo_triple_fault_start, demo_triple_fault_end)},
        {"poweroff", "powers off through the ACPI sleep control register (S5): exit code 0",
         blob(demo_poweroff_start, demo_poweroff_end)},
        {"reboot", "reboots through the i8042 reset command 0xFE: exit code 0",
         blob(demo_reboot_start, demo_reboot_end)},
        {"echo", "echoes the console's input until Ctrl-D, exits with the byte count",
         blob(demo_echo_start, demo_echo_end)},
        {"paging", "maps a page with its own page tables; minivmm explains GVA -> GPA -> HVA -> HPA",
         blob(demo_paging_start, demo_paging_end)},
        {"paging-live", "the paging demo's mapping, kept running: for minivmm ctl SOCKET translate",
         blob(demo_paging_live_start, demo_paging_live_end)},
        {"uart-vs-console",
         "64 KiB through the UART (an exit a byte), then virtio-console: needs --console; --stats",
         blob(demo_uart_vs_console_start, demo_uart_vs_console_end)},
        {"count", "counts to 300 with a nonce kept in RAM (~20 ms a line): for snapshot/restore",
         blob(demo_count_start, demo_count_end)},
    };
    return list;
}

const Demo* find_demo(std::string_view name) {
    for (const auto& d : demos())
        if (d.name == name) return &d;
    return nullptr;
}

} // namespace minivmm
