#include "pty_process.hpp"

#include <csignal>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hang_report.hpp"

namespace minivmm::test {

PtyProcess::PtyProcess(const std::vector<std::string>& argv) {
    if (::openpty(&master_, &slave_, nullptr, nullptr, nullptr) != 0) return;
    ::tcgetattr(slave_, &before_);
    const int slave = slave_;
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
        ::setsid();
        ::ioctl(slave, TIOCSCTTY, 0);
        ::dup2(slave, 0);
        ::dup2(slave, 1);
        ::dup2(slave, 2);
        ::closefrom(3);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
}

PtyProcess::~PtyProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) ::close(master_);
    if (slave_ >= 0) ::close(slave_);
}

bool PtyProcess::mode_restored() const {
    termios now{};
    if (::tcgetattr(slave_, &now) != 0) return false;
    return now.c_iflag == before_.c_iflag && now.c_oflag == before_.c_oflag &&
           now.c_cflag == before_.c_cflag && now.c_lflag == before_.c_lflag &&
           std::memcmp(now.c_cc, before_.c_cc, sizeof now.c_cc) == 0;
}

bool PtyProcess::type(std::string_view bytes) {
    return ::write(master_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
}

bool PtyProcess::read_some(int wait_ms) {
    pollfd p{master_, POLLIN, 0};
    if (::poll(&p, 1, wait_ms) <= 0) return true;
    char buf[4096];
    ssize_t n = ::read(master_, buf, sizeof buf);
    if (n <= 0) return errno == EINTR || errno == EAGAIN;   // EIO: the terminal was hung up
    output_.append(buf, static_cast<size_t>(n));
    return true;
}

// The terminal's slave side stays open here, so a child that ended hangs nothing up: asked of
// the kernel, without reaping it.
bool PtyProcess::child_ended() const {
    siginfo_t info{};
    return pid_ > 0 &&
           ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == pid_;
}

bool PtyProcess::wait_for_output(const std::string& text, int timeout_ms, size_t from) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (output_.find(text, from) == std::string::npos) {
        if (std::chrono::steady_clock::now() >= end) {
            if (timeout_ms > 0) explain();   // (0: a look, not a wait)
            return false;
        }
        if (!read_some(50)) return false;
        if (child_ended()) {   // (a VM that died early: no waiting out the timeout)
            read_for(100);     // what it wrote last
            return output_.find(text, from) != std::string::npos;
        }
    }
    return true;
}

void PtyProcess::explain() {
    read_state_report(pid_, output_, [this](int ms) { return read_some(ms); });
}

void PtyProcess::read_for(int ms) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end && read_some(20)) {
    }
}

int PtyProcess::finish(int timeout_seconds) {
    int status = 0;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() >= end) {
            explain();   // (a minivmm that would not end says where it was first)
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        read_some(50);
    }
    read_for(100);   // what is left in the terminal
    pid_ = -1;
    signal_ = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace minivmm::test
