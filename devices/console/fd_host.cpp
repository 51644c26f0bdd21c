// FdHost (see fd_host.hpp).
#include "console/fd_host.hpp"

#include <cerrno>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace minivmm::console {

namespace {
// stdin as the console reads it: its own non-blocking open where /proc can give one, else a
// copy (a regular file never makes a read wait).
Result<UniqueFd> open_stdin() {
    struct stat st {};
    if (::fstat(STDIN_FILENO, &st) < 0) return sys_error(ErrorCode::Host, "fstat stdin");
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
        if (auto own = reopen_fd(STDIN_FILENO, O_RDONLY | O_NONBLOCK)) return own;
    }
    int copy = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) return sys_error(ErrorCode::Host, "dup stdin");
    return UniqueFd(copy);
}
} // namespace

FdHost::FdHost(std::unique_ptr<SerialOutput> out, UniqueFd in, std::string name)
    : out_(std::move(out)), in_(std::move(in)), name_(std::move(name)) {
    struct stat st {};
    // epoll refuses regular files; /dev/null reads its end at once and is never watched.
    in_pollable_ = in_.valid() && ::fstat(in_.get(), &st) == 0 && !S_ISREG(st.st_mode);
}

Result<std::unique_ptr<FdHost>> FdHost::stdio() {
    auto out = SerialOutput::for_fd(STDOUT_FILENO);
    if (!out) return out.error();
    auto in = open_stdin();
    if (!in) return in.error();
    return std::make_unique<FdHost>(std::move(*out), std::move(*in), "stdio");
}

Result<std::unique_ptr<FdHost>> FdHost::output_only(int fd, std::string name) {
    auto out = SerialOutput::for_fd(fd);
    if (!out) return out.error();
    return std::make_unique<FdHost>(std::move(*out), UniqueFd(), std::move(name));
}

Result<std::unique_ptr<FdHost>> FdHost::append_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644));
    if (!fd.valid())
        return sys_error(ErrorCode::Input, fmt::format("Cannot open console output file {}", path));
    auto out = SerialOutput::for_fd(fd.get());   // its own descriptor; `fd` closes here
    if (!out) return out.error();
    return std::make_unique<FdHost>(std::move(*out), UniqueFd(), "file=" + path);
}

ConsoleHost::Sent FdHost::write(std::span<const uint8_t> bytes) noexcept {
    if (out_broken_) return {0, bytes.size()};
    const SerialOutput::Progress p = out_->write(bytes);
    if (p.stop != SerialOutput::Progress::Stop::Broken) return {p.written, 0};
    out_broken_ = true;   // the reader is gone or the disk is full: like a cut serial line
    return {p.written, bytes.size() - p.written};
}

size_t FdHost::read(std::span<uint8_t> out) noexcept {
    if (!in_.valid() || in_done_ || out.empty()) return 0;
    for (;;) {
        const ssize_t n = ::read(in_.get(), out.data(), out.size());
        if (n > 0) return static_cast<size_t>(n);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return 0;
        // The end of input (or an error): the guest keeps running, without input. The
        // descriptor stays open until update() has taken it out of the event loop.
        in_done_ = true;
        return 0;
    }
}

void FdHost::update(EventSources& events, bool want_input, bool want_output) noexcept {
    if (in_pollable_) in_watch_.set(events, in_.get(), want_input && !in_done_ ? WatchedFd::IN : WatchedFd::NONE);
    out_watch_.set(events, out_->fd(), want_output && !out_broken_ ? WatchedFd::OUT : WatchedFd::NONE);
}

void FdHost::detach(EventSources& events) noexcept {
    in_watch_.remove(events);
    out_watch_.remove(events);
}

} // namespace minivmm::console
