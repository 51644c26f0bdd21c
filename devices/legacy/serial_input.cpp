#include "legacy/serial_input.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.hpp"
#include "legacy/serial_output.hpp"

namespace minivmm {

Result<std::unique_ptr<SerialInput>> SerialInput::create(EventLoop& loop, int fd,
                                                         Serial16550& serial, Options options) {
    struct stat st {};
    if (::fstat(fd, &st) < 0) return sys_error(ErrorCode::Host, fmt::format("fstat fd {}", fd));
    UniqueFd own;
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
        if (auto r = reopen_fd(fd, O_RDONLY | O_NONBLOCK)) own = std::move(*r);
    }
    if (!own.valid()) {
        int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (copy < 0) return sys_error(ErrorCode::Host, fmt::format("dup fd {}", fd));
        own.reset(copy);
    }
    auto space = EventFd::create();
    if (!space) return space.error();
    std::unique_ptr<SerialInput> in(
        new SerialInput(loop, std::move(own), std::move(*space), serial, std::move(options)));
    SerialInput* self = in.get();
    MINIVMM_TRY(loop.add(self->space_.fd(), EPOLLIN, [self](uint32_t) { self->on_space(); }));
    serial.set_space_callback([self] { self->space_.signal(); });
    auto added = loop.add(self->fd_.get(), EPOLLIN, [self](uint32_t) { self->pump(); });
    if (!added) {
        // epoll refuses regular files and /dev/null (EPERM): they are always readable, so
        // read them whenever the FIFO has room, starting now.
        self->pollable_ = false;
        self->space_.signal();
    }
    return in;
}

SerialInput::~SerialInput() {
    serial_.set_space_callback(nullptr);
    if (pollable_) (void)loop_.remove(fd_.get());
    (void)loop_.remove(space_.fd());
}

void SerialInput::watch() {
    if (pollable_) (void)loop_.set_events(fd_.get(), EPOLLIN);
}

void SerialInput::unwatch() {
    // An empty event set takes fd_ out of epoll (a hung-up stdin cannot spin the loop).
    if (pollable_) (void)loop_.set_events(fd_.get(), 0);
}

void SerialInput::finish() {
    unwatch();
    finished_.store(true, std::memory_order_relaxed);
}

void SerialInput::on_space() {
    space_.consume();
    if (finished()) return;
    paused_.store(false, std::memory_order_relaxed);
    if (pollable_)
        watch();   // epoll says when there is input
    else
        pump();
}

void SerialInput::pump() {
    const size_t space = serial_.input_space();   // 0 arms the UART's space callback
    if (space == 0) {
        // Back-pressure: leave the input in the host's pipe or terminal until the guest reads.
        // Leaving the loop (not just clearing EPOLLIN) also keeps a hung-up pipe from spinning.
        paused_.store(true, std::memory_order_relaxed);
        unwatch();
        return;
    }
    uint8_t buf[READ_CHUNK];
    const ssize_t n = ::read(fd_.get(), buf, std::min(space, sizeof buf));
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        log(LogLevel::Warn, "serial input: read: {}; no more input", std::strerror(errno));
        finish();
        return;
    }
    if (n == 0) {   // EOF: the guest keeps running without input
        log(LogLevel::Debug, "serial input: end of input");
        finish();
        return;
    }
    bytes_read_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    std::span<const uint8_t> bytes(buf, static_cast<size_t>(n));
    uint8_t filtered[READ_CHUNK];
    if (options_.escape) {
        const auto f = escape_.filter(bytes, filtered);
        if (f.help) {
            [[maybe_unused]] ssize_t w =
                ::write(options_.help_fd, ConsoleEscape::HELP, std::strlen(ConsoleEscape::HELP));
        }
        bytes = std::span<const uint8_t>(filtered, f.count);
        for (unsigned i = 0; i < f.pauses && options_.on_pause; ++i) options_.on_pause();
        if (f.quit) {
            (void)serial_.push_input(bytes);
            finish();
            if (options_.on_quit) options_.on_quit();
            return;
        }
    }
    const size_t accepted = serial_.push_input(bytes);
    bytes_lost_.fetch_add(bytes.size() - accepted, std::memory_order_relaxed);
    if (!pollable_) space_.signal();   // keep reading a plain file while there is room
}

} // namespace minivmm
