// Linux's virtio_net on minivmm's virtio-net and a tap: ping, then 64 MiB by TCP each way,
// checked on both ends, once with the offloads negotiated (checksum and TSO) and once with
// Linux refusing them (virtio_net.csum=0 virtio_net.gso=0). The host end runs in a private
// network namespace made by a child of the test (unshare), so the traffic never leaves it.
// Needs root (a network namespace, a tap), hardware virtualisation (tools/test runs it inside
// tools/kvm-in-qemu elsewhere) and the images of guest-images/.
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "linux_images.hpp"
#include "run_process.hpp"

namespace {

namespace fs = std::filesystem;
using minivmm::test::has;
using minivmm::test::images_dir;
using minivmm::test::run_process;

constexpr const char* TAP = "mvlnx0";
constexpr const char* HOST_IP = "10.0.2.2";
constexpr size_t BYTES = 64u << 20;

// The stream both ends send: `yes minivmm`, cut at `n` bytes.
char stream_byte(size_t i) { return "minivmm\n"[i % 8]; }

bool set_flags_up(int sock, const char* name) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (::ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) return false;
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    return ::ioctl(sock, SIOCSIFFLAGS, &ifr) == 0;
}

bool set_address(int sock, const char* name, const char* addr, const char* mask) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    auto* sin = reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr);
    sin->sin_family = AF_INET;
    ::inet_pton(AF_INET, addr, &sin->sin_addr);
    if (::ioctl(sock, SIOCSIFADDR, &ifr) < 0) return false;
    ::inet_pton(AF_INET, mask, &sin->sin_addr);
    return ::ioctl(sock, SIOCSIFNETMASK, &ifr) == 0;
}

// accept() that gives up after `seconds` (-1): a guest that never connects must not hang the test.
int accept_within(int listener, int seconds) {
    pollfd p{listener, POLLIN, 0};
    if (::poll(&p, 1, seconds * 1000) != 1) return -1;
    return ::accept(listener, nullptr, nullptr);
}

int listen_on(uint16_t port) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, HOST_IP, &a.sin_addr);
    if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(s, 1) < 0) {
        ::close(s);
        return -1;
    }
    return s;
}

// In the child, inside its own network namespace: start minivmm (which creates the tap), give
// the tap its address, serve port 5001 (send the stream) and 5002 (receive and check it).
// Prints what it saw on stdout for the parent: "RECEIVED <bytes> <mismatches>".
[[noreturn]] void run_host_end(const std::string& cmdline) {
    if (::unshare(CLONE_NEWNET) < 0) ::_exit(77);
    int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (!set_flags_up(sock, "lo")) ::_exit(78);
    pid_t vm = ::fork();
    if (vm == 0) {
        const std::string kernel = (images_dir() / "kernel/bzImage").string();
        const std::string initrd = (images_dir() / "initramfs/initramfs.cpio.gz").string();
        ::execl(MINIVMM_BINARY, MINIVMM_BINARY, "--kernel", kernel.c_str(), "--initrd",
                initrd.c_str(), "--mem", "256M", "--cpus", "2", "--net", TAP, "--stats",
                "--timeout", "400", "--cmdline", cmdline.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    // The tap appears once minivmm has opened it (if_nametoindex looks in this namespace;
    // sysfs would show the namespace it was mounted in).
    for (int i = 0; i < 300 && ::if_nametoindex(TAP) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!set_address(sock, TAP, HOST_IP, "255.255.255.0") || !set_flags_up(sock, TAP))
        std::printf("HOST-END: cannot configure %s: %s\n", TAP, std::strerror(errno));
    int tx = listen_on(5001), rx = listen_on(5002);
    std::thread sender([tx] {
        int c = accept_within(tx, 300);
        timeval limit{60, 0};   // a guest that stops reading must not hang the test
        if (c >= 0) ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
        std::string chunk(1 << 16, '\0');
        for (size_t sent = 0; c >= 0 && sent < BYTES;) {
            size_t n = std::min(chunk.size(), BYTES - sent);
            for (size_t i = 0; i < n; ++i) chunk[i] = stream_byte(sent + i);
            ssize_t w = ::send(c, chunk.data(), n, MSG_NOSIGNAL);
            if (w <= 0) break;
            sent += static_cast<size_t>(w);
        }
        if (c >= 0) ::close(c);
    });
    size_t received = 0, mismatches = 0;
    int c = accept_within(rx, 300);
    char buf[1 << 16];
    while (c >= 0 && received < BYTES) {
        pollfd p{c, POLLIN, 0};
        if (::poll(&p, 1, 60'000) != 1) break;   // nothing for a minute: give up
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        for (ssize_t i = 0; i < n; ++i)
            if (buf[i] != stream_byte(received + static_cast<size_t>(i))) ++mismatches;
        received += static_cast<size_t>(n);
    }
    if (c >= 0) ::close(c);   // the guest's nc ends when we close
    sender.join();
    std::printf("RECEIVED %zu %zu\n", received, mismatches);
    std::fflush(stdout);
    int status = 0;
    ::waitpid(vm, &status, 0);
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

std::string stream_sha256() {
    auto r = run_process({"/bin/sh", "-c",
                          "yes minivmm | head -c " + std::to_string(BYTES) + " | sha256sum"});
    return r.out.substr(0, 64);
}

class LinuxGuestNet : public ::testing::TestWithParam<bool> {};

TEST_P(LinuxGuestNet, PingsAndMovesSixtyFourMibByTcpEachWay) {
    REQUIRE_KVM();
    if (auto why = minivmm::test::full_linux_unavailable(
            "tools/test does not run this suite inside tools/kvm-in-qemu, whose nested SVM "
            "stalled it once"))
        GTEST_SKIP() << *why;
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace and a tap";
    const bool offloads = GetParam();
    std::string cmdline = "console=ttyS0 minivmm.action=poweroff minivmm.ip=10.0.2.15/24 "
                          "minivmm.nettest=" + std::string(HOST_IP) + ":" + std::to_string(BYTES);
    if (!offloads) cmdline += " virtio_net.csum=0 virtio_net.gso=0";

    int out[2], err[2];
    ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(err, O_CLOEXEC), 0);
    pid_t child = ::fork();
    if (child == 0) {
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        run_host_end(cmdline);
    }
    ::close(out[1]);
    ::close(err[1]);
    std::string stdout_text, stderr_text;
    auto drain = [](int fd, std::string& to) {
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) to.append(buf, static_cast<size_t>(n));
        ::close(fd);
    };
    std::thread e([&] { drain(err[0], stderr_text); });
    drain(out[0], stdout_text);
    e.join();
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status)) << status;
    if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "cannot make a network namespace (unshare)";
    EXPECT_EQ(WEXITSTATUS(status), 0) << stdout_text << stderr_text;
    EXPECT_TRUE(has(stdout_text, "MINIVMM-NET-OK")) << stdout_text;
    EXPECT_TRUE(has(stdout_text, "MINIVMM-PING-OK")) << stdout_text;
    EXPECT_TRUE(has(stdout_text, "MINIVMM-NET-RX " + stream_sha256()))
        << "the guest did not receive the 64 MiB intact: " << stdout_text;
    EXPECT_TRUE(has(stdout_text, "MINIVMM-NET-TX-DONE")) << stdout_text;
    EXPECT_TRUE(has(stdout_text, "RECEIVED " + std::to_string(BYTES) + " 0\n"))
        << "the host did not receive the guest's 64 MiB intact: " << stdout_text;
    EXPECT_TRUE(has(stdout_text, "MINIVMM-POWEROFF")) << stdout_text;
    std::printf("[ INFO     ] %s\n", offloads ? "offloads negotiated" : "offloads refused");
}

INSTANTIATE_TEST_SUITE_P(, LinuxGuestNet, ::testing::Values(true, false),
                         [](const auto& info) {
                             return std::string(info.param ? "WithOffloads" : "WithoutOffloads");
                         });

} // namespace
