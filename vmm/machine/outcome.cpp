#include "machine/outcome.hpp"

namespace minivmm {

int Outcome::process_exit_code() const {
    switch (ending) {
    case Ending::GuestStatus: return guest_status;
    case Ending::TripleFault: return exit_code::TRIPLE_FAULT;
    case Ending::InternalError: return exit_code::INTERNAL_ERROR;
    case Ending::FailEntry: return exit_code::FAIL_ENTRY;
    case Ending::UnhandledExit: return exit_code::UNHANDLED_EXIT;
    case Ending::HostError: return exit_code::HOST;
    case Ending::Timeout: return exit_code::TIMEOUT;
    case Ending::Interrupted: return exit_code::SIGINT_CODE;
    case Ending::Terminated: return exit_code::SIGTERM_CODE;
    case Ending::PowerOff: return exit_code::POWER_OFF;
    case Ending::Reboot: return exit_code::REBOOT;
    case Ending::ConsoleQuit: return exit_code::CONSOLE_QUIT;
    case Ending::Panic: return exit_code::PANIC;
    case Ending::BootTimeout: return exit_code::BOOT_TIMEOUT;
    case Ending::NoStatus: return exit_code::NO_STATUS;
    }
    return exit_code::HOST;
}

bool is_clean_ending(Ending ending) {
    return ending == Ending::PowerOff || ending == Ending::Reboot || ending == Ending::ConsoleQuit;
}

} // namespace minivmm
