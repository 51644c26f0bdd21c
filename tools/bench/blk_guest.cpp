// virtio-blk through the guest path (block throughput against the raw limit): the bare-metal guest
// virtio-blk-guest.elf in mode=bench (guest-images/demos/blk_bench.c: CPL 3, polling, `depth`
// requests in flight) under minivmm and under QEMU microvm with virtio-blk-device, on the same
// image file, against the raw limit: pread/pwrite of the same sizes at the same offsets on the
// same file from one host thread (the device also serves its queue from one thread). QEMU runs
// twice: with its defaults ("QEMU": aio=threads, the device in the main loop) and at its best
// ("QEMU best": the device on an iothread with adaptive polling, poll-max-ns at its default,
// and aio=io_uring); both through the page cache (cache=writeback) as minivmm and the raw loop.
//
// CPU per request: every thread of the VMM from /proc/PID/task/*/schedstat, sampled when the
// guest prints VBLK-GO (just before its loop) and its result line, over the requests; beside it
// the part besides the vCPU thread (which spins in this polling guest); the raw loop's thread
// CPU time. bench_util.hpp, as net_guest_bench.
//
//
// Timing: the guest reads the TSC around its request loop (start-up and shutdown excluded) and
// prints the tick count; this program converts ticks to seconds with the host TSC frequency it
// calibrates against CLOCK_MONOTONIC (the guest's TSC runs at the host's rate under KVM and PVM,
// no TSC scaling here), and checks every guest time against the child's whole wall time. Runs
// alternate raw, minivmm, QEMU, QEMU best, raw, ... (one warm-up each, then --runs); medians and
// min-max.
//
//   blk_guest --minivmm BIN --guest ELF [--qemu BIN|none] [--image PATH] [--image-mib N]
//             [--runs N] [--depth N] [--scale F] [--rows 4kr,4kw,64kr,64kw,4kr1]
//             [--baseline BIN [--baseline-label TEXT]]   (another minivmm build, side by side)
//             [--pin VCPU_CPU,IO_CPU | none]   (default none; see Pinning)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <fstream>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>
#include <x86intrin.h>

#include "bench_util.hpp"
#include "child_vm.hpp"

namespace {

using bench::load_average;
using bench::now;
using bench::ProcessCpu;
using bench::tsc_hz;

struct Row {
    const char* key;    // for --rows
    const char* name;
    uint32_t bs;
    bool random, write;
    uint64_t count;     // requests per run (times --scale)
    unsigned depth;     // requests in flight; 0: --depth
};

const Row ROWS[] = {
    {"4kr", "4 KiB random read", 4096, true, false, 60000, 0},
    {"4kw", "4 KiB random write", 4096, true, true, 60000, 0},
    {"64kr", "64 KiB sequential read", 65536, false, false, 12000, 0},
    {"64kw", "64 KiB sequential write", 65536, false, true, 12000, 0},
    // One request at a time: every request finds the device idle unless it kept polling.
    {"4kr1", "4 KiB random read, 1 in flight", 4096, true, false, 20000, 1},
};

// --pin: the guest's vCPU thread runs on one CPU and every other thread of the VMM on another
// (the raw loop on that one too), for minivmm and QEMU alike. Unpinned, the scheduler of a busy
// 2-CPU host tends to wake the I/O thread on the CPU of the vCPU that kicked it, and the two
// then take turns on one CPU for the whole run (about 1 kick per 32 requests instead of ~0),
// which measures the scheduler rather than the VMM.
struct Pinning {
    bool on = false;
    int vcpu_cpu = 0, io_cpu = 1;
};

struct Options {
    std::string minivmm, guest, qemu = "qemu-system-x86_64";
    std::string baseline, baseline_label = "baseline";   // another minivmm, to compare builds
    std::string image = "/var/tmp/minivmm-blk-guest-bench.img";
    uint64_t image_mib = 256;
    unsigned runs = 7, depth = 32;
    double scale = 1.0;
    std::string rows = "4kr,4kw,64kr,64kw,4kr1";
    Pinning pin;
};

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "blk_guest: %s\n", what.c_str());
    std::exit(1);
}

// The guest's xorshift64* (blk_bench.c).
uint64_t xorshift64star(uint64_t& x) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return x * 0x2545f4914f6cdd1dULL;
}

// Wall seconds and the thread's CPU seconds.
std::pair<double, double> run_raw(int fd, const Row& r, uint64_t count, uint64_t seed,
                                  uint64_t image_bytes, std::vector<std::vector<uint8_t>>& bufs) {
    const uint64_t blocks = image_bytes / r.bs;
    uint64_t rng = seed;
    const double t0 = now(), c0 = bench::thread_cpu_seconds();
    for (uint64_t i = 0; i < count; ++i) {
        const uint64_t block = r.random ? xorshift64star(rng) % blocks : i % blocks;
        uint8_t* buf = bufs[i % bufs.size()].data();
        const auto off = static_cast<off_t>(block * r.bs);
        ssize_t n = r.write ? ::pwrite(fd, buf, r.bs, off) : ::pread(fd, buf, r.bs, off);
        if (n != static_cast<ssize_t>(r.bs)) die("raw pread/pwrite failed");
    }
    return {now() - t0, bench::thread_cpu_seconds() - c0};
}

struct Child {
    int status = -1;
    std::string out;
    double wall = 0;
    ProcessCpu cpu;   // from the guest's VBLK-GO to its result line
};

enum class Vmm { Minivmm, Qemu, QemuBest };

// bench::set_cpu, dying when it fails.
void set_cpu(pid_t tid, int cpu) {
    if (!bench::set_cpu(tid, cpu)) die("sched_setaffinity");
}

Child run_child(const std::vector<std::string>& argv, const Pinning& pin) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) die("pipe");
    double t0 = now();
    pid_t pid = ::fork();
    if (pid == 0) {
        if (pin.on) set_cpu(0, pin.io_cpu);   // every thread starts there
        ::dup2(out[1], 1);
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 0);
        ::dup2(null, 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(out[1]);
    if (pin.on) bench::pin_vcpu_thread(pid, {pin.vcpu_cpu, pin.io_cpu});
    Child c;
    char buf[4096];
    std::optional<ProcessCpu> at_go;
    bool done = false;
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) {
        c.out.append(buf, static_cast<size_t>(n));
        // The guest waits for nothing, so the samples come late by one pipe read at most.
        if (!at_go && c.out.find("VBLK-GO\n") != std::string::npos) at_go = bench::process_cpu(pid);
        const auto result = c.out.find("VBLK-BENCH");
        if (at_go && !done && result != std::string::npos &&
            c.out.find('\n', result) != std::string::npos) {
            c.cpu = bench::process_cpu(pid) - *at_go;
            done = true;
        }
    }
    ::close(out[0]);
    int st = 0;
    ::waitpid(pid, &st, 0);
    c.wall = now() - t0;
    c.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return c;
}

struct GuestRun {
    double seconds;
    double kicks_per_op;
    ProcessCpu cpu;
};

uint64_t field(const std::string& line, const char* key) {
    auto p = line.find(std::string(" ") + key + "=");
    if (p == std::string::npos) die("no " + std::string(key) + " in: " + line);
    return std::strtoull(line.c_str() + p + std::strlen(key) + 2, nullptr, 10);
}

GuestRun run_guest(const Options& o, Vmm vmm, const std::string& binary, const Row& r,
                   uint64_t count, uint64_t seed, double hz, const Pinning& pin) {
    std::string cmdline = "mode=bench write=" + std::to_string(r.write) + " bs=" +
                          std::to_string(r.bs) + " rand=" + std::to_string(r.random) +
                          " depth=" + std::to_string(r.depth ? r.depth : o.depth) +
                          " count=" + std::to_string(count) +
                          " seed=" + std::to_string(seed);
    std::vector<std::string> argv;
    int expect;
    if (vmm != Vmm::Minivmm) {
        // cache=writeback (the default): the host page cache, flushes honoured with fdatasync,
        // as minivmm's pread/pwrite/fdatasync. Defaults: aio=threads, the device served by the
        // main loop. Best: an iothread (adaptive polling up to poll-max-ns, 32 µs by default)
        // and io_uring.
        const bool best = vmm == Vmm::QemuBest;
        argv = {binary, "-name", "bench,debug-threads=on", "-M", "microvm,acpi=off", "-enable-kvm", "-cpu", "host,-arch-capabilities",
                "-m", "64M", "-display", "none", "-no-reboot", "-nodefaults", "-serial", "stdio",
                "-kernel", o.guest, "-global", "virtio-mmio.force-legacy=false", "-drive",
                "id=d,file=" + o.image + ",format=raw,if=none,cache=writeback,aio=" +
                    (best ? "io_uring" : "threads"),
                "-device", best ? "virtio-blk-device,drive=d,iothread=io0" : "virtio-blk-device,drive=d",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-append", cmdline + " exit_port=0xf4"};
        if (best) argv.insert(argv.begin() + 1, {"-object", "iothread,id=io0"});
        expect = 1;   // isa-debug-exit: (0 << 1) | 1
    } else {
        argv = {binary, "--kernel", o.guest, "--mem", "64M", "--disk", o.image, "--cmdline",
                "acpi=off " + cmdline, "--timeout", "600"};
        expect = 0;
    }
    Child c = run_child(argv, pin);
    auto p = c.out.find("VBLK-BENCH");
    if (c.status != expect || p == std::string::npos)
        die(argv[0] + " exited " + std::to_string(c.status) + ": " + c.out);
    std::string line = c.out.substr(p, c.out.find('\n', p) - p);
    if (field(line, "ops") != count) die("wrong op count: " + line);
    GuestRun g{static_cast<double>(field(line, "ticks")) / hz,
               static_cast<double>(field(line, "kicks")) / static_cast<double>(count), c.cpu};
    if (g.seconds > c.wall) die("guest time exceeds the process's wall time: TSC rate differs");
    return g;
}

struct Stats {
    double median, min, max;
};
Stats stats(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return {v[v.size() / 2], v.front(), v.back()};
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i], v = argv[i + 1];
        if (a == "--minivmm") o.minivmm = v;
        else if (a == "--guest") o.guest = v;
        else if (a == "--qemu") o.qemu = v;
        else if (a == "--image") o.image = v;
        else if (a == "--image-mib") o.image_mib = std::stoull(v);
        else if (a == "--runs") o.runs = static_cast<unsigned>(std::stoul(v));
        else if (a == "--depth") o.depth = static_cast<unsigned>(std::stoul(v));
        else if (a == "--scale") o.scale = std::stod(v);
        else if (a == "--rows") o.rows = v;
        else if (a == "--baseline") o.baseline = v;
        else if (a == "--pin") {
            o.pin.on = v != "none";
            if (o.pin.on && std::sscanf(v.c_str(), "%d,%d", &o.pin.vcpu_cpu, &o.pin.io_cpu) != 2)
                die("--pin VCPU_CPU,IO_CPU or none");
        }
        else if (a == "--baseline-label") o.baseline_label = v;
        else die("unknown option " + a);
    }
    if (o.minivmm.empty() || o.guest.empty() || o.runs == 0) die("needs --minivmm and --guest");
    return o;
}

std::string cell(const Stats& s) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f [%.0f-%.0f]", s.median, s.min, s.max);
    return buf;
}

} // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    const uint64_t image_bytes = o.image_mib << 20;
    // A fully written image (no holes, so writes allocate nothing), in the page cache.
    int fd = ::open(o.image.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) die("cannot create " + o.image);
    std::vector<uint8_t> fill(1 << 20);
    for (uint64_t off = 0; off < image_bytes; off += fill.size()) {
        for (size_t i = 0; i < fill.size(); i += 8) fill[i] = static_cast<uint8_t>(off + i);
        if (::pwrite(fd, fill.data(), fill.size(), static_cast<off_t>(off)) < 0) die("fill");
    }
    ::fdatasync(fd);
    const double hz = tsc_hz(0.2);
    cpu_set_t all_cpus;
    if (::sched_getaffinity(0, sizeof all_cpus, &all_cpus) != 0) die("sched_getaffinity");
    std::vector<std::vector<uint8_t>> bufs(o.depth, std::vector<uint8_t>(1 << 16, 0x5a));

    // The sides: each runs once per round, after the raw loop.
    struct Side {
        std::string label;
        Vmm vmm;
        std::string binary;
    };
    std::vector<Side> sides = {{"minivmm", Vmm::Minivmm, o.minivmm}};
    if (!o.baseline.empty()) sides.push_back({"minivmm " + o.baseline_label, Vmm::Minivmm, o.baseline});
    if (o.qemu != "none") {
        sides.push_back({"QEMU", Vmm::Qemu, o.qemu});
        sides.push_back({"QEMU best", Vmm::QemuBest, o.qemu});
    }

    std::string head = "| workload | raw pread/pwrite MB/s |", rule = "|---|---|";
    for (const Side& side : sides) head += " " + side.label + " MB/s |", rule += "---|";
    for (const Side& side : sides) head += " " + side.label + " / raw |", rule += "---|";
    head += " kicks per 1000 requests (";
    for (size_t i = 0; i < sides.size(); ++i) head += (i ? ", " : "") + sides[i].label;
    head += ") |";
    rule += "---|";
    std::printf("%s\n%s\n", head.c_str(), rule.c_str());
    std::fflush(stdout);
    const std::string load_before = load_average();
    std::vector<std::string> cpu_lines;   // the second table, printed after the first
    for (const Row& r : ROWS) {
        if (("," + o.rows + ",").find("," + std::string(r.key) + ",") == std::string::npos) continue;
        const auto count = static_cast<uint64_t>(static_cast<double>(r.count) * o.scale);
        const double mb = static_cast<double>(count * r.bs) / 1e6;
        std::vector<double> raw, raw_cpu;   // MB/s; CPU seconds per request
        std::vector<std::vector<double>> rate(sides.size()), kicks(sides.size()),
            cpu_all(sides.size()), cpu_other(sides.size());
        for (unsigned run = 0; run <= o.runs; ++run) {   // run 0 warms up
            const uint64_t seed = run + 1;
            std::string log = std::string(r.key) + " run " + std::to_string(run) + ":";
            // Raw first, then the sides in an order that rotates from run to run, so that no side
            // always follows the raw loop (which leaves the same blocks freshly read).
            for (size_t k = 0; k <= sides.size(); ++k) {
                if (k == 0) {
                    if (o.pin.on) set_cpu(0, o.pin.io_cpu);
                    const auto [secs, cpu] = run_raw(fd, r, count, seed, image_bytes, bufs);
                    if (o.pin.on) ::sched_setaffinity(0, sizeof all_cpus, &all_cpus);
                    log += " raw " + std::to_string(static_cast<int>(mb / secs));
                    if (run > 0) raw.push_back(mb / secs), raw_cpu.push_back(cpu / double(count));
                    continue;
                }
                const size_t i = (k - 1 + run) % sides.size();
                GuestRun g = run_guest(o, sides[i].vmm, sides[i].binary, r, count, seed, hz, o.pin);
                log += ", " + sides[i].label + " " + std::to_string(static_cast<int>(mb / g.seconds)) +
                       " (kicks/op " + std::to_string(g.kicks_per_op) + ")";
                if (run == 0) continue;
                rate[i].push_back(mb / g.seconds);
                kicks[i].push_back(1000 * g.kicks_per_op);
                if (g.cpu.all() > 0) {   // both samples taken
                    cpu_all[i].push_back(g.cpu.all() / double(count));
                    cpu_other[i].push_back(g.cpu.other / double(count));
                }
            }
            std::fprintf(stderr, "%s MB/s\n", log.c_str());
        }
        const Stats raw_stats = stats(raw);
        std::string line = "| " + std::string(r.name) + " | " + cell(raw_stats) + " |";
        for (size_t i = 0; i < sides.size(); ++i) line += " " + cell(stats(rate[i])) + " |";
        for (size_t i = 0; i < sides.size(); ++i) {
            char buf[32];
            std::snprintf(buf, sizeof buf, " %.2f |", stats(rate[i]).median / raw_stats.median);
            line += buf;
        }
        line += " ";
        for (size_t i = 0; i < sides.size(); ++i)
            line += (i ? ", " : "") + std::to_string(static_cast<int>(stats(kicks[i]).median));
        std::printf("%s |\n", line.c_str());
        std::fflush(stdout);
        std::string cpu_line = "| " + std::string(r.name) + " | " + bench::cpu_cell(raw_cpu, {}) + " |";
        for (size_t i = 0; i < sides.size(); ++i) cpu_line += " " + bench::cpu_cell(cpu_all[i], cpu_other[i]) + " |";
        cpu_lines.push_back(cpu_line);
    }
    std::string cpu_head = "| host CPU per request, µs: all threads [besides the vCPU] | raw |";
    std::string cpu_rule = "|---|---|";
    for (const Side& side : sides) cpu_head += " " + side.label + " |", cpu_rule += "---|";
    std::printf("\n%s\n%s\n", cpu_head.c_str(), cpu_rule.c_str());
    for (const std::string& l : cpu_lines) std::printf("%s\n", l.c_str());
    ::close(fd);
    ::unlink(o.image.c_str());
    std::string pinning = "threads not pinned";
    if (o.pin.on)
        pinning = "pinned: the vCPU thread on CPU " + std::to_string(o.pin.vcpu_cpu) +
                  ", the VMM's other threads and the raw loop on CPU " + std::to_string(o.pin.io_cpu);
    std::printf("\nTSC %.1f MHz (calibrated against CLOCK_MONOTONIC); %u requests in flight "
                "unless the row says otherwise; %u runs after a "
                "warm-up; %s; load average (1, 5 min) %s before, %s after; nice %d.\n",
                hz / 1e6, o.depth, o.runs, pinning.c_str(), load_before.c_str(),
                load_average().c_str(), ::getpriority(PRIO_PROCESS, 0));
    return 0;
}
