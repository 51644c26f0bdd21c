// Linux snapshotted with disk writes and a TCP transfer under way, restored in a new minivmm on
// other host ends: a shell writes 4 MiB of a known pattern to its raw virtio-blk disk and sends
// 1.25 MiB of `yes minivmm` by TCP to a listener of the test, both paced so they take a while.
// Midway the VM is paused, snapshotted and its process killed; the disk is copied and the tap
// replaced by another of the same MAC; a new minivmm restores it with --disk COPY --net NEWTAP
// and resumes it. Both finish: the host received the whole stream intact on the one
// connection, and after the guest's sync and power-off the copy holds the whole pattern (the
// original only what was written before the snapshot). The test runs in a network namespace
// of its own, so the traffic stays between its addresses. Needs root and a full Linux (VT-x/
// AMD-V, or tools/kvm-in-qemu on PVM hosts).
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include <gtest/gtest.h>

#include "blk_pattern.hpp"
#include "linux_images.hpp"
#include "net_host_end.hpp"
#include "pty_process.hpp"
#include "snapshot_steps.hpp"
#include "temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace minivmm::test;

constexpr const char* HOST_IP = "10.0.3.2";
constexpr uint16_t PORT = 5005;
constexpr size_t NET_BYTES = 160 * 8192;     // 160 pieces of 8 KiB, 0.1 s apart
constexpr size_t DISK_BYTES = 64 * 65536;    // 64 pieces of 64 KiB, 0.2 s apart
const std::string DISK_LINE = "minivmm-snapdsk\n";   // 16 bytes: the pieces join seamlessly

// The test thread in a network namespace of its own (its children and threads follow it),
// and back in the one it came from at the end.
class OwnNetworkNamespace {
public:
    OwnNetworkNamespace() : home_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
        ok_ = home_ >= 0 && ::unshare(CLONE_NEWNET) == 0;
    }
    ~OwnNetworkNamespace() {
        if (ok_) (void)::setns(home_, CLONE_NEWNET);
        if (home_ >= 0) ::close(home_);
    }
    bool ok() const { return ok_; }

private:
    int home_;
    bool ok_ = false;
};

bool ip(std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/sbin/ip");
    return run_process(args, 30).exit_code == 0;
}

// A persistent tap (it outlives the minivmm that uses it) with `mac` if given, the host's
// address and up.
bool make_tap(const std::string& name, const std::string& mac = "") {
    return ip({"tuntap", "add", "dev", name, "mode", "tap"}) &&
           (mac.empty() || ip({"link", "set", "dev", name, "address", mac})) &&
           ip({"addr", "add", std::string(HOST_IP) + "/24", "dev", name}) &&
           ip({"link", "set", name, "up"});
}

std::string mac_of(const std::string& name) {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq ifr{};
    name.copy(ifr.ifr_name, IFNAMSIZ - 1);
    const bool ok = ::ioctl(s, SIOCGIFHWADDR, &ifr) == 0;
    ::close(s);
    if (!ok) return "";
    const auto* b = reinterpret_cast<const uint8_t*>(ifr.ifr_hwaddr.sa_data);
    char text[18];
    std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3],
                  b[4], b[5]);
    return text;
}

// The host's end of the transfer: one connection, its bytes checked against the stream.
struct Receiver {
    std::atomic<size_t> received{0}, mismatches{0};
    std::atomic<int> connections{0};   // the one the guest opened, or none
    std::atomic<bool> stop{false};
    std::thread thread;

    explicit Receiver(int listener) {
        thread = std::thread([this, listener] {
            int c = -1;
            while (!stop && c < 0) c = accept_within(listener, 1);
            if (c >= 0) ++connections;
            char buf[1 << 16];
            while (c >= 0 && !stop && received < NET_BYTES) {
                pollfd p{c, POLLIN, 0};
                if (::poll(&p, 1, 500) != 1) continue;
                ssize_t n = ::recv(c, buf, sizeof buf, 0);
                if (n <= 0) break;
                mismatches += stream_mismatches(buf, static_cast<size_t>(n), received);
                received += static_cast<size_t>(n);
            }
            if (c >= 0) ::close(c);   // the guest's nc ends when we close
        });
    }
    ~Receiver() {
        stop = true;
        thread.join();
    }
};

std::vector<uint8_t> disk_pattern(size_t bytes) {
    std::vector<uint8_t> want;
    while (want.size() < bytes) want.insert(want.end(), DISK_LINE.begin(), DISK_LINE.end());
    want.resize(bytes);
    return want;
}

TEST(LinuxGuestSnapshot, DiskWritesAndATcpTransferCarryOnOnOtherHostEnds) {
    REQUIRE_FULL_LINUX();
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace and a tap";
    OwnNetworkNamespace netns;
    if (!netns.ok()) GTEST_SKIP() << "cannot make a network namespace (unshare)";
    ASSERT_TRUE(ip({"link", "set", "lo", "up"}));
    ASSERT_TRUE(make_tap("mvsnap0"));
    const int listener = listen_tcp(HOST_IP, PORT, 1);
    ASSERT_GE(listener, 0);
    Receiver receiver(listener);

    TempDir dir("minivmm-linux-snapshot-io");
    const fs::path disk = dir.path / "disk.img", copy = dir.path / "copy.img";
    const fs::path sock1 = dir.path / "api1", sock2 = dir.path / "api2";
    blk::write_file(disk, std::vector<uint8_t>(2 * DISK_BYTES, 0));
    PtyProcess first({MINIVMM_BINARY, "--kernel", (images_dir() / "kernel/bzImage").string(),
                      "--initrd", (images_dir() / "initramfs/initramfs.cpio.gz").string(),
                      "--disk", disk.string(), "--net", "mvsnap0", "--api-socket",
                      sock1.string(), "--timeout", "900", "--cmdline",
                      "console=ttyS0 minivmm.action=shell minivmm.disk=none "
                      "minivmm.ip=10.0.3.15/24"});
    ASSERT_GT(first.pid(), 0);
    ASSERT_TRUE(first.wait_for_output("starting a shell", 240000)) << first.output();
    ASSERT_TRUE(first.wait_for_output("# ", 30000)) << first.output();
    ASSERT_TRUE(first.type(
        "(i=0; while [ $i -lt 160 ]; do yes minivmm | head -c 8192; sleep 0.1; i=$((i+1)); "
        "done) | nc " + std::string(HOST_IP) + " " + std::to_string(PORT) +
        " && echo NET-SENT-$((40+2)) &\r"));
    ASSERT_TRUE(first.type(
        "(i=0; while [ $i -lt 64 ]; do yes minivmm-snapdsk | head -c 65536; sleep 0.2; "
        "i=$((i+1)); done) >/dev/vda && sync && echo DISK-WROTE-$((40+2)) &\r"));
    for (int waited = 0; receiver.received < NET_BYTES / 4 && waited < 300000; waited += 100)
        first.read_for(100);
    ASSERT_GE(receiver.received, NET_BYTES / 4) << "the transfer did not start\n" << first.output();
    pause_and_snapshot(sock1, dir.path);
    ::kill(first.pid(), SIGKILL);
    first.finish(30);
    const size_t before = receiver.received;
    ASSERT_LT(before, NET_BYTES) << "the transfer ended before the snapshot";
    ASSERT_FALSE(has(first.output(), "DISK-WROTE-42")) << "the disk writes ended before the snapshot";
    std::printf("[ INFO     ] snapshot taken with %zu of %zu bytes received\n", before, NET_BYTES);

    // Other host ends: a copy of the disk, and another tap with the old one's MAC (the guest's
    // neighbour table keeps it) and the host's address, the old tap gone.
    fs::copy_file(disk, copy);
    const std::string mac = mac_of("mvsnap0");
    ASSERT_FALSE(mac.empty());
    ASSERT_TRUE(ip({"link", "del", "mvsnap0"}));
    ASSERT_TRUE(make_tap("mvsnap1", mac));
    PtyProcess second({MINIVMM_BINARY, "--restore", dir.path.string(), "--disk", copy.string(),
                       "--net", "mvsnap1", "--api-socket", sock2.string(), "--timeout", "900"});
    ASSERT_TRUE(wait_for_socket(sock2, 30000)) << second.output();
    EXPECT_EQ(receiver.received, before) << "the restored VM ran before the resume";
    ASSERT_EQ(ctl(sock2, {"resume"}).exit_code, 0) << second.output();
    EXPECT_TRUE(second.wait_for_output("NET-SENT-42", 300000)) << second.output();
    EXPECT_TRUE(second.wait_for_output("DISK-WROTE-42", 300000)) << second.output();
    ASSERT_TRUE(second.type("exit\r"));
    EXPECT_EQ(second.finish(120), 0) << second.output();
    EXPECT_EQ(second.output().find("soft lockup"), std::string::npos) << second.output();

    EXPECT_EQ(receiver.received, NET_BYTES) << "received before the snapshot: " << before;
    EXPECT_EQ(receiver.mismatches, 0u);
    EXPECT_EQ(receiver.connections, 1);
    const std::vector<uint8_t> want = disk_pattern(DISK_BYTES);
    std::vector<uint8_t> image = blk::read_file(copy);
    ASSERT_EQ(image.size(), 2 * DISK_BYTES);
    EXPECT_EQ(blk::compare(image, want, 0), "");
    EXPECT_EQ(std::count(image.begin() + DISK_BYTES, image.end(), 0), static_cast<long>(DISK_BYTES));
    // The original kept what the first VM wrote, the rest went to the copy only.
    EXPECT_NE(blk::compare(blk::read_file(disk), want, 0), "");
    ::close(listener);
}

} // namespace
