#include "run_process.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hang_report.hpp"

namespace minivmm::test {

namespace {

// Forks and execs argv with stdin /dev/null and stdout/stderr on new pipes, whose read ends
// are returned in out_fds, and no other descriptor.
pid_t spawn(const std::vector<std::string>& argv, int out_fds[2]) {
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0) return -1;
    if (pipe2(err_pipe, O_CLOEXEC) != 0) {
        close(out_pipe[0]);
        close(out_pipe[1]);
        return -1;
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull != 0) dup2(devnull, 0);
        else fcntl(0, F_SETFD, 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        // Whatever this process inherited without close-on-exec (from ctest, a shell) stays
        // behind: the program starts with 0-2 only.
        if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
            for (int fd = 3; fd < 4096; ++fd) close(fd);
        execv(args[0], args.data());
        _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (pid < 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        return -1;
    }
    out_fds[0] = out_pipe[0];
    out_fds[1] = err_pipe[0];
    return pid;
}

} // namespace

ProcessResult run_process(const std::vector<std::string>& argv, int timeout_seconds,
                          int send_signal, int signal_after_ms) {
    BackgroundProcess child(argv);
    if (child.pid() < 0) return {};
    if (send_signal != 0) child.read_for(signal_after_ms);
    return child.finish(send_signal, timeout_seconds);
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv) {
    pid_ = spawn(argv, fds_);
}

BackgroundProcess::~BackgroundProcess() {
    for (int fd : fds_)
        if (fd >= 0) close(fd);
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
}

bool BackgroundProcess::read_some(int wait_ms) {
    pollfd p[2] = {{fds_[0], POLLIN, 0}, {fds_[1], POLLIN, 0}};
    if (fds_[0] < 0 && fds_[1] < 0) return false;
    if (poll(p, 2, wait_ms) <= 0) return true;
    for (int i = 0; i < 2; ++i) {
        if (fds_[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[4096];
        ssize_t n = read(fds_[i], buf, sizeof buf);
        if (n <= 0) {
            close(fds_[i]);
            fds_[i] = -1;
        } else {
            (i == 0 ? result_.out : result_.err).append(buf, static_cast<size_t>(n));
        }
    }
    return fds_[0] >= 0 || fds_[1] >= 0;
}

bool BackgroundProcess::wait_for_output(const std::string& text, int timeout_ms) {
    auto start = std::chrono::steady_clock::now();
    for (;;) {
        if (result_.out.find(text) != std::string::npos ||
            result_.err.find(text) != std::string::npos)
            return true;
        auto left = timeout_ms - std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - start).count();
        if (left <= 0) {
            if (timeout_ms > 0) explain();   // (0: a look, not a wait)
            return false;
        }
        if (!read_some(static_cast<int>(std::min<long long>(left, 50)))) return false;
    }
}

void BackgroundProcess::read_for(int ms) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end && read_some(20)) {
    }
}

void BackgroundProcess::explain() {
    read_state_report(pid_, result_.err, [this](int ms) { return read_some(ms); });
}

ProcessResult BackgroundProcess::finish(int sig, int timeout_seconds) {
    if (pid_ <= 0) return result_;
    if (sig != 0) kill(pid_, sig);
    auto start = std::chrono::steady_clock::now();
    int status = 0;
    pid_t reaped = 0;
    // Until both pipes are closed and the child is gone (it may close its output and live on).
    for (;;) {
        if (!read_some(50)) {
            reaped = waitpid(pid_, &status, WNOHANG);
            if (reaped != 0) break;
            usleep(10000);
        }
        if (std::chrono::steady_clock::now() - start >= std::chrono::seconds(timeout_seconds)) {
            explain();   // (a minivmm that would not end says where it was first)
            kill(pid_, SIGKILL);
            result_.timed_out = true;
            break;
        }
    }
    if (reaped == 0) waitpid(pid_, &status, 0);
    pid_ = -1;
    if (WIFEXITED(status)) result_.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result_.signal = WTERMSIG(status);
    return result_;
}

} // namespace minivmm::test
