// SocketHost (see socket_host.hpp).
#include "console/socket_host.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace minivmm::console {

Result<std::unique_ptr<SocketHost>> SocketHost::listen(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path)
        return Error(ErrorCode::Input, fmt::format("Console socket path {} is too long", path));
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return Error(ErrorCode::Input,
                         fmt::format("Console socket {}: exists and is not a socket", path));
        if (::unlink(path.c_str()) < 0)
            return sys_error(ErrorCode::Input, fmt::format("Cannot remove stale socket {}", path));
    }
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return sys_error(ErrorCode::Host, "Cannot create a unix socket");
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0)
        return sys_error(ErrorCode::Input, fmt::format("Cannot bind console socket {}", path));
    if (::listen(fd.get(), 1) < 0)
        return sys_error(ErrorCode::Host, fmt::format("listen on console socket {}", path));
    return std::unique_ptr<SocketHost>(new SocketHost(std::move(fd), path));
}

void SocketHost::poll() noexcept {
    if (client_.valid() || gone_.valid()) return;   // one at a time: the next waits in the backlog
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;   // EAGAIN: nobody waiting; other errors: try at the next wake-up
    client_.reset(fd);
    ++connections_;
}

void SocketHost::drop_client() noexcept {
    gone_ = std::move(client_);
    client_ = UniqueFd();
}

ConsoleHost::Sent SocketHost::write(std::span<const uint8_t> bytes) noexcept {
    Sent sent;
    while (client_.valid() && sent.delivered < bytes.size()) {
        const ssize_t n = ::send(client_.get(), bytes.data() + sent.delivered,
                                 bytes.size() - sent.delivered, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            sent.delivered += static_cast<size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            return sent;   // full: the client is slow; the rest waits for EPOLLOUT
        } else {
            drop_client();   // EPIPE, ECONNRESET: it left
        }
    }
    sent.dropped = bytes.size() - sent.delivered;   // nobody connected
    return sent;
}

size_t SocketHost::read(std::span<uint8_t> out) noexcept {
    while (client_.valid() && !out.empty()) {
        const ssize_t n = ::read(client_.get(), out.data(), out.size());
        if (n > 0) return static_cast<size_t>(n);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return 0;
        drop_client();   // its end of input (it closed or shut down writing) or an error
    }
    return 0;
}

void SocketHost::update(EventSources& events, bool want_input, bool want_output) noexcept {
    if (gone_.valid()) {
        client_watch_.remove(events);
        gone_.reset();
    }
    // Level-triggered: the listener only while there is no client (a second one waits).
    listener_watch_.set(events, listener_.get(), client_.valid() ? WatchedFd::NONE : WatchedFd::IN);
    if (client_.valid())
        client_watch_.set(events, client_.get(),
                          (want_input ? WatchedFd::IN : WatchedFd::NONE) | (want_output ? WatchedFd::OUT : WatchedFd::NONE));
}

void SocketHost::detach(EventSources& events) noexcept {
    listener_watch_.remove(events);
    client_watch_.remove(events);
    gone_.reset();
}

} // namespace minivmm::console
