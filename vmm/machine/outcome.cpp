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
    }
    return exit_code::HOST;
}

} // namespace minivmm
