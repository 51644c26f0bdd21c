// run_process: runs a program with arguments, captures stdout and stderr, enforces a timeout.
#pragma once

#include <string>
#include <vector>

namespace minivmm::test {

struct ProcessResult {
    int exit_code = -1;      // the exit status, or -1 if killed by a signal
    int signal = 0;          // the signal that killed it, 0 if it exited
    bool timed_out = false;  // killed by us after the timeout
    std::string out;
    std::string err;
};

// Runs argv[0] with argv; after `timeout_seconds` the child is killed with SIGKILL.
// `send_signal`/`signal_after_ms` optionally deliver a signal to the child after a delay.
ProcessResult run_process(const std::vector<std::string>& argv, int timeout_seconds = 60,
                          int send_signal = 0, int signal_after_ms = 0);

} // namespace minivmm::test
