// run_process: runs a program with arguments, captures stdout and stderr, enforces a timeout.
// BackgroundProcess: the same, for a child a test looks at while it runs (/proc/PID).
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace minivmm::test {

struct ProcessResult {
    int exit_code = -1;      // the exit status, or -1 if killed by a signal
    int signal = 0;          // the signal that killed it, 0 if it exited
    bool timed_out = false;  // killed by us after the timeout
    std::string out;
    std::string err;

    // stdout, then stderr (where minivmm's state report lands), for a failed check's message.
    std::string both() const { return "--- stdout ---\n" + out + "\n--- stderr ---\n" + err; }
};

// Runs argv[0] with argv; after `timeout_seconds` the child is killed with SIGKILL.
// `send_signal`/`signal_after_ms` optionally deliver a signal to the child after a delay.
// The child gets /dev/null as stdin and pipes as stdout and stderr, and no other descriptor.
ProcessResult run_process(const std::vector<std::string>& argv, int timeout_seconds = 60,
                          int send_signal = 0, int signal_after_ms = 0);

class BackgroundProcess {
public:
    // Starts argv[0] as run_process does (stdin /dev/null, stdout and stderr captured, nothing
    // else inherited). pid() is -1 if it could not be started.
    explicit BackgroundProcess(const std::vector<std::string>& argv);
    ~BackgroundProcess();   // kills and reaps a child still running

    pid_t pid() const { return pid_; }
    // Reads the child's output until `text` appears on its stdout or stderr (true), or
    // `timeout_ms` pass or both are closed (false). When the time passed and the child is
    // minivmm, its state report is asked for and read (hang_report.hpp).
    bool wait_for_output(const std::string& text, int timeout_ms);
    // Reads what arrives within `ms`.
    void read_for(int ms);
    // What the child wrote so far (ProcessResult::both), for the message of a failed check.
    std::string output() const { return result_.both(); }
    // Sends `sig` (0: none), reads the output to its end and reaps the child; after
    // `timeout_seconds` it is killed with SIGKILL (timed_out), a minivmm child asked for its
    // state report first.
    ProcessResult finish(int sig, int timeout_seconds);

    BackgroundProcess(const BackgroundProcess&) = delete;
    BackgroundProcess& operator=(const BackgroundProcess&) = delete;

private:
    // Reads what is ready within `wait_ms`; false once both pipes are closed.
    bool read_some(int wait_ms);
    // A minivmm child's state report (SIGUSR2), read into the output (up to 5 s).
    void explain();

    pid_t pid_ = -1;
    int fds_[2] = {-1, -1};   // stdout, stderr (read ends)
    ProcessResult result_;
};

} // namespace minivmm::test
