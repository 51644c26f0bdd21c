#include "demos.hpp"

extern "C" {
#define MINIVMM_DEMO_SYMBOLS(sym) extern const uint8_t demo_##sym##_start[], demo_##sym##_end[];
MINIVMM_DEMO_SYMBOLS(hello)
MINIVMM_DEMO_SYMBOLS(long)
MINIVMM_DEMO_SYMBOLS(ports)
MINIVMM_DEMO_SYMBOLS(status)
MINIVMM_DEMO_SYMBOLS(spin)
MINIVMM_DEMO_SYMBOLS(triple_fault)
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
        {"spin", "never ends by itself: stop it with Ctrl-C, SIGTERM or --timeout",
         blob(demo_spin_start, demo_spin_end)},
        {"triple-fault", "loads an empty IDT and faults: the CPU shuts down (KVM_EXIT_SHUTDOWN)",
         blob(demo_triple_fault_start, demo_triple_fault_end)},
    };
    return list;
}

const Demo* find_demo(std::string_view name) {
    for (const auto& d : demos())
        if (d.name == name) return &d;
    return nullptr;
}

} // namespace minivmm
