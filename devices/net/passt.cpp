#include "net/passt.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace minivmm::net {

namespace {
constexpr int CHILD_FD = 3;   // where passt finds its end (--fd 3)
} // namespace

std::vector<std::string> passt_arguments(const std::vector<HostForward>& forwards,
                                         const std::string& log_path, int fd) {
    std::vector<std::string> args = {"passt", "--foreground", "--quiet", "--one-off", "--fd",
                                     std::to_string(fd)};
    if (!log_path.empty()) {
        args.push_back("--log-file");
        args.push_back(log_path);
    }
    for (const HostForward& f : forwards) {
        args.push_back(f.udp ? "-u" : "-t");
        args.push_back(passt_port_spec(f));
    }
    return args;
}

Result<PasstProcess> start_passt(const std::vector<HostForward>& forwards,
                                 const std::string& log_path) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return sys_error(ErrorCode::Host, "--net user: socketpair");
    UniqueFd ours(sv[0]), theirs(sv[1]);
    int ep[2];   // the child's exec errno, if exec fails (closed on a successful exec)
    if (::pipe2(ep, O_CLOEXEC) < 0) return sys_error(ErrorCode::Host, "--net user: pipe");
    UniqueFd err_read(ep[0]), err_write(ep[1]);

    const std::vector<std::string> args = passt_arguments(forwards, log_path, CHILD_FD);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid < 0) return sys_error(ErrorCode::Host, "--net user: fork");
    if (pid == 0) {
        // The child: only async-signal-safe calls until exec.
        ::setpgid(0, 0);
        int fd = theirs.get();
        if (fd == CHILD_FD) {
            ::fcntl(fd, F_SETFD, 0);
        } else if (::dup2(fd, CHILD_FD) < 0) {
            const int e = errno;
            (void)!::write(err_write.get(), &e, sizeof e);
            ::_exit(127);
        }
        ::execvp("passt", argv.data());
        const int e = errno;
        (void)!::write(err_write.get(), &e, sizeof e);
        ::_exit(127);
    }
    theirs.reset();
    err_write.reset();
    int child_errno = 0;
    ssize_t n;
    do {
        n = ::read(err_read.get(), &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    if (n == sizeof child_errno) {
        ::waitpid(pid, nullptr, 0);
        return Error(ErrorCode::Host,
                     fmt::format("--net user: cannot run passt: {}{}", std::strerror(child_errno),
                                 child_errno == ENOENT ? " (install the Debian package passt)"
                                                       : ""));
    }
    return PasstProcess{pid, std::move(ours)};
}

Result<UniqueFd> connect_stream(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        return Error(ErrorCode::Usage, fmt::format("--net stream={}: the path is too long", path));
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return sys_error(ErrorCode::Host, "--net stream: socket");
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0)
        return sys_error(ErrorCode::Host, fmt::format("--net stream={}: connect", path));
    return fd;
}

} // namespace minivmm::net
