// Unit tests for TerminalGuard (vmm/base/terminal_guard.hpp) on a real pseudo-terminal
// (openpty): raw mode is set, and the saved mode comes back after destruction and when the
// process dies of a fatal signal.
#include "base/terminal_guard.hpp"

#include <csignal>
#include <cstring>
#include <pty.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <gtest/gtest.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MINIVMM_TEST_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MINIVMM_TEST_SANITIZER 1
#endif
#endif

namespace minivmm {
namespace {

#ifdef MINIVMM_TEST_SANITIZER
constexpr bool SANITIZER_HANDLES_FAULTS = true;   // ASan and TSan handle SIGSEGV, SIGBUS, SIGFPE
#else
constexpr bool SANITIZER_HANDLES_FAULTS = false;
#endif

struct Pty {
    Pty() {
        EXPECT_EQ(::openpty(&master, &slave, nullptr, nullptr, nullptr), 0) << std::strerror(errno);
        EXPECT_EQ(::tcgetattr(slave, &original), 0);
    }
    ~Pty() {
        ::close(master);
        ::close(slave);
    }
    termios now() const {
        termios t{};
        EXPECT_EQ(::tcgetattr(slave, &t), 0);
        return t;
    }
    int master = -1, slave = -1;
    termios original{};
};

bool same_mode(const termios& a, const termios& b) {
    return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag && a.c_cflag == b.c_cflag &&
           a.c_lflag == b.c_lflag && std::memcmp(a.c_cc, b.c_cc, sizeof a.c_cc) == 0;
}

TEST(TerminalGuard, MakesTheTerminalRaw) {
    Pty pty;
    ASSERT_TRUE(pty.original.c_lflag & ICANON) << "a fresh pty starts in canonical mode";
    auto guard = TerminalGuard::make_raw(pty.slave);
    ASSERT_TRUE(guard) << guard.error().message();
    EXPECT_TRUE((*guard)->active());
    const termios raw = pty.now();
    EXPECT_EQ(raw.c_lflag & (ICANON | ECHO | ISIG | IEXTEN), 0u);
    EXPECT_EQ(raw.c_iflag & (ICRNL | IXON), 0u);
    EXPECT_NE(raw.c_oflag & OPOST, 0u) << "output processing stays on";
    EXPECT_EQ(raw.c_cflag & CSIZE, static_cast<tcflag_t>(CS8));
    EXPECT_EQ(raw.c_cc[VMIN], 1);
    EXPECT_EQ(raw.c_cc[VTIME], 0);
}

TEST(TerminalGuard, RestoresTheModeWhenDestroyed) {
    Pty pty;
    {
        auto guard = TerminalGuard::make_raw(pty.slave);
        ASSERT_TRUE(guard);
        ASSERT_FALSE(same_mode(pty.now(), pty.original));
    }
    EXPECT_TRUE(same_mode(pty.now(), pty.original));
}

TEST(TerminalGuard, OneGuardAtATime) {
    Pty pty;
    auto first = TerminalGuard::make_raw(pty.slave);
    ASSERT_TRUE(first);
    auto second = TerminalGuard::make_raw(pty.slave);
    EXPECT_FALSE(second);
    first->reset();
    EXPECT_TRUE(same_mode(pty.now(), pty.original));
    auto third = TerminalGuard::make_raw(pty.slave);
    EXPECT_TRUE(third) << "the slot is free again";
}

TEST(TerminalGuard, NotATerminalIsLeftAlone) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    auto guard = TerminalGuard::make_raw(fds[0]);
    ASSERT_TRUE(guard);
    EXPECT_FALSE((*guard)->active());
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST(TerminalGuard, RestoreNowIsIdempotentAndSafeWithoutGuard) {
    TerminalGuard::restore_now();   // no guard: nothing to do
    Pty pty;
    auto guard = TerminalGuard::make_raw(pty.slave);
    ASSERT_TRUE(guard);
    TerminalGuard::restore_now();
    EXPECT_TRUE(same_mode(pty.now(), pty.original));
    TerminalGuard::restore_now();
    EXPECT_TRUE(same_mode(pty.now(), pty.original));
}

// A child puts the pty in raw mode and dies of `sig`, sent (raise) or from a real fault; the
// parent sees the child killed by that very signal and the pty back in its original mode.
void die_in_raw_mode(int sig, bool fault) {
    Pty pty;
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto guard = TerminalGuard::make_raw(pty.slave);
        termios t{};
        ::tcgetattr(pty.slave, &t);
        if (!guard || (t.c_lflag & ICANON)) ::_exit(90);   // raw mode did not happen
        if (fault)
            __builtin_trap();   // ud2: SIGILL from the CPU
        else
            ::raise(sig);
        ::_exit(91);   // the signal did not end the process
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 90) << "raw mode was not set";
    ASSERT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 91) << "signal " << sig << " was lost";
    if (SANITIZER_HANDLES_FAULTS && (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE)) {
        // The previous handler is the sanitizer's: it got the signal after the restore,
        // reported it and ended the process its own way (abort or exit code).
        EXPECT_TRUE(WIFEXITED(status) ? WEXITSTATUS(status) != 0 : WTERMSIG(status) == SIGABRT);
    } else {
        ASSERT_TRUE(WIFSIGNALED(status)) << "exit code " << WEXITSTATUS(status);
        EXPECT_EQ(WTERMSIG(status), sig);
    }
    EXPECT_TRUE(same_mode(pty.now(), pty.original)) << "signal " << sig;
}

TEST(TerminalGuard, RestoresOnSentFatalSignals) {
    die_in_raw_mode(SIGABRT, false);
    die_in_raw_mode(SIGSEGV, false);
    die_in_raw_mode(SIGBUS, false);
    die_in_raw_mode(SIGFPE, false);
}

TEST(TerminalGuard, RestoresOnAFaultAndTheFaultStillKills) {
    die_in_raw_mode(SIGILL, true);
}

TEST(TerminalGuard, RestoresOnAbort) {
    Pty pty;
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto guard = TerminalGuard::make_raw(pty.slave);
        if (!guard) ::_exit(90);
        std::abort();
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(WTERMSIG(status), SIGABRT);
    EXPECT_TRUE(same_mode(pty.now(), pty.original));
}

} // namespace
} // namespace minivmm
