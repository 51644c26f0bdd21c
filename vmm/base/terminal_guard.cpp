#include "base/terminal_guard.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <termios.h>
#include <unistd.h>

namespace minivmm {

namespace {
constexpr int FATAL_SIGNALS[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

// The one active guard's state, read by the signal handler: written before g_active is set and
// after it is cleared, so the handler only sees a complete copy.
std::atomic<bool> g_active{false};
int g_fd = -1;
termios g_saved{};
struct sigaction g_previous[NSIG];

void on_fatal_signal(int sig, siginfo_t* info, void*) {
    TerminalGuard::restore_now();
    // Put back what was there (the default action, or another handler such as a sanitizer's).
    ::sigaction(sig, &g_previous[sig], nullptr);
    // A sent signal (kill, raise, abort) is raised again: it is blocked while this handler runs
    // and is delivered to the previous action when it returns. A fault (si_code > 0) happens
    // again when the faulting instruction re-executes, with its real siginfo.
    if (info == nullptr || info->si_code <= 0) ::raise(sig);
}
} // namespace

Result<std::unique_ptr<TerminalGuard>> TerminalGuard::make_raw(int fd) {
    if (!::isatty(fd)) return std::unique_ptr<TerminalGuard>(new TerminalGuard(false));
    if (g_active.load()) return Error(ErrorCode::Host, "The terminal is already in raw mode");
    termios saved{};
    if (::tcgetattr(fd, &saved) < 0) return sys_error(ErrorCode::Host, "tcgetattr");
    g_fd = fd;
    g_saved = saved;
    g_active.store(true);
    for (int sig : FATAL_SIGNALS) {
        struct sigaction action {};
        action.sa_sigaction = on_fatal_signal;
        action.sa_flags = SA_SIGINFO;
        sigemptyset(&action.sa_mask);
        ::sigaction(sig, &action, &g_previous[sig]);
    }
    // QEMU's stdio settings: raw input, output processing kept.
    termios raw = saved;
    raw.c_iflag &= ~static_cast<tcflag_t>(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
                                          ICRNL | IXON);
    raw.c_oflag |= OPOST;
    raw.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    raw.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB);
    raw.c_cflag |= CS8;
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    std::unique_ptr<TerminalGuard> guard(new TerminalGuard(true));   // restores from here on
    if (::tcsetattr(fd, TCSANOW, &raw) < 0) return sys_error(ErrorCode::Host, "tcsetattr raw mode");
    return guard;
}

TerminalGuard::~TerminalGuard() {
    if (!active_) return;
    restore_now();
    g_active.store(false);
    for (int sig : FATAL_SIGNALS) ::sigaction(sig, &g_previous[sig], nullptr);
}

void TerminalGuard::restore_now() noexcept {
    if (!g_active.load()) return;
    const int saved_errno = errno;
    // TCSANOW: never wait for output to drain (a stopped reader would block us forever).
    ::tcsetattr(g_fd, TCSANOW, &g_saved);
    errno = saved_errno;
}

} // namespace minivmm
