// The program's ways to run, shared by minivmm_main (main_logic.cpp), the API's
// (api_main.cpp) and the ctl client (ctl.cpp).
#pragma once

#include "base/result.hpp"
#include "machine/config.hpp"
#include "machine/outcome.hpp"

namespace minivmm {

// Prints the error line and returns its exit code (README, "Exit codes").
int fail(const Error& error);
// The end of a run: its report (an error line for a fault) and the process exit code.
int finish_run(const Result<Outcome>& outcome);
// --api-socket: serves the management API and runs the VM it starts (or the command line's).
int run_with_api(const MachineConfig& config);
// minivmm ctl SOCKET COMMAND: the client; argv after "ctl".
int ctl_main(int argc, char** argv);

} // namespace minivmm
