// virtio-console used by Linux's own driver (virtio_console, /dev/hvc0) both ways, over
// --console socket=PATH: the minimal kernel and initramfs of guest-images/; /init
// (minivmm.hvc=1) writes a marker to /dev/hvc0, reads a line and writes it back. The test is
// the socket's client. Needs hardware virtualisation, like the LinuxGuest suites (tools/test
// runs it inside tools/kvm-in-qemu on hosts without it).
#include <chrono>
#include <cstring>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/unique_fd.hpp"
#include "kvm_available.hpp"
#include "linux_images.hpp"
#include "run_process.hpp"

namespace {

using minivmm::UniqueFd;
using minivmm::test::has;
using minivmm::test::images_dir;

UniqueFd connect_when_listening(const std::string& path, int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return {};
}

// Reads from `fd` into `got` until it holds `text` (true) or `timeout_ms` pass or it closes.
bool read_until(int fd, std::string& got, const std::string& text, int timeout_ms) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (got.find(text) == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            end - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        char buf[4096];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) return false;
        got.append(buf, static_cast<size_t>(n));
    }
    return true;
}

TEST(LinuxGuestConsole, LinuxWritesAndReadsHvc0ThroughASocket) {
    REQUIRE_FULL_LINUX();
    const int timeout_s = 180;
    const std::string sock = "/tmp/minivmm-hvc-" + std::to_string(::getpid()) + ".sock";
    minivmm::test::BackgroundProcess vm(
        {MINIVMM_BINARY, "--kernel", (images_dir() / "kernel/bzImage").string(), "--initrd",
         (images_dir() / "initramfs/initramfs.cpio.gz").string(), "--mem", "256M", "--timeout",
         std::to_string(timeout_s), "--console", "socket=" + sock, "--stats", "--cmdline",
         "console=ttyS0 minivmm.action=poweroff minivmm.disk=none minivmm.hvc=1"});
    ASSERT_GT(vm.pid(), 0);
    UniqueFd client = connect_when_listening(sock, 30'000);
    ASSERT_TRUE(client.valid()) << "minivmm did not listen on " << sock;
    std::string got;
    ASSERT_TRUE(read_until(client.get(), got, "MINIVMM-HVC-HELLO", timeout_s * 1000))
        << "from hvc0: " << got << vm.finish(SIGTERM, 30).out;
    const std::string line = "ping from the host " + std::to_string(::getpid()) + "\n";
    ASSERT_EQ(::write(client.get(), line.data(), line.size()), static_cast<ssize_t>(line.size()));
    EXPECT_TRUE(read_until(client.get(), got,
                           "MINIVMM-HVC-ECHO ping from the host " + std::to_string(::getpid()),
                           60'000))
        << "from hvc0: " << got;
    auto r = vm.finish(0, timeout_s);
    ::unlink(sock.c_str());
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "driver virtio_console")) << r.out;
    EXPECT_TRUE(has(r.out, "MINIVMM-HVC-OK ping from the host")) << r.out;
    EXPECT_TRUE(has(r.out, "MINIVMM-POWEROFF")) << r.out;
    EXPECT_TRUE(has(r.err, "console0 (socket=" + sock + "):")) << r.err;
    EXPECT_TRUE(has(r.err, "; 1 clients")) << r.err;
}

} // namespace
