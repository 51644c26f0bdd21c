// snapshot_bench's VMM child process: stdin and stdout pipes (the guest's COM1), stderr to a
// log file, one descriptor passed on as fd 3 (QEMU's -incoming fd:3); its output kept with the
// time each piece arrived.
#pragma once

#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>
#include <x86intrin.h>

#include "snapshot_control.hpp"

namespace snapbench {

// A VMM as a child: stdin and stdout pipes (COM1), stderr to a log file, `keep_fd` (if any)
// inherited as fd 3. Output is read as it comes, with the time each piece arrived.
struct Child {
    pid_t pid = -1;
    int in = -1, out = -1;
    double exec_mono = 0;
    uint64_t exec_tsc = 0;
    std::string output;
    std::vector<std::pair<size_t, double>> arrivals;   // output size after each read, and when

    Child(const std::vector<std::string>& argv, const std::string& log, int keep_fd = -1,
          const std::string& input = "") {
        int i[2], o[2];
        if (::pipe2(i, O_CLOEXEC) != 0 || ::pipe2(o, O_CLOEXEC) != 0) die("pipe");
        if (!input.empty() && ::write(i[1], input.data(), input.size()) != static_cast<ssize_t>(input.size()))
            die("write to the stdin pipe");
        exec_mono = now();
        exec_tsc = __rdtsc();
        pid = ::fork();
        if (pid == 0) {
            ::dup2(i[0], 0);
            ::dup2(o[1], 1);
            int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (err >= 0) ::dup2(err, 2);
            // dup2 clears close-on-exec, but not when the descriptor is 3 already.
            if (keep_fd == 3) ::fcntl(3, F_SETFD, 0);
            else if (keep_fd >= 0) ::dup2(keep_fd, 3);
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execvp(args[0], args.data());
            ::_exit(127);
        }
        ::close(i[0]);
        ::close(o[1]);
        in = i[1];
        out = o[0];
    }
    // Reads until `needle` occurs at or after `from`: its position, or npos after `seconds` or
    // at the end of the output.
    size_t read_until(const std::string& needle, size_t from, double seconds) {
        const double end = now() + seconds;
        for (;;) {
            size_t p = output.find(needle, from);
            if (p != std::string::npos) return p;
            pollfd pf{out, POLLIN, 0};
            const int ms = static_cast<int>((end - now()) * 1000);
            if (ms <= 0 || ::poll(&pf, 1, ms) != 1) return std::string::npos;
            char buf[4096];
            ssize_t n = ::read(out, buf, sizeof buf);
            if (n <= 0) return std::string::npos;
            output.append(buf, static_cast<size_t>(n));
            arrivals.emplace_back(output.size(), now());
        }
    }
    // read_until, dying when `needle` does not come.
    size_t wait_for(const std::string& needle, size_t from, double seconds, const char* what) {
        const size_t p = read_until(needle, from, seconds);
        if (p == std::string::npos) die(std::string("no ") + what + " within the time: " + output);
        return p;
    }
    // When the byte at `pos` of the output arrived.
    double arrival(size_t pos) const {
        for (const auto& [size, when] : arrivals)
            if (size > pos) return when;
        return 0;
    }
    int wait_exit() {
        int st = 0;
        ::waitpid(pid, &st, 0);
        pid = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    // Ends the process and drains what it wrote.
    void stop() {
        if (pid < 0) return;
        ::kill(pid, SIGTERM);
        wait_exit();
        char buf[4096];
        for (ssize_t n; (n = ::read(out, buf, sizeof buf)) > 0;) output.append(buf, static_cast<size_t>(n));
    }
    ~Child() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        ::close(in);
        ::close(out);
    }
};

} // namespace snapbench
