// virtio-net through the whole guest path (the README's "Benchmarks"):
// the bare-metal guest guest-images/demos/virtio_net_guest.c at CPL 3 under minivmm and under
// QEMU (microvm, virtio-net-device), against raw tap I/O by this program, all on the
// same tap in a private network namespace. QEMU runs twice when the host has vhost-net
// (/dev/vhost-net): with vhost=off ("QEMU", the device in QEMU's main loop) and vhost=on
// ("QEMU best": the rings served by the kernel's vhost worker, the best backend for a tap).
//
//   net_guest_bench --minivmm PATH --guest ELF [--qemu PATH] [--baseline PATH] [--runs N]
//                   [--frames N] [--rx-frames N] [--lens 60,1514] [--boost N]
//                   [--pin VCPU_CPU,IO_CPU | none]                                (root)
//
// --baseline: another minivmm binary (e.g. before a change), run alongside in its own column.
//
// Transmit: the guest keeps its 256-entry ring full until N frames are sent (mode=txbench) and
// reports the TSC ticks from the first frame offered to the last one completed; raw = write(2)
// of the same frames (vnet header + frame) on the tap fd, N times, timed by the wall clock.
// Nobody reads the frames: the host stack drops them (an EtherType nobody handles).
// Receive: the tap's queue is filled with N frames through an AF_PACKET socket (untimed) while
// the guest waits before DRIVER_OK (mode=rxbench); it then receives them all and reports the
// ticks from DRIVER_OK to the last frame; raw = read(2) of N frames from the filled tap.
// TSC ticks become seconds with a frequency measured here against CLOCK_MONOTONIC (KVM guests
// read the host's TSC). Runs alternate raw, minivmm, QEMU; the output is a Markdown table of
// medians with min-max and the ratios.
// Host CPU per frame, the second table: all the VMM's threads, and in brackets the part besides
// the vCPU (which spins in a polling guest): the VMM's other threads (minivmm's "io", QEMU's
// main loop and helpers, the kernel's vhost worker; vCPU threads are named "vcpuN" and "CPU
// N/KVM") from their schedstat between the guest's VNET-GO and its result (bench_util.hpp,
// process_cpu, as blk_guest), against the raw loop's thread CPU time. On a loaded machine the
// frame rates measure the share of CPU each gets; this measures the work.
// --pin (default 0,1): each VM's vCPU thread on one CPU, all its other threads and the raw
// loops on the other (child_vm.hpp, Pin; as blk_guest --pin).
// --boost N: run in a new session whose autogroup has nice N (e.g. -10), so that other
// sessions' work (builds, fuzzers: autogroups share the CPUs fairly whatever their nice) does
// not decide the outcome; every contender gets the same.
#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <cstring>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <map>
#include <net/ethernet.h>
#include <net/if.h>
#include <optional>
#include <sched.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>
#include <x86intrin.h>

#include "bench_util.hpp"
#include "child_vm.hpp"

namespace {

using bench::Vm;

constexpr const char* TAP = "mvgbench0";
constexpr size_t HDR = 12;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "net_guest_bench: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(1);
}

using bench::thread_cpu_seconds;

// One contender's run: frames per second (wall clock) and host CPU seconds per frame, all
// threads and besides the vCPU (the raw loop: its thread, `other` unused).
struct Sample {
    double rate = 0, cpu_all = 0, cpu_other = 0;
};

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void ifreq_ioctl(unsigned long req, ifreq& ifr) {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    std::string(TAP).copy(ifr.ifr_name, IFNAMSIZ - 1);
    if (s < 0 || ::ioctl(s, req, &ifr) != 0) die(std::string("ioctl on ") + TAP);
    ::close(s);
}

// Attaches to the tap as a VMM would (vnet header of 12 bytes); persist: keep it afterwards.
int open_tap(bool persist) {
    int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    ifreq ifr{};
    std::string(TAP).copy(ifr.ifr_name, IFNAMSIZ - 1);
    ifr.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
    int hdr = static_cast<int>(HDR);
    if (fd < 0 || ::ioctl(fd, TUNSETIFF, &ifr) != 0 || ::ioctl(fd, TUNSETVNETHDRSZ, &hdr) != 0)
        die("attach to the tap");
    if (persist && ::ioctl(fd, TUNSETPERSIST, 1) != 0) die("TUNSETPERSIST");
    return fd;
}

// The guest's frame: broadcast, a fixed source, EtherType 0x88b5, then a pattern.
std::vector<uint8_t> frame(size_t len, uint16_t ethertype) {
    std::vector<uint8_t> f(len);
    for (size_t i = 0; i < len; ++i) f[i] = static_cast<uint8_t>(i * 7);
    std::fill(f.begin(), f.begin() + 6, 0xff);
    const uint8_t src[6] = {0x02, 0, 0, 0, 0, 1};
    std::copy(src, src + 6, f.begin() + 6);
    f[12] = static_cast<uint8_t>(ethertype >> 8);
    f[13] = static_cast<uint8_t>(ethertype);
    return f;
}

double tsc_hz() {
    double t0 = now();
    uint64_t c0 = __rdtsc();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return double(__rdtsc() - c0) / (now() - t0);
}

// Frames queued on the tap for its reader (what the guest receives): sent out of the tap
// through a packet socket that receives nothing itself (protocol 0).
void fill_tap(size_t len, unsigned frames) {
    int s = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = static_cast<int>(::if_nametoindex(TAP));
    to.sll_halen = 6;
    if (s < 0) die("AF_PACKET socket");
    auto f = frame(len, 0x88b6);
    for (unsigned i = 0; i < frames; ++i)
        if (::sendto(s, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) !=
            static_cast<ssize_t>(f.size()))
            die("sendto on the tap");
    ::close(s);
    // The tap's qdisc hands frames to the tap's queue from a softirq, maybe after sendto
    // returned: let it finish before the reader starts.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
}

Sample raw_tx(size_t len, unsigned frames) {
    int fd = open_tap(false);
    std::vector<uint8_t> buf(HDR, 0);
    auto f = frame(len, 0x88b5);
    buf.insert(buf.end(), f.begin(), f.end());
    double t0 = now(), c0 = thread_cpu_seconds();
    for (unsigned i = 0; i < frames; ++i)
        if (::write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) die("write");
    double dt = now() - t0, cpu = thread_cpu_seconds() - c0;
    ::close(fd);
    return {frames / dt, cpu / frames, 0};
}

Sample raw_rx(size_t len, unsigned frames) {
    int fd = open_tap(false);
    fill_tap(len, frames);
    std::vector<uint8_t> buf(HDR + 65550);
    unsigned got = 0;
    double t0 = now(), c0 = thread_cpu_seconds();
    for (; got < frames; ++got)
        if (::read(fd, buf.data(), buf.size()) <= 0) break;
    double dt = now() - t0, cpu = thread_cpu_seconds() - c0;
    ::close(fd);
    if (got < frames) std::fprintf(stderr, "net_guest_bench: raw rx got %u of %u\n", got, frames);
    return {got / dt, cpu / got, 0};
}

struct Setup {
    std::string minivmm, qemu, guest, baseline;
    std::optional<bench::Pin> pin = bench::Pin{};
    bool vhost = false;   // the QEMU best column
    double hz = 0;
};

enum Vmm { MINIVMM, QEMU, QEMU_BEST, BASELINE };

std::vector<std::string> vm_argv(const Setup& s, Vmm vmm, const std::string& cmdline) {
    if (vmm == MINIVMM || vmm == BASELINE)
        return {vmm == MINIVMM ? s.minivmm : s.baseline, "--kernel", s.guest, "--mem", "64M",
                "--net", TAP, "--cmdline", "acpi=off " + cmdline};
    return {s.qemu, "-M", "microvm,acpi=off", "-enable-kvm", "-cpu", "host,-arch-capabilities",
            "-m", "64M", "-name", "bench,debug-threads=on", "-nodefaults", "-display", "none",
            "-no-reboot", "-serial", "stdio",
            "-kernel", s.guest, "-global", "virtio-mmio.force-legacy=false", "-netdev",
            std::string("tap,id=n,ifname=") + TAP + ",script=no,downscript=no,vhost=" +
                (vmm == QEMU_BEST ? "on" : "off"),
            "-device", "virtio-net-device,netdev=n", "-device",
            "isa-debug-exit,iobase=0xf4,iosize=4", "-append", cmdline + " exit_port=0xf4"};
}

// Frames per second the guest reported (its VNET-BENCH line) and the host CPU per frame
// besides the vCPU between VNET-GO and the result, or nothing.
std::optional<Sample> guest_rate(const Setup& s, Vm& vm, const char* what) {
    if (!vm.wait_for("VNET-GO\n", 60)) {
        std::fprintf(stderr, "net_guest_bench: %s: no VNET-GO; output:\n%s\n", what,
                     vm.output.c_str());
        return std::nullopt;
    }
    const bench::ProcessCpu before = vm.cpu();
    if (!vm.wait_for(" kicks=", 120) || !vm.wait_for("\n", 5)) {
        std::fprintf(stderr, "net_guest_bench: %s: no result; output:\n%s\n", what,
                     vm.output.c_str());
        return std::nullopt;
    }
    unsigned long long frames = 0, ticks = 0;
    auto at = vm.output.find("VNET-BENCH");
    if (at == std::string::npos ||
        std::sscanf(vm.output.c_str() + at, "VNET-BENCH dir=%*s frames=%llu bytes=%*u ticks=%llu",
                    &frames, &ticks) != 2 || ticks == 0 || frames == 0)
        return std::nullopt;
    const bench::ProcessCpu host = vm.cpu() - before;
    return Sample{double(frames) / (double(ticks) / s.hz), host.all() / double(frames),
                  host.other / double(frames)};
}

const char* const NAMES[] = {"minivmm", "QEMU", "QEMU best", "baseline"};

std::optional<Sample> vm_tx(const Setup& s, Vmm vmm, size_t len, unsigned frames) {
    Vm vm(vm_argv(s, vmm, "mode=txbench count=" + std::to_string(frames) +
                              " len=" + std::to_string(len)),
          s.pin);
    return guest_rate(s, vm, NAMES[vmm]);
}

std::optional<Sample> vm_rx(const Setup& s, Vmm vmm, size_t len, unsigned frames) {
    Vm vm(vm_argv(s, vmm, "mode=rxbench count=" + std::to_string(frames)), s.pin);
    if (!vm.wait_for("VNET-WAIT", 60)) {
        std::fprintf(stderr, "net_guest_bench: no VNET-WAIT; output:\n%s\n", vm.output.c_str());
        return std::nullopt;
    }
    fill_tap(len, frames);
    if (::write(vm.in, "g", 1) != 1) die("write to the guest's console");
    return guest_rate(s, vm, NAMES[vmm]);
}

std::string cell(const std::vector<double>& v, size_t len) {
    if (v.empty()) return "n/a | n/a";
    char buf[128];
    std::snprintf(buf, sizeof buf, "%.0fk [%.0f-%.0fk] | %.1f", bench::median(v) / 1e3,
                  *std::min_element(v.begin(), v.end()) / 1e3,
                  *std::max_element(v.begin(), v.end()) / 1e3, bench::median(v) * double(len) / 1e6);
    return buf;
}

std::string ratio(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.empty() || b.empty()) return "n/a";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", bench::median(a) / bench::median(b));
    return buf;
}

} // namespace

int main(int argc, char** argv) {
    Setup s;
    unsigned runs = 5, frames = 200000, rx_frames = 20000;
    std::string boost;
    std::vector<size_t> lens = {60, 1514};
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i], v = argv[i + 1];
        if (k == "--minivmm") s.minivmm = v;
        else if (k == "--qemu") s.qemu = v;
        else if (k == "--guest") s.guest = v;
        else if (k == "--baseline") s.baseline = v;
        else if (k == "--runs") runs = unsigned(std::stoul(v));
        else if (k == "--frames") frames = unsigned(std::stoul(v));
        else if (k == "--rx-frames") rx_frames = unsigned(std::stoul(v));
        else if (k == "--boost") boost = v;
        else if (k == "--pin") {
            s.pin.reset();
            bench::Pin p;
            if (v != "none" && std::sscanf(v.c_str(), "%d,%d", &p.vcpu_cpu, &p.io_cpu) != 2)
                die("--pin VCPU_CPU,IO_CPU or none");
            if (v != "none") s.pin = p;
        }
        else if (k == "--lens") {
            lens.clear();
            for (size_t p = 0; p < v.size();) {
                size_t q = v.find(',', p);
                lens.push_back(std::stoul(v.substr(p, q - p)));
                p = q == std::string::npos ? v.size() : q + 1;
            }
        }
    }
    if (s.minivmm.empty() || s.guest.empty()) {
        std::fprintf(stderr, "usage: net_guest_bench --minivmm PATH --guest ELF [--qemu PATH] "
                             "[--baseline PATH] [--runs N] [--frames N] [--rx-frames N] "
                             "[--lens 60,1514] [--boost N] [--pin VCPU,IO|none]\n");
        return 2;
    }
    s.vhost = ::access("/dev/vhost-net", R_OK | W_OK) == 0;
    std::signal(SIGPIPE, SIG_IGN);
    if (!boost.empty()) {
        ::setsid();   // a new session is a new autogroup (fails harmlessly if already a leader)
        std::ofstream("/proc/self/autogroup") << boost;
    }
    double load[3] = {0, 0, 0};
    ::getloadavg(load, 3);
    if (::unshare(CLONE_NEWNET) != 0) die("unshare(CLONE_NEWNET) (run as root)");
    bench::disable_ipv6();
    ::close(open_tap(true));   // persistent: the VMs and the raw runs attach to it in turn
    ifreq q{};
    q.ifr_qlen = static_cast<int>(std::max(rx_frames, 1000u) + 1000);
    ifreq_ioctl(SIOCSIFTXQLEN, q);
    ifreq flags{};
    ifreq_ioctl(SIOCGIFFLAGS, flags);
    flags.ifr_flags = static_cast<short>(flags.ifr_flags | IFF_UP);
    ifreq_ioctl(SIOCSIFFLAGS, flags);
    s.hz = tsc_hz();
    // Pinned: this process (the raw loops) and every VMM thread but the vCPU on the I/O CPU.
    if (s.pin && !bench::set_cpu(0, s.pin->io_cpu)) die("sched_setaffinity");

    // The contenders run in each round after the raw loop: 1 + Vmm indexes the samples.
    std::vector<Vmm> vmms = {MINIVMM};
    if (!s.qemu.empty()) vmms.push_back(QEMU);
    if (!s.qemu.empty() && s.vhost) vmms.push_back(QEMU_BEST);
    if (!s.baseline.empty()) vmms.push_back(BASELINE);
    // Rows of both tables, printed at the end: [contender] samples (0 raw, 1 + Vmm).
    struct Row {
        std::string name;
        size_t len;
        std::vector<double> rate[5], cpu_all[5], cpu_other[5];
    };
    std::vector<Row> rows;
    for (size_t len : lens) {
        for (bool tx : {true, false}) {
            const unsigned n = tx ? frames : rx_frames;
            Row row{std::string(tx ? "transmit" : "receive") + ", " + std::to_string(len) +
                        "-byte frames",
                    len, {}, {}, {}};
            for (unsigned run = 0; run <= runs; ++run) {   // run 0 is the warm-up
                std::optional<Sample> x[5];
                x[0] = tx ? raw_tx(len, n) : raw_rx(len, n);
                for (Vmm v : vmms) x[1 + v] = tx ? vm_tx(s, v, len, n) : vm_rx(s, v, len, n);
                if (run == 0) continue;
                for (int k = 0; k < 5; ++k) {
                    if (!x[k]) continue;
                    row.rate[k].push_back(x[k]->rate);
                    // The guest lingers after its result line, so the threads are still there
                    // to be read; a sample that still missed them (not positive) is dropped.
                    if (x[k]->cpu_all <= 0) continue;
                    row.cpu_all[k].push_back(x[k]->cpu_all);
                    if (k > 0) row.cpu_other[k].push_back(x[k]->cpu_other);
                }
            }
            std::fprintf(stderr, "net_guest_bench: %s done\n", row.name.c_str());
            rows.push_back(std::move(row));
        }
    }
    std::string head = "| guest path | raw tap frames/s | MB/s |", rule = "|---|---|---|";
    for (Vmm v : vmms) head += std::string(" ") + NAMES[v] + " frames/s | MB/s |", rule += "---|---|";
    for (Vmm v : vmms) head += std::string(" ") + NAMES[v] + " / raw |", rule += "---|";
    std::printf("%s\n%s\n", head.c_str(), rule.c_str());
    for (const Row& r : rows) {
        std::printf("| %s | %s |", r.name.c_str(), cell(r.rate[0], r.len).c_str());
        for (Vmm v : vmms) std::printf(" %s |", cell(r.rate[1 + v], r.len).c_str());
        for (Vmm v : vmms) std::printf(" %s |", ratio(r.rate[1 + v], r.rate[0]).c_str());
        std::printf("\n");
    }
    head = "| host CPU per frame, µs: all threads [besides the vCPU] | raw |", rule = "|---|---|";
    for (Vmm v : vmms) head += std::string(" ") + NAMES[v] + " |", rule += "---|";
    std::printf("\n%s\n%s\n", head.c_str(), rule.c_str());
    for (const Row& r : rows) {
        std::printf("| %s | %s |", r.name.c_str(), bench::cpu_cell(r.cpu_all[0], {}).c_str());
        for (Vmm v : vmms)
            std::printf(" %s |", bench::cpu_cell(r.cpu_all[1 + v], r.cpu_other[1 + v]).c_str());
        std::printf("\n");
    }
    std::string group;
    std::getline(std::ifstream("/proc/self/autogroup"), group);
    double load_end[3] = {0, 0, 0};
    ::getloadavg(load_end, 3);
    std::string pinning = "threads not pinned";
    if (s.pin)
        pinning = "pinned: each vCPU thread on CPU " + std::to_string(s.pin->vcpu_cpu) +
                  ", the VMMs' other threads and the raw loops on CPU " +
                  std::to_string(s.pin->io_cpu);
    std::printf("\nTSC %.3f GHz; %u runs after a warm-up; transmit %u frames, receive %u frames "
                "per run; %s; load average %.1f at the start, %.1f at the end; %s.%s\n",
                s.hz / 1e9, runs, frames, rx_frames, pinning.c_str(), load[0], load_end[0],
                group.c_str(),
                s.qemu.empty() || s.vhost ? "" : " No QEMU best (vhost=on): no /dev/vhost-net.");
    return 0;
}
