// run_confined: a forked child that loads a seccomp filter and runs a test body under it, its
// stdout, stderr and exit status collected (the sandbox tests, and the device tests whose
// calls must pass the filter of the thread they run on).
#pragma once

#include <fcntl.h>
#include <functional>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/seccomp_filter.hpp"

namespace minivmm::sandbox {

struct Child {
    int exit_code = -1;   // -1 if killed by a signal
    int signal = 0;
    std::string out;      // what the child wrote to its stdout
    std::string err;
};

inline std::string drain(int fd) {
    std::string s;
    char buf[512];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
    return s;
}

// Forks; the child runs `prepare`, installs the SIGSYS handler, loads `filter` and runs `body`,
// then _exit(0). The filter is compiled in the parent: the child only makes the calls under test.
inline Child run_confined(const SeccompFilter& filter, const std::function<void()>& body,
                          const std::function<void()>& prepare = [] {}) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return {};
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out[1], STDOUT_FILENO);
        ::dup2(err[1], STDERR_FILENO);
        prepare();
        if (!install_sigsys_handler() || !filter.load()) ::_exit(99);
        body();
        ::_exit(0);
    }
    ::close(out[1]);
    ::close(err[1]);
    Child c;
    c.out = drain(out[0]);
    c.err = drain(err[0]);
    ::close(out[0]);
    ::close(err[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFEXITED(status)) c.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) c.signal = WTERMSIG(status);
    return c;
}

} // namespace minivmm::sandbox
