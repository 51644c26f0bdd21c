#include "legacy/serial_output.hpp"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace minivmm {

Result<UniqueFd> reopen_fd(int fd, int flags) {
    const std::string path = fmt::format("/proc/self/fd/{}", fd);
    int own = ::open(path.c_str(), flags | O_CLOEXEC | O_NOCTTY);
    if (own < 0) return sys_error(ErrorCode::Host, fmt::format("Cannot reopen fd {}", fd));
    return UniqueFd(own);
}

Result<std::unique_ptr<SerialOutput>> SerialOutput::for_fd(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) < 0) return sys_error(ErrorCode::Host, fmt::format("fstat fd {}", fd));
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
        if (auto own = reopen_fd(fd, O_WRONLY | O_NONBLOCK))
            return std::unique_ptr<SerialOutput>(new SerialOutput(std::move(*own), Mode::Plain));
    }
    int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) return sys_error(ErrorCode::Host, fmt::format("dup fd {}", fd));
    // A regular file never makes a writer wait for a reader; a socket is sent to without
    // waiting; the rest (a tty or pipe /proc could not reopen) only when there is room.
    const Mode mode = S_ISREG(st.st_mode)    ? Mode::Plain
                      : S_ISSOCK(st.st_mode) ? Mode::Socket
                                             : Mode::PollFirst;
    return std::unique_ptr<SerialOutput>(new SerialOutput(UniqueFd(copy), mode));
}

Result<std::unique_ptr<SerialOutput>> SerialOutput::open_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                    0644);
    if (fd < 0)
        return sys_error(ErrorCode::Input, fmt::format("Cannot open serial output file {}", path));
    return std::unique_ptr<SerialOutput>(new SerialOutput(UniqueFd(fd), Mode::Plain));
}

std::unique_ptr<SerialOutput> SerialOutput::discard() {
    return std::unique_ptr<SerialOutput>(new SerialOutput(UniqueFd(), Mode::Discard));
}

SerialOutput::Progress SerialOutput::write(std::span<const uint8_t> bytes) noexcept {
    Progress p;
    if (mode_ == Mode::Discard) {
        p.written = bytes.size();
        return p;
    }
    while (p.written < bytes.size()) {
        const uint8_t* data = bytes.data() + p.written;
        size_t len = bytes.size() - p.written;
        if (mode_ == Mode::PollFirst) {
            // A descriptor we could not make non-blocking: one byte, and only when there is
            // room for it, so the write cannot wait.
            pollfd pfd{fd_.get(), POLLOUT, 0};
            if (::poll(&pfd, 1, 0) != 1 || (pfd.revents & POLLOUT) == 0) {
                p.stop = (pfd.revents & (POLLERR | POLLNVAL)) ? Progress::Stop::Broken
                                                              : Progress::Stop::Full;
                return p;
            }
            len = 1;
        }
        ssize_t n = mode_ == Mode::Socket
                        ? ::send(fd_.get(), data, len, MSG_DONTWAIT | MSG_NOSIGNAL)
                        : ::write(fd_.get(), data, len);
        if (n > 0) {
            p.written += static_cast<size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            // EAGAIN: the reader is slow or stopped. EPIPE (the reader is gone; SIGPIPE is
            // ignored), EIO, ENOSPC ...: it will not get better.
            p.stop = (n == 0 || errno == EAGAIN) ? Progress::Stop::Full : Progress::Stop::Broken;
            return p;
        }
    }
    return p;
}

} // namespace minivmm
