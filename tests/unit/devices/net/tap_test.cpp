// The tap backend on real tap devices, each test in a private network namespace of its own
// thread (unshare(CLONE_NEWNET) is per thread; the namespace and its taps go away with the
// thread). Needs root and /dev/net/tun; skipped with the reason otherwise.
#include "net/tap.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

#include "net_rig.hpp"
#include "net_test_util.hpp"

namespace minivmm::test {
namespace {

using net::Tap;

// Runs `body` on a thread in a fresh network namespace; returns why it could not, if so.
template <typename F>
std::string in_private_netns(F body) {
    std::string why;
    std::thread t([&] {
        if (::access("/dev/net/tun", R_OK | W_OK) != 0) {
            why = "needs /dev/net/tun";
            return;
        }
        if (::unshare(CLONE_NEWNET) != 0) {
            why = std::string("needs root for a network namespace: ") + std::strerror(errno);
            return;
        }
        body();
    });
    t.join();
    return why;
}

#define RUN_IN_NETNS(...)                                                                          \
    do {                                                                                           \
        std::string why_ = in_private_netns(__VA_ARGS__);                                             \
        if (!why_.empty()) GTEST_SKIP() << why_;                                                   \
    } while (0)

UniqueFd inet_socket() { return UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)); }

void set_up(const std::string& name) {
    UniqueFd s = inet_socket();
    ifreq ifr{};
    name.copy(ifr.ifr_name, IFNAMSIZ - 1);
    ASSERT_EQ(::ioctl(s.get(), SIOCGIFFLAGS, &ifr), 0);
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    ASSERT_EQ(::ioctl(s.get(), SIOCSIFFLAGS, &ifr), 0);
}

uint32_t ethtool_get(const std::string& name, uint32_t cmd) {
    UniqueFd s = inet_socket();
    ethtool_value v{cmd, 0};
    ifreq ifr{};
    name.copy(ifr.ifr_name, IFNAMSIZ - 1);
    ifr.ifr_data = reinterpret_cast<char*>(&v);
    if (::ioctl(s.get(), SIOCETHTOOL, &ifr) != 0) return 0xffffffff;
    return v.data;
}

int vnet_hdr_size(int fd) {
    int size = -1;
    ::ioctl(fd, TUNGETVNETHDRSZ, &size);
    return size;
}

// An AF_PACKET socket on the interface: the "wire" side of the tap.
UniqueFd wire(const std::string& name) {
    UniqueFd s(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)));
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ALL);
    addr.sll_ifindex = static_cast<int>(::if_nametoindex(name.c_str()));
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return UniqueFd();
    return s;
}

constexpr uint16_t TEST_ETHERTYPE = 0x88b5;   // IEEE local experimental

// A broadcast Ethernet frame of `len` bytes with the test EtherType and a pattern.
std::vector<uint8_t> eth_frame(size_t len, uint8_t seed) {
    std::vector<uint8_t> f = pattern(len, seed);
    std::fill(f.begin(), f.begin() + 6, 0xff);
    f[12] = TEST_ETHERTYPE >> 8;
    f[13] = TEST_ETHERTYPE & 0xff;
    return f;
}

// The next test frame read from `fd` within a second (other traffic, e.g. IPv6 router
// solicitations, is skipped). `skip` bytes of vnet header come first on a tap.
std::optional<std::vector<uint8_t>> next_test_frame(int fd, size_t skip) {
    for (int i = 0; i < 100; ++i) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 1000) != 1) return std::nullopt;
        std::vector<uint8_t> buf(70000);
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < static_cast<ssize_t>(skip + 14)) continue;
        buf.resize(static_cast<size_t>(n));
        if (buf[skip + 12] == (TEST_ETHERTYPE >> 8) && buf[skip + 13] == (TEST_ETHERTYPE & 0xff))
            return buf;
    }
    return std::nullopt;
}

TEST(Tap, CreatesAMissingTapWhenAllowedAndConfiguresHeaderAndOffloadsExactly) {
    RUN_IN_NETNS([] {
        auto tap = Tap::open("mvtest0");
        ASSERT_TRUE(tap) << tap.error().message();
        EXPECT_TRUE((*tap)->created());
        EXPECT_NE(::if_nametoindex("mvtest0"), 0u);
        EXPECT_TRUE(::fcntl((*tap)->fd(), F_GETFL) & O_NONBLOCK);
        EXPECT_EQ(vnet_hdr_size((*tap)->fd()), 10);   // the kernel's default

        ASSERT_TRUE((*tap)->configure(12, TUN_F_CSUM | TUN_F_TSO4));
        EXPECT_EQ(vnet_hdr_size((*tap)->fd()), 12);
        EXPECT_EQ(ethtool_get("mvtest0", ETHTOOL_GTXCSUM), 1u);
        EXPECT_EQ(ethtool_get("mvtest0", ETHTOOL_GTSO), 1u);

        ASSERT_TRUE((*tap)->configure(12, 0));   // the guest accepts no offload: none left on
        EXPECT_EQ(ethtool_get("mvtest0", ETHTOOL_GTXCSUM), 0u);
        EXPECT_EQ(ethtool_get("mvtest0", ETHTOOL_GTSO), 0u);
    });
}

TEST(Tap, OpensAnExistingTapAndRefusesOneInUse) {
    RUN_IN_NETNS([] {
        auto first = Tap::open("mvtest1");
        ASSERT_TRUE(first);
        int one = 1;
        ASSERT_EQ(::ioctl((*first)->fd(), TUNSETPERSIST, one), 0);
        first->reset();   // closed; the tap stays (persistent)
        auto again = Tap::open("mvtest1");
        ASSERT_TRUE(again) << again.error().message();
        EXPECT_FALSE((*again)->created());
        auto busy = Tap::open("mvtest1");
        ASSERT_FALSE(busy);
        EXPECT_NE(busy.error().message().find("in use"), std::string::npos)
            << busy.error().message();
        EXPECT_EQ(busy.error().code(), ErrorCode::Input);
        ::ioctl((*again)->fd(), TUNSETPERSIST, 0);   // goes away with the descriptor
    });
}

TEST(Tap, RefusesATunDeviceAndAMultiQueueTap) {
    RUN_IN_NETNS([] {
        UniqueFd tun(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
        ifreq ifr{};
        std::string("mvtun0").copy(ifr.ifr_name, IFNAMSIZ - 1);
        ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
        ASSERT_EQ(::ioctl(tun.get(), TUNSETIFF, &ifr), 0);
        auto r = Tap::open("mvtun0");
        ASSERT_FALSE(r);
        EXPECT_NE(r.error().message().find("tun"), std::string::npos) << r.error().message();

        UniqueFd mq(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
        ifreq mq_ifr{};
        std::string("mvmq0").copy(mq_ifr.ifr_name, IFNAMSIZ - 1);
        mq_ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE;
        ASSERT_EQ(::ioctl(mq.get(), TUNSETIFF, &mq_ifr), 0);
        auto m = Tap::open("mvmq0");
        ASSERT_FALSE(m);
        EXPECT_NE(m.error().message().find("multi-queue"), std::string::npos)
            << m.error().message();
    });
}

TEST(Tap, WithoutCapNetAdminAMissingTapGivesOneLineSayingHowToCreateIt) {
    RUN_IN_NETNS([] {
        // Capabilities are per thread: drop CAP_NET_ADMIN from this one only.
        __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct data[2] = {};
        ASSERT_EQ(::syscall(SYS_capget, &hdr, data), 0);
        data[0].effective &= ~(1u << CAP_NET_ADMIN);
        data[0].permitted &= ~(1u << CAP_NET_ADMIN);
        ASSERT_EQ(::syscall(SYS_capset, &hdr, data), 0);
        auto r = Tap::open("mvmissing0");
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code(), ErrorCode::Input);
        const std::string msg = r.error().message();
        EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
        EXPECT_NE(msg.find("ip tuntap add dev mvmissing0 mode tap"), std::string::npos) << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos);
        EXPECT_EQ(::if_nametoindex("mvmissing0"), 0u);
    });
}

TEST(Tap, FramesFlowBothWaysWithTheVnetHeader) {
    RUN_IN_NETNS([] {
        auto tap = Tap::open("mvtest2");
        ASSERT_TRUE(tap);
        ASSERT_TRUE((*tap)->configure(12, 0));
        set_up("mvtest2");
        UniqueFd w = wire("mvtest2");
        ASSERT_TRUE(w.valid());

        auto out = with_header(12, eth_frame(60, 1));
        iovec iov{out.data(), out.size()};
        auto sent = (*tap)->send({&iov, 1});
        ASSERT_EQ(sent.status, net::IoStatus::Ok);
        auto on_wire = next_test_frame(w.get(), 0);
        ASSERT_TRUE(on_wire);
        EXPECT_EQ(*on_wire, eth_frame(60, 1));

        auto in = eth_frame(1514, 2);
        ASSERT_EQ(::send(w.get(), in.data(), in.size(), 0), 1514);
        auto from_tap = next_test_frame((*tap)->fd(), 12);
        ASSERT_TRUE(from_tap);
        EXPECT_EQ(*from_tap, with_header(12, in));
    });
}

// Whether this kernel lets us use io_uring (kernel.io_uring_disabled: 0 allowed, 1 only for a
// group, 2 never; the file is missing before Linux 6.6, where it is always allowed).
bool io_uring_allowed() {
    std::ifstream f("/proc/sys/kernel/io_uring_disabled");
    int v = 0;
    return !(f >> v) || v == 0;
}

TEST(Tap, ABatchGoesOutWholeAndInOrderThroughIoUringAndFrameByFrame) {
    RUN_IN_NETNS([] {
        auto tap = Tap::open("mvtest4");
        ASSERT_TRUE(tap);
        if (!io_uring_allowed()) GTEST_SKIP() << "kernel.io_uring_disabled is set";
        EXPECT_TRUE((*tap)->batching());
        ASSERT_TRUE((*tap)->configure(12, 0));
        set_up("mvtest4");
        UniqueFd w = wire("mvtest4");
        ASSERT_TRUE(w.valid());
        for (bool batching : {true, false}) {
            if (!batching) (*tap)->disable_batching();
            EXPECT_EQ((*tap)->batching(), batching);
            // 40 frames, more than one batch of the ring; every 5th in three pieces (writev).
            std::vector<std::vector<uint8_t>> frames;
            std::vector<std::vector<iovec>> pieces;
            for (size_t i = 0; i < 40; ++i)
                frames.push_back(with_header(12, eth_frame(60 + 37 * i, uint8_t(i + batching))));
            for (auto& f : frames) {
                if (pieces.size() % 5 == 4)
                    pieces.push_back({{f.data(), 12}, {f.data() + 12, 20}, {f.data() + 32, f.size() - 32}});
                else
                    pieces.push_back({{f.data(), f.size()}});
            }
            std::vector<std::span<const iovec>> batch(pieces.begin(), pieces.end());
            std::vector<net::IoResult> results(batch.size());
            size_t done = 0;
            while (done < batch.size()) {
                size_t n = (*tap)->send_batch(std::span(batch).subspan(done),
                                              std::span(results).subspan(done));
                ASSERT_GT(n, 0u);
                done += n;
            }
            for (size_t i = 0; i < frames.size(); ++i) {
                EXPECT_EQ(results[i].status, net::IoStatus::Ok) << i << " " << results[i].err;
                EXPECT_EQ(results[i].bytes, frames[i].size()) << i;
            }
            for (size_t i = 0; i < frames.size(); ++i) {
                auto on_wire = next_test_frame(w.get(), 0);
                ASSERT_TRUE(on_wire) << i;
                EXPECT_EQ(*on_wire, std::vector<uint8_t>(frames[i].begin() + 12, frames[i].end()))
                    << (batching ? "io_uring" : "one by one") << ", frame " << i;
            }
        }
    });
}

TEST(Tap, TheDeviceOnARealTapSendsAndReceivesAndReportsADeletedTapOnce) {
    RUN_IN_NETNS([] {
        auto tap = Tap::open("mvtest3");
        ASSERT_TRUE(tap);
        int fd = (*tap)->fd();
        NetRig rig(256, std::move(*tap));
        ASSERT_TRUE(rig.activate(V1 | MRG));
        set_up("mvtest3");
        UniqueFd w = wire("mvtest3");
        ASSERT_TRUE(w.valid());

        rig.send_tx(with_header(12, eth_frame(60, 5)));
        rig.kick_tx();
        EXPECT_EQ(rig.device->counters().tx_frames, 1u);
        auto on_wire = next_test_frame(w.get(), 0);
        ASSERT_TRUE(on_wire);
        EXPECT_EQ(*on_wire, eth_frame(60, 5));

        std::vector<GuestAddress> bufs;
        for (int i = 0; i < 16; ++i) bufs.push_back(rig.post_rx({2048})[0]);
        auto in = eth_frame(1514, 6);
        ASSERT_EQ(::send(w.get(), in.data(), in.size(), 0), 1514);
        bool seen = false;
        for (int i = 0; i < 100 && !seen; ++i) {
            pollfd p{fd, POLLIN, 0};
            ASSERT_EQ(::poll(&p, 1, 1000), 1);
            rig.backend_ready();
            for (GuestAddress b : bufs)
                if (rig.rx.read(b + 12, 1514) == in) seen = true;
        }
        EXPECT_TRUE(seen);

        // Delete the tap under the device: reported once, link down, no longer watched.
        ASSERT_EQ(std::system("ip link del mvtest3"), 0);
        rig.backend_ready();
        rig.send_tx(with_header(12, eth_frame(60, 7)));
        rig.kick_tx();
        rig.backend_ready();
        EXPECT_FALSE(rig.device->link_up());
        EXPECT_EQ(rig.ctx.config_signals, 1u);
        EXPECT_EQ(rig.watch.current, 0u);

        // Created again: the device's timer finds it, configures it, the link comes up, and
        // frames go out on the new tap.
        ASSERT_TRUE(rig.watch.timer);
        ASSERT_EQ(std::system("ip tuntap add dev mvtest3 mode tap"), 0);
        set_up("mvtest3");
        rig.backend_ready();   // the timer
        EXPECT_TRUE(rig.device->link_up());
        EXPECT_EQ(rig.ctx.config_signals, 2u);
        EXPECT_EQ(vnet_hdr_size(fd), 12);
        UniqueFd w2 = wire("mvtest3");
        ASSERT_TRUE(w2.valid());
        rig.send_tx(with_header(12, eth_frame(60, 8)));
        rig.kick_tx();
        auto again = next_test_frame(w2.get(), 0);
        ASSERT_TRUE(again);
        EXPECT_EQ(*again, eth_frame(60, 8));
    });
}

TEST(Tap, AfterItsDeletionAttachesAgainOnlyToATapCreatedAnewUnderItsNameAndUp) {
    RUN_IN_NETNS([] {
        auto tap = Tap::open("mvtest5");
        ASSERT_TRUE(tap) << tap.error().message();
        ASSERT_TRUE((*tap)->reattachable());
        ASSERT_TRUE((*tap)->configure(12, 0));
        ASSERT_EQ(std::system("ip link del mvtest5"), 0);
        // The descriptor stays open, detached: every read and write says EBADFD.
        std::vector<uint8_t> buf(2048);
        auto r = (*tap)->recv(buf);
        EXPECT_EQ(r.status, net::IoStatus::Gone);
        EXPECT_EQ(r.err, EBADFD);
        const auto frame = with_header(12, eth_frame(60, 5));
        const iovec piece{const_cast<uint8_t*>(frame.data()), frame.size()};
        EXPECT_EQ((*tap)->send({&piece, 1}).status, net::IoStatus::Gone);
        // Nothing of that name: not attached, and not created either.
        EXPECT_FALSE((*tap)->reattach());
        EXPECT_EQ(::if_nametoindex("mvtest5"), 0u);

        ASSERT_EQ(std::system("ip tuntap add dev mvtest5 mode tap"), 0);
        EXPECT_FALSE((*tap)->reattach());   // down: writes would fail with EIO
        set_up("mvtest5");
        const int fd = (*tap)->fd();
        ASSERT_TRUE((*tap)->reattach());
        EXPECT_EQ((*tap)->fd(), fd);   // the same descriptor: the event loop's entry stays valid
        EXPECT_EQ(vnet_hdr_size(fd), 10);   // a new tap: the kernel's default until configured
        ASSERT_TRUE((*tap)->configure(12, 0));
        EXPECT_EQ(vnet_hdr_size(fd), 12);
        UniqueFd w = wire("mvtest5");
        ASSERT_GE(w.get(), 0);
        ASSERT_EQ((*tap)->send({&piece, 1}).status, net::IoStatus::Ok);
        auto got = next_test_frame(w.get(), 0);
        ASSERT_TRUE(got);
        EXPECT_EQ(*got, eth_frame(60, 5));
    });
}

} // namespace
} // namespace minivmm::test
