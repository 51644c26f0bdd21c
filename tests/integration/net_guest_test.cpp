// virtio-net through the real MMIO/KVM path: the bare-metal guest virtio-net-guest.elf
// (guest-images/demos/virtio_net_guest.c) runs under minivmm on a tap in a network namespace the
// test makes. The test sees the guest's frames on the tap (an AF_PACKET socket bound to it),
// injects frames the guest must receive intact, checks the drops of bad chains in --stats, and
// deletes and re-creates the tap under the running guest (link down, link up, traffic again).
// Needs root (network namespace, tap, packet socket) and /dev/kvm.
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <sstream>
#include <fcntl.h>
#include <future>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <optional>
#include <poll.h>
#include <sched.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "run_process.hpp"
#include "confined_build.hpp"
#include "pty_process.hpp"
#include "report_progress.hpp"

namespace {

using minivmm::test::ProcessResult;
using minivmm::test::run_process;

constexpr const char* IP = "/usr/sbin/ip";
constexpr const char* TAP = "mvguest0";
constexpr const char* MAC_TEXT = "52:54:00:6d:76:01";
const std::vector<uint8_t> MAC = {0x52, 0x54, 0x00, 0x6d, 0x76, 0x01};
const std::vector<uint8_t> PEER = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
constexpr uint16_t GUEST_TYPE = 0x88b5;   // what the guest sends
constexpr uint16_t HOST_TYPE = 0x88b6;    // what the guest accepts

// The guest's frame layout: dst, src, EtherType, 32-bit LE sequence number, pattern bytes.
std::vector<uint8_t> test_frame(const std::vector<uint8_t>& dst, const std::vector<uint8_t>& src,
                                uint16_t type, uint32_t seq, size_t len) {
    std::vector<uint8_t> f(len);
    std::copy(dst.begin(), dst.end(), f.begin());
    std::copy(src.begin(), src.end(), f.begin() + 6);
    f[12] = static_cast<uint8_t>(type >> 8);
    f[13] = static_cast<uint8_t>(type);
    for (int i = 0; i < 4; ++i) f[size_t(14 + i)] = static_cast<uint8_t>(seq >> (8 * i));
    for (size_t i = 18; i < len; ++i) f[i] = static_cast<uint8_t>(seq * 7u + i);
    return f;
}

// The lengths the guest uses with len=0.
size_t guest_len(uint32_t seq) { return 60 + (seq * 181u) % 1455u; }

uint32_t fnv1a(const std::vector<std::vector<uint8_t>>& frames) {
    uint32_t h = 2166136261u;
    for (const auto& f : frames)
        for (uint8_t b : f) h = (h ^ b) * 16777619u;
    return h;
}

class NetGuestTest : public ::testing::Test {
protected:
    void SetUp() override {
        REQUIRE_KVM();
        if (::geteuid() != 0) GTEST_SKIP() << "needs root: a network namespace, a tap, AF_PACKET";
        static int counter = 0;
        ns_ = "minivmm-netg-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
        ASSERT_EQ(run_process({IP, "netns", "add", ns_}).exit_code, 0) << "ip netns add " << ns_;
        made_ = true;
        // Only the test's frames on the tap: no IPv6 autoconfiguration in the namespace.
        ASSERT_EQ(in_ns({"/usr/sbin/sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                         "net.ipv6.conf.default.disable_ipv6=1"})
                      .exit_code,
                  0);
        ASSERT_EQ(in_ns({IP, "tuntap", "add", "dev", TAP, "mode", "tap"}).exit_code, 0);
        ASSERT_EQ(in_ns({IP, "link", "set", TAP, "up"}).exit_code, 0);
        open_packet_socket();
    }
    void TearDown() override {
        if (sock_ >= 0) ::close(sock_);
        if (made_) run_process({IP, "netns", "del", ns_});
    }

    ProcessResult in_ns(std::vector<std::string> argv, int timeout = 30) {
        argv.insert(argv.begin(), {IP, "netns", "exec", ns_});
        return run_process(argv, timeout);
    }

    // A packet socket on the tap, made inside the namespace (this thread enters it and comes
    // back; the socket stays in it).
    void open_packet_socket() {
        int self = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        int target = ::open(("/run/netns/" + ns_).c_str(), O_RDONLY | O_CLOEXEC);
        ASSERT_GE(self, 0);
        ASSERT_GE(target, 0);
        ASSERT_EQ(::setns(target, CLONE_NEWNET), 0) << std::strerror(errno);
        sock_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
        ifindex_ = static_cast<int>(::if_nametoindex(TAP));
        sockaddr_ll addr{};
        addr.sll_family = AF_PACKET;
        addr.sll_protocol = htons(ETH_P_ALL);
        addr.sll_ifindex = ifindex_;
        int bound = ::bind(sock_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        EXPECT_EQ(::setns(self, CLONE_NEWNET), 0) << std::strerror(errno);
        ::close(self);
        ::close(target);
        ASSERT_GE(sock_, 0) << std::strerror(errno);
        ASSERT_NE(ifindex_, 0);
        ASSERT_EQ(bound, 0) << std::strerror(errno);
    }

    // minivmm with the guest, in the namespace, on its own thread.
    std::future<ProcessResult> start_guest(const std::string& cmdline,
                                           const std::vector<std::string>& extra = {}) {
        std::vector<std::string> argv = {
            IP, "netns", "exec", ns_, MINIVMM_BINARY, "--kernel", MINIVMM_NET_GUEST, "--mem", "64M",
            "--net", std::string("tap=") + TAP + ",mac=" + MAC_TEXT, "--stats", "--timeout", "40",
            "--cmdline", "acpi=off " + cmdline};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return std::async(std::launch::async, [argv] { return run_process(argv, 60); });
    }

    // The next frame of `type` the guest sent (not the ones we sent out of the tap).
    std::optional<std::vector<uint8_t>> capture(uint16_t type, int timeout_ms) {
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        std::vector<uint8_t> buf(65536);
        while (std::chrono::steady_clock::now() < end) {
            pollfd p{sock_, POLLIN, 0};
            if (::poll(&p, 1, 100) != 1) continue;
            sockaddr_ll from{};
            socklen_t fl = sizeof from;
            ssize_t n = ::recvfrom(sock_, buf.data(), buf.size(), 0,
                                   reinterpret_cast<sockaddr*>(&from), &fl);
            if (n < 14 || from.sll_pkttype == PACKET_OUTGOING) continue;
            if ((buf[12] << 8 | buf[13]) != type) continue;
            return std::vector<uint8_t>(buf.begin(), buf.begin() + n);
        }
        return std::nullopt;
    }

    // Sends `f` out of the tap: minivmm, the tap's reader, gets it.
    void inject(const std::vector<uint8_t>& f) {
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_ifindex = ifindex_;
        to.sll_halen = 6;
        ASSERT_EQ(::sendto(sock_, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&to),
                           sizeof to),
                  static_cast<ssize_t>(f.size()))
            << std::strerror(errno);
    }

    // Injects `count` frames for the guest, frame `seq` of 60 + (seq * step) % 1455 bytes; returns
    // them and their sequence numbers as the guest lists them ("0,1,...").
    std::pair<std::vector<std::vector<uint8_t>>, std::string> inject_frames(uint32_t count,
                                                                           uint32_t step) {
        std::vector<std::vector<uint8_t>> sent;
        std::string seqs;
        for (uint32_t seq = 0; seq < count; ++seq) {
            sent.push_back(test_frame(MAC, PEER, HOST_TYPE, seq, 60 + (seq * step) % 1455u));
            inject(sent.back());
            seqs += (seq ? "," : "") + std::to_string(seq);
        }
        return {sent, seqs};
    }

    // Captures the guest's `count` frames (len=0 lengths) and checks every byte.
    void expect_guest_frames(uint32_t count) {
        const std::vector<uint8_t> broadcast(6, 0xff);
        for (uint32_t seq = 0; seq < count; ++seq) {
            auto f = capture(GUEST_TYPE, 20000);
            ASSERT_TRUE(f) << "guest frame " << seq << " never reached the tap";
            EXPECT_EQ(*f, test_frame(broadcast, MAC, GUEST_TYPE, seq, guest_len(seq)))
                << "guest frame " << seq;
        }
    }

    // The guest frame's sequence number (mode=relink frames, 60 bytes).
    static uint32_t seq_of(const std::vector<uint8_t>& f) {
        return uint32_t{f[14]} | uint32_t{f[15]} << 8 | uint32_t{f[16]} << 16 |
               uint32_t{f[17]} << 24;
    }

    std::string ns_;
    bool made_ = false;
    int sock_ = -1;
    int ifindex_ = 0;
};

std::string hex32(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

// CPU time (user + system, in clock ticks) of `pid`'s thread named `name`; -1 if none.
long thread_cpu_ticks(pid_t pid, const std::string& name) {
    const std::string task = "/proc/" + std::to_string(pid) + "/task/";
    DIR* dir = ::opendir(task.c_str());
    if (dir == nullptr) return -1;
    long ticks = -1;
    while (dirent* e = ::readdir(dir)) {
        std::ifstream comm(task + e->d_name + "/comm");
        std::string c;
        if (!std::getline(comm, c) || c != name) continue;
        std::ifstream stat(task + e->d_name + "/stat");
        std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
        std::istringstream fields(text.substr(text.rfind(')') + 2));
        std::string f;
        long utime = 0, stime = 0;
        for (int i = 3; i <= 15 && fields >> f; ++i) {   // fields 14 and 15 of stat(5)
            if (i == 14) utime = std::stol(f);
            if (i == 15) stime = std::stol(f);
        }
        ticks = utime + stime;
    }
    ::closedir(dir);
    return ticks;
}

// What the guest prints when it received `sent` (sequence numbers `seqs`) intact and in order.
std::string rx_line(const std::vector<std::vector<uint8_t>>& sent, const std::string& seqs) {
    size_t bytes = 0;
    for (const auto& f : sent) bytes += f.size();
    return "VNET-RX frames=" + std::to_string(sent.size()) + " bad=0 other=0 bytes=" +
           std::to_string(bytes) + " fnv=" + hex32(fnv1a(sent)) + " seqs=" + seqs + "\n";
}

TEST_F(NetGuestTest, GuestFramesReachTheTapAndInjectedFramesReachTheGuest) {
    auto vm = start_guest("tx=16 len=0 rx=16");
    expect_guest_frames(16);   // the guest is up, with its receive buffers posted
    const auto [sent, seqs] = inject_frames(16, 97);
    auto r = vm.get();
    ASSERT_FALSE(r.timed_out) << r.out << r.err;
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("VNET-MAC 52:54:00:6d:76:01 "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("VNET-TX sent=16\n"), std::string::npos) << r.out;
    size_t bytes = 0;
    for (const auto& f : sent) bytes += f.size();
    EXPECT_NE(r.out.find(rx_line(sent, seqs)), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("VNET-OK\n"), std::string::npos) << r.out;
    size_t tx_bytes = 0;
    for (uint32_t seq = 0; seq < 16; ++seq) tx_bytes += guest_len(seq);
    EXPECT_NE(r.err.find("net0 (mvguest0): tx 16 frames " + std::to_string(tx_bytes) +
                         " bytes (0 dropped), rx 16 frames " + std::to_string(bytes) +
                         " bytes (0 dropped)"),
              std::string::npos)
        << r.err;
}

TEST_F(NetGuestTest, LargeFramesAreSpreadOverMergeableReceiveBuffers) {
    // 256-byte buffers: a 1514-byte frame takes 7 of them (num_buffers, MRG_RXBUF).
    auto vm = start_guest("tx=1 len=0 rx=6 rxbuf=256");
    expect_guest_frames(1);
    std::vector<std::vector<uint8_t>> sent;
    for (uint32_t seq = 0; seq < 6; ++seq) {
        sent.push_back(test_frame(MAC, PEER, HOST_TYPE, 100 + seq, seq % 2 ? 1514 : 244));
        inject(sent.back());
    }
    auto r = vm.get();
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("VNET-RX frames=6 bad=0 other=0 bytes=5274 fnv=" + hex32(fnv1a(sent)) +
                         " seqs=100,101,102,103,104,105\n"),
              std::string::npos)
        << r.out;
}

TEST_F(NetGuestTest, UnderSeccompTheCardActivatesAndWorksBothWays) {
    REQUIRE_CONFINED_BUILD();   // as the seccomp tests
    // Activation configures the tap (TUNSETVNETHDRSZ, TUNSETOFFLOAD) on the vCPU thread that
    // wrote DRIVER_OK; the frames go through the I/O thread.
    auto vm = start_guest("tx=4 len=0 rx=4", {"--seccomp"});
    expect_guest_frames(4);
    std::vector<std::vector<uint8_t>> sent;
    for (uint32_t seq = 0; seq < 4; ++seq) {
        sent.push_back(test_frame(MAC, PEER, HOST_TYPE, seq, 1514));
        inject(sent.back());
    }
    auto r = vm.get();
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("VNET-RX frames=4 bad=0 other=0 bytes=6056 fnv=" + hex32(fnv1a(sent)) +
                         " seqs=0,1,2,3\n"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(r.err.find("seccomp"), std::string::npos) << r.err;
}

TEST_F(NetGuestTest, BadChainsAreDroppedCountedAndTheGuestGoesOn) {
    // A chain shorter than the vnet header and one longer than the largest frame: both dropped
    // and completed (the guest waits for their completions), counted in --stats, and the
    // frames after them still go out.
    auto vm = start_guest("bad tx=4 len=0");
    expect_guest_frames(4);
    auto r = vm.get();
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("VNET-BAD sent 2 bad chains, both completed\n"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("VNET-OK\n"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("net0 (mvguest0): tx 4 frames"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("(2 dropped)"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("    tx shorter than header: 1\n"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("    tx too big: 1\n"), std::string::npos) << r.err;
}

TEST_F(NetGuestTest, ATapDeletedAndCreatedAgainTakesTheLinkDownAndUpAndTrafficResumes) {
    // The guest sends a numbered frame every ~10 ms and watches its link status. The tap is
    // deleted under it: minivmm sees EBADFD, takes the link down (a configuration interrupt),
    // drops what the guest sends meanwhile, and tries every 500 ms to attach again; the tap is
    // created again: the link comes up, the guest's frames reach the new tap, and frames sent
    // into it reach the guest.
    auto vm = start_guest("mode=relink gap=20000000 after=10 rx=4", {"--log-level", "info"});
    auto first = capture(GUEST_TYPE, 20000);
    ASSERT_TRUE(first) << "the guest's frames never reached the tap";
    ::close(sock_);
    sock_ = -1;
    ASSERT_EQ(in_ns({IP, "link", "del", TAP}).exit_code, 0);
    ::usleep(1'500'000);   // the guest sends meanwhile; minivmm tries to attach three times
    ASSERT_EQ(in_ns({IP, "tuntap", "add", "dev", TAP, "mode", "tap"}).exit_code, 0);
    ASSERT_EQ(in_ns({IP, "link", "set", TAP, "up"}).exit_code, 0);
    open_packet_socket();
    auto later = capture(GUEST_TYPE, 20000);
    ASSERT_TRUE(later) << "no guest frame on the re-created tap";
    EXPECT_GT(seq_of(*later), seq_of(*first) + 50) << "frames sent while the tap was gone";
    std::vector<std::vector<uint8_t>> sent;
    for (uint32_t seq = 0; seq < 4; ++seq) {
        sent.push_back(test_frame(MAC, PEER, HOST_TYPE, 200 + seq, 100));
        inject(sent.back());
    }
    auto r = vm.get();
    ASSERT_FALSE(r.timed_out) << r.out << r.err;
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("VNET-LINK down sent="), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("VNET-LINK up sent="), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("VNET-RELINK down=1 up=1 config_irqs=2 "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("VNET-RX frames=4 bad=0 other=0 bytes=400 fnv=" + hex32(fnv1a(sent)) +
                         " seqs=200,201,202,203\n"),
              std::string::npos)
        << r.out;
    // One warning when lost, one info line when back, and the --stats lines.
    auto count = [&](const std::string& what) {
        size_t n = 0;
        for (size_t at = r.err.find(what); at != std::string::npos; at = r.err.find(what, at + 1))
            ++n;
        return n;
    };
    EXPECT_EQ(count("mvguest0 vanished (File descriptor in bad state): link down"), 1u) << r.err;
    EXPECT_EQ(count("mvguest0 is back: link up"), 1u) << r.err;
    // `ip link del` takes the tap down before it deletes it: a frame written in between fails
    // with EIO, a drop counted (and logged) as such; nothing else warns.
    EXPECT_EQ(count("warning"), 1 + count("dropped a frame: Input/output error (1 so far)"))
        << r.err;
    EXPECT_NE(r.err.find("    link lost (tap gone): 1\n"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("    link back (tap attached again): 1\n"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("    tx tap gone: "), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("seccomp"), std::string::npos) << r.err;   // the filters allowed it
}

// Pause (Ctrl-a p on a terminal) while frames arrive on the tap: they wait there, and two state
// reports a second apart show the rings unmoved; after the resume (announced before the guest
// runs again) the guest receives every frame intact and in order, and exits 0.
TEST_F(NetGuestTest, PausedCardTakesNoFrameAndLosesNoneAfterResume) {
    minivmm::test::PtyProcess vm(
        {IP, "netns", "exec", ns_, MINIVMM_BINARY, "--kernel", MINIVMM_NET_GUEST, "--mem", "64M",
         "--net", std::string("tap=") + TAP + ",mac=" + MAC_TEXT, "--timeout", "60", "--cmdline",
         "acpi=off tx=16 len=0 rx=16 rxticks=200000000000"});
    ASSERT_GT(vm.pid(), 0);
    expect_guest_frames(16);   // up, with its receive buffers posted
    ASSERT_TRUE(vm.type("\x01p"));
    ASSERT_TRUE(vm.wait_for_output("minivmm: paused", 5000)) << vm.output();
    const auto [sent, seqs] = inject_frames(16, 131);
    const std::string first = minivmm::test::progress_now(vm);
    const long io_before = thread_cpu_ticks(vm.pid(), "io");
    vm.read_for(1000);
    const long io_after = thread_cpu_ticks(vm.pid(), "io");
    const std::string second = minivmm::test::progress_now(vm);
    ASSERT_GE(io_before, 0) << "no thread named io in minivmm";
    // The tap stays readable all along: a device still watching it would spin the I/O thread.
    EXPECT_LT(io_after - io_before, ::sysconf(_SC_CLK_TCK) / 10) << "the I/O thread was busy";
    EXPECT_NE(first.find("  queue 1: size "), std::string::npos) << vm.output();
    EXPECT_EQ(first, second) << "the card or the guest moved while paused";
    EXPECT_EQ(vm.output().find("VNET-RX"), std::string::npos) << vm.output();
    ASSERT_TRUE(vm.type("\x01p"));
    ASSERT_TRUE(vm.wait_for_output("minivmm: resumed", 5000)) << vm.output();
    EXPECT_EQ(vm.finish(60), 0) << vm.output();
    // The resume's line comes before anything the guest writes after it (it once came after
    // the guest's "VNET-RX", in the middle of its line).
    EXPECT_LT(vm.output().find("minivmm: resumed"), vm.output().find("VNET-RX")) << vm.output();
    // The terminal turns "\n" into "\r\n".
    std::string want = rx_line(sent, seqs);
    want.insert(want.size() - 1, "\r");
    EXPECT_NE(vm.output().find(want), std::string::npos) << vm.output();
    EXPECT_NE(vm.output().find("VNET-OK"), std::string::npos) << vm.output();
}

} // namespace
