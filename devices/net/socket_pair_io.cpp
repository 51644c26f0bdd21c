// The socketpair "tap" for tests.
#include "net/socket_pair_io.hpp"

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include "net/tap.hpp"

namespace minivmm::net {

Result<std::pair<std::unique_ptr<SocketPairIo>, UniqueFd>> SocketPairIo::create() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
        return sys_error(ErrorCode::Host, "socketpair");
    UniqueFd device(fds[0]), peer(fds[1]);
    // Room for 64 KiB frames with their header, and a few of them (the default is ~200 KiB).
    int size = 4 << 20;
    ::setsockopt(device.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    ::setsockopt(peer.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    int flags = ::fcntl(device.get(), F_GETFL);
    if (flags < 0 || ::fcntl(device.get(), F_SETFL, flags | O_NONBLOCK) < 0)
        return sys_error(ErrorCode::Host, "fcntl O_NONBLOCK");
    return std::make_pair(std::unique_ptr<SocketPairIo>(new SocketPairIo(std::move(device))),
                          std::move(peer));
}

IoResult SocketPairIo::send(std::span<const iovec> pieces) noexcept {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(pieces.data());
    msg.msg_iovlen = pieces.size();
    ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) return {io_status_for_errno(errno), 0, errno};
    return {IoStatus::Ok, static_cast<size_t>(n)};
}

IoResult SocketPairIo::recv(std::span<uint8_t> buffer) noexcept {
    iovec iov{buffer.data(), buffer.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t n = ::recvmsg(fd_.get(), &msg, MSG_DONTWAIT);
    if (n < 0) return {io_status_for_errno(errno), 0, errno};
    if (n == 0 && buffer.size() > 0) {
        // SOCK_SEQPACKET: 0 is either an empty message or the peer's close; a close makes the
        // descriptor report EPOLLHUP/EPOLLRDHUP, an empty message does not.
        pollfd p{fd_.get(), POLLRDHUP, 0};
        if (::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP)))
            return {IoStatus::Gone, 0, EPIPE};
    }
    return {IoStatus::Ok, static_cast<size_t>(n), 0, (msg.msg_flags & MSG_TRUNC) != 0};
}

Result<void> SocketPairIo::configure(size_t vnet_hdr_size, unsigned tun_offloads) {
    vnet_hdr_size_ = vnet_hdr_size;
    offloads_ = tun_offloads;
    ++configure_calls_;
    return {};
}

} // namespace minivmm::net
