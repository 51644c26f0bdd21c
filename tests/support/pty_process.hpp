// PtyProcess: a child (minivmm) on a new pseudo-terminal, as a person at a terminal runs it:
// its stdin, stdout and stderr are the terminal, which is its controlling terminal, so raw mode
// and the Ctrl-a escapes apply. The test types through the master side and reads what the
// child writes there (stdout and stderr interleaved).
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>
#include <termios.h>
#include <vector>

namespace minivmm::test {

class PtyProcess {
public:
    // pid() is -1 if the terminal or the child could not be made.
    explicit PtyProcess(const std::vector<std::string>& argv);
    ~PtyProcess();   // kills and reaps a child still running

    pid_t pid() const { return pid_; }
    // Types `bytes` (false if the terminal did not take them all).
    bool type(std::string_view bytes);
    // Reads until `text` appears in the output after position `from` (true), or `timeout_ms`
    // passes, the terminal closes or the child ends without printing it (false). When the time
    // passed and the child is minivmm, its state report is asked for and read into output()
    // (hang_report.hpp).
    bool wait_for_output(const std::string& text, int timeout_ms, size_t from = 0);
    // Reads what arrives within `ms`.
    void read_for(int ms);
    const std::string& output() const { return output_; }
    // Waits up to `timeout_seconds` for the child to end, reading its output; then kills it (a
    // minivmm child asked for its state report first).
    // Returns its exit code, or -1 if it was killed (by us or by a signal).
    int finish(int timeout_seconds);
    // After finish(): the signal that ended the child (0 if it exited).
    int signal() const { return signal_; }
    // Whether the terminal's mode is now what it was before the child started.
    bool mode_restored() const;

    PtyProcess(const PtyProcess&) = delete;
    PtyProcess& operator=(const PtyProcess&) = delete;

private:
    bool read_some(int wait_ms);
    // A minivmm child's state report (SIGUSR2), read into output_ (up to 5 s).
    void explain();
    // Whether the child has ended (not reaped: finish() does that).
    bool child_ended() const;

    pid_t pid_ = -1;
    int master_ = -1;
    int slave_ = -1;   // kept open: the terminal's mode stays readable after the child ends
    termios before_{};
    int signal_ = 0;
    std::string output_;
};

} // namespace minivmm::test
