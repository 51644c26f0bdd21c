#include "legacy/serial_output.hpp"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
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
    // A regular file never makes a writer wait for a reader; the rest (sockets, a pipe whose
    // reader is gone) is only written when there is room.
    const Mode mode = S_ISREG(st.st_mode) ? Mode::Plain : Mode::PollFirst;
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

void SerialOutput::write(uint8_t byte) noexcept {
    if (mode_ == Mode::Discard) return;
    if (mode_ == Mode::PollFirst) {
        pollfd p{fd_.get(), POLLOUT, 0};
        if (::poll(&p, 1, 0) != 1 || (p.revents & POLLOUT) == 0) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
    }
    ssize_t n;
    do {
        n = ::write(fd_.get(), &byte, 1);
    } while (n < 0 && errno == EINTR);
    // EAGAIN (reader too slow or stopped), EPIPE (reader gone; SIGPIPE is ignored), EIO: drop.
    if (n == 1)
        written_.fetch_add(1, std::memory_order_relaxed);
    else
        dropped_.fetch_add(1, std::memory_order_relaxed);
}

} // namespace minivmm
