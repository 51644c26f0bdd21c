// virtio-net device alone against raw tap I/O (the README's "Benchmarks"): the same frames on
// the same tap, in a private network namespace. No KVM: the device runs on real GuestMemory with
// tests/support/guest_driver playing the guest's driver.
//
//   net_bench [--runs N] [--frames N]      (root: makes a network namespace and a tap)
//
// Transmit: raw = one write(2) per frame (12-byte vnet header + frame) on the tap; device =
// frames posted on the TX ring, process_queue() sends them (batches of 32 through the tap's
// io_uring; a second device on a second tap with Tap::disable_batching() does one write(2) per
// frame), the driver reclaims used entries; only the device's calls are timed (a guest's
// driver runs on its own vCPU), the test driver's ring work is not.
// Receive: the tap's queue is filled with N frames through an AF_PACKET socket (not timed);
// raw = read(2) until N frames; device = the RX notification handler (which reads the tap)
// until N frames are in posted buffers, the driver re-posting each used buffer (not timed).
// Runs alternate raw/device; rates are per second of the process's CPU time (user + system,
// io_uring's kernel workers included should it use any).
// The output is one Markdown row per figure: medians, min-max and the device/raw ratio.
#include <algorithm>
#include <arpa/inet.h>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "bench_util.hpp"
#include "base/log.hpp"
#include "net/tap.hpp"
#include "net_rig.hpp"

using namespace minivmm;

// CPU time of this process (user + system, so the tap's kernel work is included): on a shared,
// loaded machine wall-clock time mostly measures the wait for a CPU.
struct Clock {
    using time_point = double;
    static double now() {
        timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
    }
};

namespace {

constexpr const char* TAP = "mvbench0";
constexpr const char* TAP_PLAIN = "mvbench1";   // its device writes frame by frame
constexpr size_t HDR = 12;
constexpr uint64_t FEATURES = (uint64_t{1} << VIRTIO_F_VERSION_1) |
                              (uint64_t{1} << VIRTIO_NET_F_MRG_RXBUF) | virtio::FEATURE_EVENT_IDX;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "net_bench: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(1);
}

void ifreq_ioctl(const char* tap, unsigned long req, ifreq& ifr) {
    int s = ::socket(AF_INET, SOCK_DGRAM, 0);
    std::string(tap).copy(ifr.ifr_name, IFNAMSIZ - 1);
    if (::ioctl(s, req, &ifr) != 0) die("ioctl on " + std::string(tap));
    ::close(s);
}

void set_up_tap(const char* tap, int queue_len) {
    ifreq ifr{};
    ifr.ifr_qlen = queue_len;
    ifreq_ioctl(tap, SIOCSIFTXQLEN, ifr);
    ifreq flags{};
    ifreq_ioctl(tap, SIOCGIFFLAGS, flags);
    flags.ifr_flags = static_cast<short>(flags.ifr_flags | IFF_UP);
    ifreq_ioctl(tap, SIOCSIFFLAGS, flags);
}

std::vector<uint8_t> eth_frame(size_t len) {
    std::vector<uint8_t> f(len, 0x5a);
    std::fill(f.begin(), f.begin() + 6, 0xff);   // broadcast, EtherType local experimental
    f[12] = 0x88;
    f[13] = 0xb5;
    return f;
}

double seconds_since(Clock::time_point t0) { return Clock::now() - t0; }

// The raw loops cycle through as many buffers as the device's ring holds (BUFFERS), as the
// device does, so both sides move the same amount of memory through the caches.
constexpr size_t BUFFERS = 256;

double raw_tx(int fd, size_t len, unsigned frames) {
    std::vector<uint8_t> frame(HDR, 0);
    auto f = eth_frame(len);
    frame.insert(frame.end(), f.begin(), f.end());
    std::vector<std::vector<uint8_t>> bufs(BUFFERS, frame);
    auto t0 = Clock::now();
    for (unsigned i = 0; i < frames; ++i) {
        const auto& buf = bufs[i % BUFFERS];
        if (::write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) die("write");
    }
    return seconds_since(t0);
}

double device_tx(test::NetRig& rig, const std::vector<GuestAddress>& bufs, size_t len,
                 unsigned frames) {
    const uint32_t total = static_cast<uint32_t>(HDR + len);
    double device = 0;   // only the device's own calls are timed, not the test driver's
    unsigned posted = 0, done = 0;
    size_t next = 0;
    while (done < frames) {
        while (posted < frames && rig.tx.free_descriptors() > 0) {
            rig.tx.add_chain({{bufs[next], total, virtio::Direction::Readable}});
            next = (next + 1) % bufs.size();
            ++posted;
        }
        rig.tx.publish();
        auto t0 = Clock::now();
        rig.kick_tx();
        device += seconds_since(t0);
        while (rig.tx.pop_used()) ++done;
    }
    return device;
}

void fill_tap(int wire, size_t len, unsigned frames) {
    auto f = eth_frame(len);
    for (unsigned i = 0; i < frames; ++i)
        if (::send(wire, f.data(), f.size(), 0) != static_cast<ssize_t>(f.size())) die("send");
}

double raw_rx(int fd, unsigned frames) {
    // 2048-byte buffers, as the device's posted ones (the frames here are at most 1526 bytes).
    std::vector<uint8_t> bufs(BUFFERS * 2048);
    auto t0 = Clock::now();
    for (unsigned got = 0; got < frames;) {
        ssize_t n = ::read(fd, bufs.data() + (got % BUFFERS) * 2048, 2048);
        if (n > 0) ++got;
        else if (n < 0 && errno != EAGAIN) die("read");
    }
    return seconds_since(t0);
}

double device_rx(test::NetRig& rig, const std::vector<GuestAddress>& bufs, unsigned frames) {
    double device = 0;
    const uint64_t start = rig.device->counters().rx_frames;
    size_t next = 0;
    while (rig.device->counters().rx_frames - start < frames) {
        while (rig.rx.free_descriptors() > 0) {
            rig.rx.add_chain({{bufs[next], 2048, virtio::Direction::Writable}});
            next = (next + 1) % bufs.size();
        }
        rig.rx.publish();
        auto t0 = Clock::now();
        rig.kick_rx();   // also reads the tap (the device stalls when the ring runs dry)
        device += seconds_since(t0);
        while (rig.rx.pop_used()) {
        }
    }
    return device;
}

struct Series {
    std::vector<double> raw, dev, plain;   // frames per second (plain: transmit only)
};

void row(const char* what, size_t len, const Series& s) {
    auto mm = [](const std::vector<double>& v) {
        return std::make_pair(*std::min_element(v.begin(), v.end()),
                              *std::max_element(v.begin(), v.end()));
    };
    double r = bench::median(s.raw), d = bench::median(s.dev);
    auto [rmin, rmax] = mm(s.raw);
    auto [dmin, dmax] = mm(s.dev);
    std::string plain = "(same)";
    if (!s.plain.empty()) {
        auto [pmin, pmax] = mm(s.plain);
        const double p = bench::median(s.plain);
        char buf[96];
        std::snprintf(buf, sizeof buf, "%.0fk [%.0f-%.0fk], %.3f", p / 1e3, pmin / 1e3,
                      pmax / 1e3, p / r);
        plain = buf;
    }
    std::printf("| %s, %zu-byte frames | %.0fk [%.0f-%.0fk] | %.1f MB/s | %.0fk [%.0f-%.0fk] | "
                "%.1f MB/s | %.3f | %s |\n",
                what, len, d / 1e3, dmin / 1e3, dmax / 1e3, d * double(len) / 1e6, r / 1e3,
                rmin / 1e3, rmax / 1e3, r * double(len) / 1e6, d / r, plain.c_str());
}

} // namespace

int main(int argc, char** argv) {
    unsigned runs = 10, frames = 20000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::string(argv[i]) == "--runs") runs = unsigned(std::stoul(argv[i + 1]));
        if (std::string(argv[i]) == "--frames") frames = unsigned(std::stoul(argv[i + 1]));
    }
    set_log_level(LogLevel::Error);
    if (::unshare(CLONE_NEWNET) != 0) die("unshare(CLONE_NEWNET) (run as root)");
    bench::disable_ipv6();
    auto tap = net::Tap::open(TAP);
    if (!tap) {
        std::fprintf(stderr, "net_bench: %s\n", tap.error().message().c_str());
        return 1;
    }
    const int fd = (*tap)->fd();
    if (!(*tap)->batching()) std::fprintf(stderr, "net_bench: no io_uring here: both devices write frame by frame\n");
    test::NetRig rig(256, std::move(*tap));
    auto tap_plain = net::Tap::open(TAP_PLAIN);
    if (!tap_plain) die("second tap");
    (*tap_plain)->disable_batching();
    test::NetRig plain(256, std::move(*tap_plain));
    // The test driver cannot post while the device polls (one thread): no polling here.
    rig.device->set_poll_ns(0);
    plain.device->set_poll_ns(0);
    if (!rig.activate(FEATURES) || !plain.activate(FEATURES)) die("activate");
    set_up_tap(TAP, int(frames) + 1000);
    set_up_tap(TAP_PLAIN, int(frames) + 1000);
    int wire = ::socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ALL);
    addr.sll_ifindex = int(::if_nametoindex(TAP));
    if (wire < 0 || ::bind(wire, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        die("AF_PACKET socket");
    // The wire socket sees the frames written to the tap too: do not let it queue them.
    int zero = 0;
    ::setsockopt(wire, SOL_SOCKET, SO_RCVBUF, &zero, sizeof zero);

    // Fixed guest buffers, reused: 256 transmit frames, 256 receive buffers.
    std::vector<GuestAddress> tx_bufs, rx_bufs, plain_bufs;
    for (size_t i = 0; i < BUFFERS; ++i) tx_bufs.push_back(rig.tx.alloc(HDR + 1514));
    for (size_t i = 0; i < BUFFERS; ++i) plain_bufs.push_back(plain.tx.alloc(HDR + 1514));
    for (size_t i = 0; i < BUFFERS; ++i) rx_bufs.push_back(rig.rx.alloc(2048));

    std::printf("| figure (device alone vs raw tap I/O) | device frames/s | device bytes/s | "
                "raw frames/s | raw bytes/s | device/raw | device writing frame by frame: "
                "frames/s, /raw |\n|---|---|---|---|---|---|---|\n");
    for (size_t len : {size_t{60}, size_t{1514}}) {
        std::vector<uint8_t> frame(HDR, 0);
        auto f = eth_frame(len);
        frame.insert(frame.end(), f.begin(), f.end());
        for (GuestAddress a : tx_bufs) rig.tx.fill(a, frame);
        for (GuestAddress a : plain_bufs) plain.tx.fill(a, frame);
        Series tx, rx;
        for (unsigned run = 0; run <= runs; ++run) {   // run 0 is the warm-up
            double a = raw_tx(fd, len, frames), b = device_tx(rig, tx_bufs, len, frames);
            double e = device_tx(plain, plain_bufs, len, frames);
            fill_tap(wire, len, frames);
            double c = raw_rx(fd, frames);
            fill_tap(wire, len, frames);
            double d = device_rx(rig, rx_bufs, frames);
            if (run == 0) continue;
            tx.raw.push_back(frames / a);
            tx.dev.push_back(frames / b);
            tx.plain.push_back(frames / e);
            rx.raw.push_back(frames / c);
            rx.dev.push_back(frames / d);
        }
        row("transmit", len, tx);
        row("receive", len, rx);
    }
    const auto& c = rig.device->counters();
    const auto& p = plain.device->counters();
    std::printf("\ndevice counters: tx %llu frames, %llu drops; rx %llu frames, %llu drops; "
                "frame-by-frame device: tx %llu frames, %llu drops\n",
                (unsigned long long)c.tx_frames, (unsigned long long)c.tx_drops(),
                (unsigned long long)c.rx_frames, (unsigned long long)c.rx_drops(),
                (unsigned long long)p.tx_frames, (unsigned long long)p.tx_drops());
    return 0;
}
