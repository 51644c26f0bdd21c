// Machine: the legacy devices on the port-I/O and MMIO buses (COM1, the i8042 and ACPI power
// registers, the exit-status port, the PCI host bridge, the scratch MMIO device).
#include "machine/machine.hpp"

#include "acpi/fadt.hpp"
#include "legacy/acpi_power.hpp"
#include "legacy/exit_port.hpp"
#include "legacy/i8042.hpp"
#include "legacy/pci_host_bridge.hpp"
#include "legacy/scratch_device.hpp"
#include "legacy/serial.hpp"
#include "machine/kvm_irq_line.hpp"
#include "memory/layout.hpp"

namespace minivmm {

Result<void> Machine::add_legacy_devices() {
    MINIVMM_TRY(add_serial());
    MINIVMM_TRY(add_power_devices());
    VmControl* control = control_.get();
    auto exit_port = std::make_shared<ExitPort>(
        [control](uint8_t status) { control->finish({Ending::GuestStatus, status, {}}); });
    MINIVMM_TRY(pio_.insert({layout::EXIT_PORT, 1}, exit_port, "exit-port"));
    MINIVMM_TRY(add_runner_ports());   // pvpanic for every guest; the runner's started port
    MINIVMM_TRY(add_explain_port());
    MINIVMM_TRY(pio_.insert({layout::PCI_CONFIG_PORT, PciHostBridge::PORT_COUNT},
                            std::make_shared<PciHostBridge>(), "pci-host"));
    MINIVMM_TRY(mmio_.insert({layout::SCRATCH_MMIO_BASE, layout::SCRATCH_MMIO_SIZE},
                             std::make_shared<ScratchDevice>(), "scratch"));
    return {};
}

// COM1 with its host end (--serial). Its interrupt needs the in-kernel irqchip; without one
// (plain demos, which poll it) it is a line wired to nothing.
Result<void> Machine::add_serial() {
    std::shared_ptr<IrqLine> irq = std::make_shared<NoIrqLine>();
    if (plan_.irqchip) {
        auto line = KvmIrqLine::create(*vm_, layout::COM1_IRQ);
        if (!line) return line.error();
        irq = std::move(*line);
    }
    auto serial = std::make_shared<Serial16550>(console_->sink(), std::move(irq));
    serial_ = serial;
    MINIVMM_TRY(pio_.insert({layout::COM1_PORT, layout::COM1_PORT_COUNT}, serial, "serial"));
    MINIVMM_TRY(console_->connect_output(*loop_));
    // A device that reads stdin (--console stdio) has it to itself: the UART gets no input.
    for (const DeviceOption& d : config_.devices)
        if (d.args->takes_stdin()) return {};
    VmControl* control = control_.get();
    ControlChannel* channel = channel_.get();
    return console_->connect_input(
        *loop_, *serial,
        [control] { control->finish({Ending::ConsoleQuit, 0, "stopped by Ctrl-a x on the console"}); },
        [channel] { (void)channel->post(Command::TogglePause); });   // answered on stderr
}

// The ways a guest asks to end: the i8042 reset command (Linux reboot=k) and the ACPI registers
// the FADT points at (poweroff through \_S5, reboot through the reset register).
Result<void> Machine::add_power_devices() {
    VmControl* control = control_.get();
    // The runner's guest ends through its init's status write; a power-off or reboot before
    // it (CMD ran poweroff, the kernel rebooted on a panic) is no status, never a 0.
    const bool runner = !config_.command.empty();
    auto reboot = [control, runner](const char* how) {
        if (runner)
            control->finish({Ending::NoStatus, 0,
                             fmt::format("the guest rebooted ({}) before its init reported the "
                                         "command's status", how)});
        else
            control->finish({Ending::Reboot, 0, fmt::format("the guest rebooted ({}); exiting", how)});
    };
    auto i8042 = std::make_shared<I8042>([reboot] { reboot("i8042 reset"); });
    i8042_ = i8042;
    MINIVMM_TRY(pio_.insert({layout::I8042_DATA_PORT, 1}, I8042::data_port(i8042), "i8042"));
    MINIVMM_TRY(pio_.insert({layout::I8042_COMMAND_PORT, 1}, I8042::command_port(i8042), "i8042"));
    auto acpi = std::make_shared<AcpiPowerDevice>(
        AcpiPowerDevice::Values{acpi::ACPI_S5_SLP_TYP, acpi::ACPI_RESET_VALUE},
        [control, runner] {
            if (runner)
                control->finish({Ending::NoStatus, 0, "the guest powered off before its init "
                                                      "reported the command's status"});
            else
                control->finish({Ending::PowerOff, 0, "the guest powered off"});
        },
        [reboot] { reboot("ACPI reset register"); });
    static_assert(layout::ACPI_SLEEP_STATUS_PORT == layout::ACPI_SLEEP_CONTROL_PORT + 1 &&
                  layout::ACPI_RESET_PORT == layout::ACPI_SLEEP_CONTROL_PORT + 2);
    return pio_.insert({layout::ACPI_SLEEP_CONTROL_PORT, AcpiPowerDevice::PORT_COUNT}, acpi,
                       "acpi-power");
}

} // namespace minivmm
