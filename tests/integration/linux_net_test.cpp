// Linux's virtio_net on minivmm's virtio-net and a tap: ping, then 64 MiB by TCP each way,
// checked on both ends, once with the offloads negotiated (checksum and TSO) and once with
// Linux refusing them (virtio_net.csum=0 virtio_net.gso=0); and the tap deleted and created
// again under the running guest (its carrier drops and returns, a TCP connection open across
// the gap carries on, a new one works). The host end runs in a private
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
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "linux_images.hpp"
#include "net_host_end.hpp"
#include "run_process.hpp"

namespace {

namespace fs = std::filesystem;
using minivmm::test::has;
using minivmm::test::images_dir;
using minivmm::test::run_process;
using namespace minivmm::test;

constexpr const char* TAP = "mvlnx0";
constexpr const char* HOST_IP = "10.0.2.2";
constexpr size_t BYTES = 64u << 20;

// The stream both ends send: `yes minivmm`, cut at `n` bytes.

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

void configure_tap(int sock) {
    if (!set_address(sock, TAP, HOST_IP, "255.255.255.0") || !set_flags_up(sock, TAP))
        std::printf("HOST-END: cannot configure %s: %s\n", TAP, std::strerror(errno));
}

// In the child, inside its own network namespace: start minivmm (which creates the tap) with
// the minimal Linux and `cmdline`, and give the tap its address. Returns minivmm's pid.
pid_t start_vm(const std::string& cmdline, int sock) {
    if (!set_flags_up(sock, "lo")) ::_exit(78);
    pid_t vm = ::fork();
    if (vm == 0) {
        const std::string kernel = (images_dir() / "kernel/bzImage").string();
        const std::string initrd = (images_dir() / "initramfs/initramfs.cpio.gz").string();
        ::execl(MINIVMM_BINARY, MINIVMM_BINARY, "--kernel", kernel.c_str(), "--initrd",
                initrd.c_str(), "--mem", "256M", "--cpus", "2", "--net", TAP, "--stats",
                "--log-level", "info", "--timeout", "400", "--cmdline", cmdline.c_str(),
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    // The tap appears once minivmm has opened it (if_nametoindex looks in this namespace;
    // sysfs would show the namespace it was mounted in).
    for (int i = 0; i < 300 && ::if_nametoindex(TAP) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    configure_tap(sock);
    return vm;
}

[[noreturn]] void exit_with_vm(pid_t vm) {
    std::fflush(stdout);
    int status = 0;
    ::waitpid(vm, &status, 0);
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

// Serves port 5001 (send the stream) and 5002 (receive and check it); prints what it saw on
// stdout for the parent: "RECEIVED <bytes> <mismatches>".
[[noreturn]] void run_host_end(const std::string& cmdline) {
    if (::unshare(CLONE_NEWNET) < 0) ::_exit(77);
    int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    pid_t vm = start_vm(cmdline, sock);
    int tx = listen_tcp(HOST_IP, 5001, 1), rx = listen_tcp(HOST_IP, 5002, 1);
    std::thread sender([tx] {
        int c = accept_within(tx, 300);
        timeval limit{60, 0};   // a guest that stops reading must not hang the test
        if (c >= 0) ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
        send_stream(c, BYTES);
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
        mismatches += stream_mismatches(buf, static_cast<size_t>(n), received);
        received += static_cast<size_t>(n);
    }
    if (c >= 0) ::close(c);   // the guest's nc ends when we close
    sender.join();
    std::printf("RECEIVED %zu %zu\n", received, mismatches);
    exit_with_vm(vm);
}

// What one accepted connection on `listener` carries until its end or `seconds` of silence.
std::string read_connection(int listener, int seconds) {
    int c = accept_within(listener, seconds);
    std::string got;
    char buf[256];
    while (c >= 0) {
        pollfd p{c, POLLIN, 0};
        if (::poll(&p, 1, seconds * 1000) != 1) break;
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
    }
    if (c >= 0) ::close(c);
    return got;
}

// The guest opens a connection to 5004 and sends "before"; the tap is then deleted, left
// away for 4 s (the guest's carrier drops) and created again with its address (it comes
// back); the guest sends "after" on the same connection and "relinked" on a new one to 5003.
// Prints "RELINK-HOST kept=<what 5004 carried> new=<what 5003 carried>".
[[noreturn]] void run_relink_host_end(const std::string& cmdline) {
    if (::unshare(CLONE_NEWNET) < 0) ::_exit(77);
    int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    pid_t vm = start_vm(cmdline, sock);
    int kept = listen_tcp(HOST_IP, 5004, 1);
    int c = accept_within(kept, 300);
    std::string before(7, '\0');
    if (c < 0 || ::recv(c, before.data(), before.size(), MSG_WAITALL) != 7 || before != "before\n")
        std::printf("RELINK-HOST no \"before\" from the guest\n");
    std::fflush(stdout);
    if (run_process({"/usr/sbin/ip", "link", "del", TAP}).exit_code != 0)
        std::printf("RELINK-HOST cannot delete %s\n", TAP);
    std::this_thread::sleep_for(std::chrono::seconds(4));
    if (run_process({"/usr/sbin/ip", "tuntap", "add", "dev", TAP, "mode", "tap"}).exit_code != 0)
        std::printf("RELINK-HOST cannot create %s again\n", TAP);
    configure_tap(sock);
    int fresh = listen_tcp(HOST_IP, 5003, 1);
    std::string after;
    char buf[256];
    for (pollfd p{c, POLLIN, 0}; c >= 0 && ::poll(&p, 1, 120'000) == 1;) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        after.append(buf, static_cast<size_t>(n));
    }
    if (c >= 0) ::close(c);
    std::string relinked = read_connection(fresh, 120);
    std::printf("RELINK-HOST kept=%s new=%s\n", after.c_str(), relinked.c_str());
    exit_with_vm(vm);
}

std::string stream_sha256() {
    auto r = run_process({"/bin/sh", "-c",
                          "yes minivmm | head -c " + std::to_string(BYTES) + " | sha256sum"});
    return r.out.substr(0, 64);
}

// Why the Linux network tests cannot run here, if they cannot (where the host has no
// VT-x/AMD-V, tools/test runs them inside tools/kvm-in-qemu).
std::optional<std::string> why_not_here() {
    if (auto why = minivmm::test::full_linux_unavailable()) return why;
    if (::geteuid() != 0) return "needs root for a network namespace and a tap";
    return std::nullopt;
}

const std::string GUEST_NET = "console=ttyS0 minivmm.action=poweroff minivmm.ip=10.0.2.15/24 ";

class LinuxGuestNet : public ::testing::TestWithParam<bool> {};

TEST_P(LinuxGuestNet, PingsAndMovesSixtyFourMibByTcpEachWay) {
    REQUIRE_KVM();
    if (auto why = why_not_here()) GTEST_SKIP() << *why;
    const bool offloads = GetParam();
    std::string cmdline =
        GUEST_NET + "minivmm.nettest=" + std::string(HOST_IP) + ":" + std::to_string(BYTES);
    if (!offloads) cmdline += " virtio_net.csum=0 virtio_net.gso=0";
    HostEnd r = run_host_end_child(run_host_end, cmdline);
    if (r.exit_code == 77) GTEST_SKIP() << "cannot make a network namespace (unshare)";
    const std::string& stdout_text = r.out;
    const std::string& stderr_text = r.err;
    EXPECT_EQ(r.exit_code, 0) << stdout_text << stderr_text;
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

// With and without offloads: the new tap must be given the ones the guest negotiated again.
TEST_P(LinuxGuestNet, ATapDeletedAndCreatedAgainDropsTheCarrierAndTcpCarriesOn) {
    REQUIRE_KVM();
    if (auto why = why_not_here()) GTEST_SKIP() << *why;
    std::string cmdline = GUEST_NET + "minivmm.relinktest=" + std::string(HOST_IP);
    if (!GetParam()) cmdline += " virtio_net.csum=0 virtio_net.gso=0";
    HostEnd r = run_host_end_child(run_relink_host_end, cmdline);
    if (r.exit_code == 77) GTEST_SKIP() << "cannot make a network namespace (unshare)";
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    // Linux's virtio_net saw the link status change (the carrier, from the configuration
    // interrupts), the connection open across the gap carried on, and a new one worked.
    for (const char* seen : {"MINIVMM-RELINK-DOWN", "MINIVMM-RELINK-UP", "MINIVMM-RELINK-OK",
                             "RELINK-HOST kept=after\n new=relinked\n", "MINIVMM-POWEROFF"})
        EXPECT_TRUE(has(r.out, seen)) << seen << "\n" << r.out;
    for (const char* said : {"mvlnx0 vanished", "mvlnx0 is back: link up"})
        EXPECT_TRUE(has(r.err, said)) << said << "\n" << r.err;
}

INSTANTIATE_TEST_SUITE_P(, LinuxGuestNet, ::testing::Values(true, false),
                         [](const auto& info) {
                             return std::string(info.param ? "WithOffloads" : "WithoutOffloads");
                         });

} // namespace
