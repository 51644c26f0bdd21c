// When a test waited in vain for a minivmm child's output, the child is asked for its state
// report (SIGUSR2: minivmm prints where each vCPU and queue is, and goes on), so that the test's
// failure shows where the guest was, and tools/test can tell a hang of the emulator it runs in
// from one of minivmm's. Only a minivmm child: another program would die of the signal.
#pragma once

#include <chrono>
#include <climits>
#include <csignal>
#include <string>
#include <sys/types.h>
#include <unistd.h>

namespace minivmm::test {

// The start of the report's last line ("serial: ..."), once a line of its own.
inline constexpr const char* REPORT_LAST_LINE = "\nserial: ";

// Whether process `pid` runs minivmm now (after any exec of a wrapper such as `ip netns exec`).
inline bool runs_minivmm(pid_t pid) {
    char exe[PATH_MAX];
    const std::string link = "/proc/" + std::to_string(pid) + "/exe";
    const ssize_t n = ::readlink(link.c_str(), exe, sizeof exe - 1);
    if (n <= 0) return false;
    const std::string path(exe, static_cast<size_t>(n));
    return path == "minivmm" || (path.size() > 8 && path.compare(path.size() - 8, 8, "/minivmm") == 0);
}

// Sends the report request when `pid` runs minivmm; false when it does not (nothing sent).
inline bool request_state_report(pid_t pid) {
    return pid > 0 && runs_minivmm(pid) && ::kill(pid, SIGUSR2) == 0;
}

// Asks `pid` for its report and reads it with `read_some(wait_ms)` (false: nothing more to
// read), which appends to `text`, until its last line is there or 5 s passed.
template <typename ReadSome>
void read_state_report(pid_t pid, const std::string& text, ReadSome read_some) {
    using clock = std::chrono::steady_clock;
    const size_t from = text.size();
    if (!request_state_report(pid)) return;
    const auto end = clock::now() + std::chrono::seconds(5);
    while (text.find(REPORT_LAST_LINE, from) == std::string::npos && clock::now() < end &&
           read_some(50)) {
    }
    const auto tail = clock::now() + std::chrono::milliseconds(100);   // its last line's rest
    while (clock::now() < tail && read_some(20)) {
    }
}

} // namespace minivmm::test
