// Soak: Linux on minivmm does mixed disk and network I/O for MINIVMM_SOAK_SECONDS (default 120;
// tools/soak runs 30 minutes): rounds of 1 MiB written with fsync to an ext4 disk, read back
// past the guest's page cache and compared, and pings of 1400 bytes over virtio-net to a tap
// (guest-images/init, minivmm.soak). Every 10 s the test samples minivmm's own memory (the
// resident set without the guest-RAM mapping), its open descriptors and its threads. After a
// warm-up third, none may grow: fds and threads exactly flat, memory within 1 MiB. The host end
// of the tap lives in a network namespace of its own (unshare --net), so no traffic leaves it.
//
// Needs root, hardware virtualisation (tools/test runs it inside tools/kvm-in-qemu elsewhere),
// /usr/bin/unshare and /usr/sbin/ip (iproute2, for `ip tuntap`).
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <csignal>
#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "linux_images.hpp"
#include "run_process.hpp"

namespace {

namespace fs = std::filesystem;
using minivmm::test::BackgroundProcess;
using minivmm::test::images_dir;
using minivmm::test::ProcessResult;

constexpr uint64_t GUEST_MIB = 128;

struct Sample {
    double at_s = 0;
    uint64_t own_rss_kib = 0;   // resident, without the guest-RAM mapping
    uint64_t guest_rss_kib = 0;
    size_t fds = 0;
    size_t threads = 0;
};

// One sample of process `pid`; false once it is gone.
bool sample(pid_t pid, Sample& s) {
    const std::string proc = "/proc/" + std::to_string(pid);
    std::ifstream smaps(proc + "/smaps");
    if (!smaps) return false;
    // A mapping's header line ("start-end perms ..."), then "Key: value kB" lines.
    std::string line;
    uint64_t size_kib = 0;
    while (std::getline(smaps, line)) {
        unsigned long long value = 0;
        char key[64] = {};
        if (std::sscanf(line.c_str(), "%63[A-Za-z_]: %llu kB", key, &value) != 2) continue;
        const std::string k = key;
        if (k == "Size") size_kib = value;
        if (k == "Rss") (size_kib == GUEST_MIB * 1024 ? s.guest_rss_kib : s.own_rss_kib) += value;
    }
    std::error_code ec;
    s.fds = 0;
    for (auto it = fs::directory_iterator(proc + "/fd", ec); !ec && it != fs::directory_iterator(); ++it)
        ++s.fds;
    // minivmm's threads; io_uring's kernel workers (iou-wrk-*, iou-sqp-*) come and go with the
    // load and are not counted.
    s.threads = 0;
    for (auto it = fs::directory_iterator(proc + "/task", ec); !ec && it != fs::directory_iterator(); ++it) {
        std::string comm;
        std::getline(std::ifstream(it->path() / "comm"), comm);
        if (comm.rfind("iou-", 0) != 0) ++s.threads;
    }
    return s.fds > 0;
}

TEST(LinuxGuestSoak, MixedDiskAndNetworkIoLeavesMinivmmFlat) {
    REQUIRE_FULL_LINUX();
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (a network namespace and a tap)";
    for (const char* tool : {"/usr/bin/unshare", "/usr/sbin/ip"})
        if (!fs::exists(tool)) GTEST_SKIP() << "needs " << tool;
    int seconds = 120;
    if (const char* env = std::getenv("MINIVMM_SOAK_SECONDS")) seconds = std::max(30, std::atoi(env));

    const fs::path disk = fs::temp_directory_path() / ("minivmm-soak-" + std::to_string(::getpid()) + ".ext4");
    fs::copy_file(images_dir() / "disk/rootfs.ext4", disk, fs::copy_options::overwrite_existing);
    // unshare execs sh, sh execs minivmm: the pid BackgroundProcess knows is minivmm's.
    const std::string script =
        "/usr/sbin/ip link set lo up && /usr/sbin/ip tuntap add dev mvsoak0 mode tap && "
        "/usr/sbin/ip addr add 10.0.3.1/24 dev mvsoak0 && /usr/sbin/ip link set mvsoak0 up && "
        "exec " + std::string(MINIVMM_BINARY) + " --kernel " +
        (images_dir() / "kernel/bzImage").string() + " --initrd " +
        (images_dir() / "initramfs/initramfs.cpio.gz").string() + " --mem " +
        std::to_string(GUEST_MIB) + "M --cpus 2 --disk " + disk.string() +
        " --net mvsoak0 --timeout " + std::to_string(seconds + 600) +
        " --cmdline 'console=ttyS0 minivmm.disk=rw minivmm.ip=10.0.3.2/24 minivmm.soak=" +
        std::to_string(seconds) + ":10.0.3.1'";
    BackgroundProcess vm({"/usr/bin/unshare", "--net", "/bin/sh", "-c", script});
    if (!vm.wait_for_output("MINIVMM-SOAK-ROUND 1\r", 300000)) {
        // What the VM said is the only trace of why (it ended, or hung, before the first round).
        ProcessResult r = vm.finish(SIGTERM, 30);
        fs::remove(disk);
        FAIL() << "the soak never started (minivmm exit " << r.exit_code << ")\n"
               << r.out << r.err;
    }

    std::vector<Sample> samples;
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
        Sample s;
        s.at_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (!sample(vm.pid(), s)) break;
        samples.push_back(s);
        if (vm.wait_for_output("MINIVMM-SOAK-DONE", 10000) || vm.wait_for_output("MINIVMM-SOAK-BAD", 0))
            break;
    }
    ProcessResult r = vm.finish(0, 300);
    fs::remove(disk);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find("MINIVMM-SOAK-BAD"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("MINIVMM-SOAK-DONE"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("MINIVMM-POWEROFF"), std::string::npos) << r.out;

    std::smatch done;
    const bool finished = std::regex_search(r.out, done, std::regex("MINIVMM-SOAK-DONE ([0-9]+)"));
    std::printf("[ INFO     ] %s rounds of disk and network I/O in %d s\n",
                finished ? done[1].str().c_str() : "?", seconds);
    std::printf("[ INFO     ] %zu samples, every 10 s: seconds, own RSS KiB, guest RSS KiB, fds, threads\n",
                samples.size());
    for (const Sample& s : samples)
        std::printf("[ INFO     ]   %6.0f %8llu %8llu %4zu %4zu\n", s.at_s,
                    static_cast<unsigned long long>(s.own_rss_kib),
                    static_cast<unsigned long long>(s.guest_rss_kib), s.fds, s.threads);
    ASSERT_GE(samples.size(), 3u) << "too few samples to tell";
    const size_t warm = samples.size() / 3;
    uint64_t floor_kib = samples[warm].own_rss_kib;
    for (size_t i = warm; i < samples.size(); ++i) {
        SCOPED_TRACE("sample at " + std::to_string(static_cast<int>(samples[i].at_s)) + " s");
        EXPECT_EQ(samples[i].fds, samples[warm].fds) << "open descriptors changed";
        EXPECT_EQ(samples[i].threads, samples[warm].threads) << "threads changed";
        EXPECT_LE(samples[i].own_rss_kib, floor_kib + 1024) << "minivmm's own memory grew";
    }
}

} // namespace
