// What in a minivmm state report (SIGUSR2) moves while a guest makes progress: each vCPU's exit
// count, each virtqueue's line (the ring indexes on both sides, requests in flight) and the
// serial counters. Two reports with the same progress saw a guest that did nothing between.
#pragma once

#include <csignal>
#include <regex>
#include <sstream>
#include <string>

#include "pty_process.hpp"

namespace minivmm::test {

// The report that starts at or after `from` in `out` (terminal output: "\r\n" line ends are
// taken as "\n"); empty if there is none or it is not complete (it ends with "serial:").
inline std::string report_progress(const std::string& out, size_t from) {
    const size_t start = out.find("state after ", from);
    if (start == std::string::npos) return {};
    std::istringstream lines(out.substr(start));
    static const std::regex EXITS(R"(^(vcpu\d+): .*?(\d+ exits|no exit))");
    std::string progress, line;
    while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::smatch m;
        if (std::regex_search(line, m, EXITS)) progress += m[1].str() + " " + m[2].str() + "\n";
        if (line.find("  queue ") == 0) progress += line + "\n";
        if (line.find("serial: ") == 0) return progress + line + "\n";
    }
    return {};
}

// The progress in the report SIGUSR2 makes `vm` print now ("kill failed", "no report").
inline std::string progress_now(PtyProcess& vm) {
    const size_t from = vm.output().size();
    if (::kill(vm.pid(), SIGUSR2) != 0) return "kill failed";
    if (!vm.wait_for_output("\nserial: ", 10000, from)) return "no report";
    vm.read_for(100);   // the rest of the report's last line
    return report_progress(vm.output(), from);
}

} // namespace minivmm::test
