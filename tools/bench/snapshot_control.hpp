// The two control channels snapshot_bench drives: minivmm's API (HTTP/1.1 on a unix socket)
// and QEMU's QMP (JSON lines on a unix socket, a descriptor handed over with SCM_RIGHTS). Only
// what the benchmark needs; every failure ends the program with one line.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench_util.hpp"

namespace snapbench {

using bench::now;

[[noreturn]] inline void die(const std::string& what) {
    std::fprintf(stderr, "snapshot_bench: %s\n", what.c_str());
    std::exit(1);
}

inline int connect_unix(const std::string& path, double seconds) {
    const double end = now() + seconds;
    for (;;) {
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
            timeval limit{120, 0};   // a VMM that stops answering ends the run, not hangs it
            ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
            return fd;
        }
        ::close(fd);
        if (now() > end) die("cannot connect to " + path);
        ::usleep(1000);
    }
}

inline void send_all(int fd, const std::string& s) {
    for (size_t off = 0; off < s.size();) {
        ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n <= 0) die("send");
        off += static_cast<size_t>(n);
    }
}

// One HTTP/1.1 request on minivmm's API socket (kept open); the status code.
inline int http(int fd, const std::string& method, const std::string& path, const std::string& body) {
    send_all(fd, method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                 "application/json\r\nContent-Length: " + std::to_string(body.size()) +
                 "\r\n\r\n" + body);
    std::string in;
    char buf[4096];
    size_t head_end;
    while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) die("API socket closed");
        in.append(buf, static_cast<size_t>(n));
    }
    size_t length = 0;
    auto cl = in.find("Content-Length:");
    if (cl == std::string::npos) cl = in.find("content-length:");
    if (cl != std::string::npos && cl < head_end) length = std::strtoul(in.c_str() + cl + 15, nullptr, 10);
    while (in.size() < head_end + 4 + length) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) die("API socket closed");
        in.append(buf, static_cast<size_t>(n));
    }
    const int status = std::atoi(in.c_str() + 9);
    if (status / 100 != 2) die(method + " " + path + ": " + in);
    return status;
}

// QMP, one JSON object a line.
struct Qmp {
    int fd;
    std::string in;
    explicit Qmp(const std::string& path) : fd(connect_unix(path, 10)) {
        line();   // the greeting
        command(R"({"execute":"qmp_capabilities"})");
    }
    ~Qmp() { ::close(fd); }
    std::string line() {
        for (;;) {
            auto p = in.find('\n');
            if (p != std::string::npos) {
                std::string l = in.substr(0, p);
                in.erase(0, p + 1);
                return l;
            }
            pollfd pf{fd, POLLIN, 0};
            if (::poll(&pf, 1, 120000) != 1) die("QMP: no answer or event within 120 s");
            char buf[4096];
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) die("QMP socket closed");
            in.append(buf, static_cast<size_t>(n));
        }
    }
    // Sends a command (with `pass_fd` as SCM_RIGHTS if given) and returns its answer.
    std::string command(const std::string& json, int pass_fd = -1) {
        const std::string s = json + "\n";
        if (pass_fd < 0) {
            send_all(fd, s);
        } else {
            iovec iov{const_cast<char*>(s.data()), s.size()};
            char control[CMSG_SPACE(sizeof(int))] = {};
            msghdr msg{};
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            cmsghdr* c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
            if (::sendmsg(fd, &msg, MSG_NOSIGNAL) != static_cast<ssize_t>(s.size())) die("sendmsg");
        }
        for (;;) {
            std::string l = line();
            if (l.find("\"error\"") != std::string::npos) die("QMP " + json + ": " + l);
            if (l.find("\"return\"") != std::string::npos) return l;
        }
    }
    // Waits for the MIGRATION event with status completed.
    void wait_migrated() {
        for (;;) {
            std::string l = line();
            if (l.find("\"MIGRATION\"") == std::string::npos) continue;
            if (l.find("\"completed\"") != std::string::npos) return;
            if (l.find("\"failed\"") != std::string::npos) die("QEMU migration failed: " + l);
        }
    }
};

} // namespace snapbench
