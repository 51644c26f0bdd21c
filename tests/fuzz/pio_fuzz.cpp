// libFuzzer target for port I/O: a stream of
// reads and writes of widths 1/2/4 through a real Bus over the 16550 UART, the i8042, the ACPI
// power registers and unhandled ports, interleaved with host input bytes (through the console
// escape) and the host's back-pressure check. Oracle: no crash or sanitizer report; the UART's
// receive FIFO and the i8042's output stay bounded; the UART's IRQ line always equals "IIR has an
// interrupt pending"; unhandled ports read as all ones.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/log.hpp"
#include "bus/bus.hpp"
#include "counting_irq_line.hpp"
#include "legacy/acpi_power.hpp"
#include "legacy/console_escape.hpp"
#include "legacy/i8042.hpp"
#include "legacy/pci_host_bridge.hpp"
#include "legacy/serial.hpp"

using namespace minivmm;

namespace {

constexpr uint64_t COM1 = 0x3f8, I8042_DATA = 0x60, I8042_CMD = 0x64, ACPI = 0x600, PCI = 0xcf8;
constexpr size_t MAX_OPS = 4096;

bool handled_port(uint64_t port, size_t width) {
    auto inside = [&](uint64_t base, uint64_t len) {
        return port >= base && port - base < len && width <= len - (port - base);
    };
    return inside(COM1, 8) || inside(I8042_DATA, 1) || inside(I8042_CMD, 1) || inside(ACPI, 3) ||
           inside(PCI, 8);
}

// Picks a port: mostly the devices (and their edges), sometimes anywhere in 0-0xffff.
uint64_t pick_port(uint8_t sel, uint8_t lo, uint8_t hi) {
    switch (sel % 7) {
    case 0:
    case 1: return COM1 + (lo % 10) - 1;   // 0x3f7-0x400: the UART and both neighbours
    case 2: return (lo & 1) ? I8042_CMD : I8042_DATA + (lo % 5);   // 0x60-0x64
    case 3: return ACPI - 1 + (lo % 5);                               // 0x5ff-0x603
    case 4: return PCI - 1 + (lo % 10);                               // 0xcf7-0xd00
    default: return static_cast<uint64_t>(lo | (hi << 8));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static bool quiet = (set_log_level(LogLevel::Off), true);
    (void)quiet;

    auto irq = std::make_shared<CountingIrqLine>();
    uint64_t output_bytes = 0, resets = 0, power_offs = 0, space_calls = 0;
    auto serial = std::make_shared<Serial16550>([&](uint8_t) { ++output_bytes; }, irq);
    serial->set_space_callback([&] { ++space_calls; });
    auto i8042 = std::make_shared<I8042>([&] { ++resets; });
    auto acpi = std::make_shared<AcpiPowerDevice>(AcpiPowerDevice::Values{5, 1},
                                                  [&] { ++power_offs; }, [&] { ++resets; });
    Bus bus("port-I/O");
    if (!bus.insert({COM1, 8}, serial, "serial") ||
        !bus.insert({I8042_DATA, 1}, I8042::data_port(i8042), "i8042") ||
        !bus.insert({I8042_CMD, 1}, I8042::command_port(i8042), "i8042") ||
        !bus.insert({ACPI, AcpiPowerDevice::PORT_COUNT}, acpi, "acpi-power") ||
        !bus.insert({PCI, 8}, std::make_shared<PciHostBridge>(), "pci"))
        __builtin_trap();
    ConsoleEscape escape;

    size_t pos = 0;
    for (size_t op = 0; op < MAX_OPS && pos + 4 <= size; ++op) {
        const uint8_t kind = data[pos], a = data[pos + 1], b = data[pos + 2], c = data[pos + 3];
        pos += 4;
        static constexpr size_t WIDTHS[] = {1, 2, 4, 1};
        const size_t width = WIDTHS[(kind >> 2) & 3];
        switch (kind & 3) {
        case 0: {   // guest IN
            const uint64_t port = pick_port(kind >> 4, a, b);
            std::array<uint8_t, 4> buf{0x5a, 0x5a, 0x5a, 0x5a};
            auto d = bus.read(port, std::span<uint8_t>(buf.data(), width));
            if (d.handled != handled_port(port, width)) __builtin_trap();
            if (!d.handled)
                for (size_t i = 0; i < width; ++i)
                    if (buf[i] != 0xff) __builtin_trap();   // unhandled reads are all ones
            break;
        }
        case 1: {   // guest OUT
            const uint64_t port = pick_port(kind >> 4, a, b);
            const std::array<uint8_t, 4> buf{c, b, a, kind};
            auto d = bus.write(port, std::span<const uint8_t>(buf.data(), width));
            if (d.handled != handled_port(port, width)) __builtin_trap();
            break;
        }
        case 2: {   // host input: the next bytes of the stream, through the console escape
            const size_t n = std::min<size_t>(a % 64, size - pos);
            std::array<uint8_t, 64> filtered{};
            auto f = escape.filter(std::span<const uint8_t>(data + pos, n), filtered);
            if (f.count > n) __builtin_trap();
            const size_t space = serial->input_space();
            const size_t accepted = serial->push_input(std::span<const uint8_t>(filtered.data(), f.count));
            if (accepted > space || accepted > f.count) __builtin_trap();
            pos += n;
            break;
        }
        case 3: {   // the host's back-pressure check
            if (serial->input_space() > Serial16550::RX_FIFO_LIMIT) __builtin_trap();
            break;
        }
        }
        // Invariants after every step.
        if (serial->rx_level() > Serial16550::RX_FIFO_LIMIT) __builtin_trap();
        if (i8042->queued() > I8042::OUTPUT_LIMIT) __builtin_trap();
        const bool pending = (serial->peek_iir() & 0x01) == 0;
        if (irq->level.load() != pending || serial->irq_level() != pending) __builtin_trap();
    }
    return 0;
}
