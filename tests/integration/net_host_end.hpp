// The host end of the Linux network tests: a child of the test that makes its own network
// namespace (and starts minivmm there), so the traffic never leaves it; its output and
// minivmm's come back to the test.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>

namespace minivmm::test {

inline bool set_flags_up(int sock, const char* name) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (::ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) return false;
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    return ::ioctl(sock, SIOCSIFFLAGS, &ifr) == 0;
}

// A TCP listener on `ip`:`port` (SO_REUSEADDR), or -1.
inline int listen_tcp(const char* ip, uint16_t port, int backlog = 4) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, ip, &a.sin_addr);
    if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(s, backlog) < 0) {
        ::close(s);
        return -1;
    }
    return s;
}

// The test stream's byte at offset i: "minivmm\n" repeated (what `yes minivmm` prints).
inline char stream_byte(size_t i) { return "minivmm\n"[i % 8]; }

// How many of the `n` bytes at `buf`, received at offset `at` of that stream, differ from it.
inline size_t stream_mismatches(const char* buf, size_t n, size_t at) {
    size_t bad = 0;
    for (size_t i = 0; i < n; ++i)
        if (buf[i] != stream_byte(at + i)) ++bad;
    return bad;
}

// Sends the first `bytes` of that stream on `c`, stopping when the peer takes no more.
inline void send_stream(int c, size_t bytes) {
    std::string chunk(1 << 16, '\0');
    for (size_t sent = 0; c >= 0 && sent < bytes;) {
        size_t n = std::min(chunk.size(), bytes - sent);
        for (size_t i = 0; i < n; ++i) chunk[i] = stream_byte(sent + i);
        ssize_t w = ::send(c, chunk.data(), n, MSG_NOSIGNAL);
        if (w <= 0) break;
        sent += static_cast<size_t>(w);
    }
}

// accept() that gives up after `seconds` (-1): a guest that never connects must not hang the test.
inline int accept_within(int listener, int seconds) {
    pollfd p{listener, POLLIN, 0};
    if (::poll(&p, 1, seconds * 1000) != 1) return -1;
    return ::accept(listener, nullptr, nullptr);
}

struct HostEnd {
    int exit_code = -1;   // 77: no network namespace could be made
    std::string out, err;
};

// Runs `host_end(cmdline)` in a child (which makes its own network namespace and starts
// minivmm there) and collects its output and minivmm's.
inline HostEnd run_host_end_child(void (*host_end)(const std::string&), const std::string& cmdline) {
    HostEnd r;
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return r;
    pid_t child = ::fork();
    if (child == 0) {
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        host_end(cmdline);
        ::_exit(126);
    }
    ::close(out[1]);
    ::close(err[1]);
    auto drain = [](int fd, std::string& to) {
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) to.append(buf, static_cast<size_t>(n));
        ::close(fd);
    };
    std::thread e([&] { drain(err[0], r.err); });
    drain(out[0], r.out);
    e.join();
    int status = 0;
    ::waitpid(child, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

} // namespace minivmm::test
