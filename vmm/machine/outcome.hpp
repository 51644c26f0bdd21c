// How a VM run ended, and the process exit code each ending maps to (README, "Exit codes").
#pragma once

#include <cstdint>
#include <string>

namespace minivmm {

enum class Ending {
    GuestStatus,    // the guest wrote a byte to the exit-status port: that byte is the code
    TripleFault,    // KVM_EXIT_SHUTDOWN
    InternalError,  // KVM_EXIT_INTERNAL_ERROR (e.g. the instruction emulator failed)
    FailEntry,      // KVM_EXIT_FAIL_ENTRY
    UnhandledExit,  // an exit reason minivmm does not handle
    HostError,      // KVM_RUN or another host call failed while running
    Timeout,        // --timeout expired
    Interrupted,    // SIGINT
    Terminated,     // SIGTERM
    PowerOff,       // the guest powered off (ACPI S5 through the sleep control register)
    Reboot,         // the guest reset the machine (i8042 0xFE, ACPI reset register); not restarted
    ConsoleQuit,    // the user typed Ctrl-a x on the serial console
    Panic,          // the guest kernel reported a panic through the pvpanic device
    BootTimeout,    // command runner: its init did not start within --boot-timeout
    NoStatus,       // command runner: the guest powered off or rebooted before init reported
};

// The endings the guest or the user asked for: reported on stderr at info level, not as errors.
bool is_clean_ending(Ending ending);

// Process exit codes of the endings other than GuestStatus, and of set-up failures.
namespace exit_code {
constexpr int USAGE = 2;           // bad command line
constexpr int INPUT = 3;           // a file given on the command line is missing or malformed
constexpr int KVM_UNUSABLE = 4;    // /dev/kvm missing, no permission, API or capability
constexpr int HOST = 5;            // any other host failure
constexpr int NO_STATUS = 117;     // the runner's guest ended without CMD's status
constexpr int BOOT_TIMEOUT = 118;  // the runner's init not reached within --boot-timeout
constexpr int PANIC = 119;         // a kernel panic (pvpanic)
constexpr int TRIPLE_FAULT = 120;
constexpr int INTERNAL_ERROR = 121;
constexpr int FAIL_ENTRY = 122;
constexpr int UNHANDLED_EXIT = 123;
constexpr int TIMEOUT = 124;       // as timeout(1)
constexpr int SIGINT_CODE = 130;   // 128 + SIGINT
constexpr int SIGTERM_CODE = 143;  // 128 + SIGTERM
constexpr int POWER_OFF = 0;       // a clean end, as the guest asked
constexpr int REBOOT = 0;          // documented: minivmm ends instead of restarting the guest
constexpr int CONSOLE_QUIT = 130;  // Ctrl-a x: the user stopped it, as Ctrl-C would
} // namespace exit_code

struct Outcome {
    Ending ending = Ending::HostError;
    uint8_t guest_status = 0;
    std::string report;   // what happened, for the non-guest endings (registers included)

    int process_exit_code() const;
};

} // namespace minivmm
