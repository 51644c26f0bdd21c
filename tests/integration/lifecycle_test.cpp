// Signals, the lifecycle and guest RAM, checked on a KVM host:
// - 200 start/stop cycles of a Machine with a disk (and a tap, as root) in this
//   process leave no descriptor behind, and every descriptor a Machine holds is close-on-exec.
// - Every descriptor of a running minivmm besides 0-2 is close-on-exec (the flags the
//   kernel shows in /proc/PID/fdinfo), so nothing it holds survives an exec.
// - Guest RAM in a running minivmm is never executable and is excluded from core dumps
//   (/proc/PID/smaps VmFlags: no "ex", "dd").
// - SIGTERM and SIGINT flush every writable disk (an fdatasync of the image, after the
//   threads stopped) and end with their documented codes, 143 and 130.
// They skip without /dev/kvm.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <regex>
#include <sched.h>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "../unit/base/open_fds.hpp"
#include "base/log.hpp"
#include "kvm_available.hpp"
#include "machine/machine.hpp"
#include "run_process.hpp"
#include "scratch_disk_test.hpp"

// LSan's leak check at exit ptraces the process: it cannot run under strace.
#if defined(__SANITIZE_ADDRESS__)
#define MINIVMM_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MINIVMM_TEST_ASAN 1
#endif
#endif

namespace {

using minivmm::test::BackgroundProcess;

// A scratch directory with a 1 MiB raw disk image.
class Lifecycle : public minivmm::test::ScratchDiskTest {};

// Every descriptor in `fds` without FD_CLOEXEC, as "N -> target".
std::vector<std::string> without_cloexec(const std::set<int>& fds) {
    std::vector<std::string> bad;
    for (int fd : fds) {
        int flags = ::fcntl(fd, F_GETFD);
        if (flags >= 0 && (flags & FD_CLOEXEC) == 0) {
            char target[256] = {};
            ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), target,
                                   sizeof target - 1);
            bad.push_back(std::to_string(fd) + " -> " + (n > 0 ? target : "?"));
        }
    }
    return bad;
}

// In this process: create, run to the guest's end and destroy a Machine (the status
// demo on a disk, with the irqchip, ioeventfds and the I/O thread that brings) 200 times. The
// cycles run on a thread of their own which, as root, moves to a new network namespace, where
// each Machine also opens a tap (created, and gone again when the Machine closes it).
TEST_F(Lifecycle, TwoHundredStartStopCyclesLeaveNoDescriptorBehind) {
    REQUIRE_KVM();
    constexpr int CYCLES = 200;
    minivmm::MachineConfig config;
    config.demo = "status";
    config.serial.kind = minivmm::SerialConfig::Kind::None;
    ASSERT_TRUE(minivmm::add_device_option(config.devices, "disk", disk_ + ",serial=cycles"));
    config.seccomp = false;   // Machine::run would confine this test's thread for good

    const auto before = minivmm::test::open_fds();
    const minivmm::LogLevel level = minivmm::log_level();
    minivmm::set_log_level(minivmm::LogLevel::Error);   // "tap ... created it", 200 times
    bool with_tap = false;
    int ran = 0;
    std::string failure;
    std::vector<std::string> not_cloexec;
    auto start = std::chrono::steady_clock::now();
    std::thread cycles([&] {
        // Machine::run takes SIGINT and SIGTERM through a signalfd: blocked in its thread.
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &stop, nullptr);
        if (::geteuid() == 0 && ::unshare(CLONE_NEWNET) == 0) {
            if (minivmm::add_device_option(config.devices, "net", "tap=mvcycle0"))
                with_tap = true;
        }
        for (int i = 0; i < CYCLES; ++i) {
            auto m = minivmm::Machine::create(config);
            if (!m) {
                failure = "create: " + m.error().message();
                return;
            }
            if (i == 0) {   // what a Machine holds once built: all close-on-exec
                auto now = minivmm::test::open_fds();
                std::set<int> opened;
                for (int fd : now)
                    if (before.count(fd) == 0) opened.insert(fd);
                not_cloexec = without_cloexec(opened);
                // /dev/kvm, the VM, a vCPU, the disk, eventfds, epoll (and the tap).
                if (opened.size() < 7) failure = "only " + std::to_string(opened.size()) + " fds";
            }
            auto outcome = (*m)->run();
            if (!outcome) {
                failure = "run: " + outcome.error().message();
                return;
            }
            if (outcome->process_exit_code() != 42) {
                failure = "cycle " + std::to_string(i) + ": exit " +
                          std::to_string(outcome->process_exit_code()) + " " + outcome->report;
                return;
            }
            ++ran;
        }
    });
    cycles.join();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    minivmm::set_log_level(level);

    ASSERT_EQ(failure, "");
    EXPECT_EQ(ran, CYCLES);
    EXPECT_EQ(not_cloexec, std::vector<std::string>{});
    EXPECT_EQ(minivmm::test::open_fds(), before);
    std::printf("%d start/stop cycles (disk%s) in %.2f s\n", ran, with_tap ? " and tap" : ", no tap: not root",
                seconds);
}

// The descriptors of process `pid` besides 0-2 whose open flags (/proc/PID/fdinfo) lack
// O_CLOEXEC, and how many there are in all.
std::vector<std::string> fds_without_cloexec(pid_t pid, size_t& total) {
    std::vector<std::string> bad;
    std::string base = "/proc/" + std::to_string(pid);
    DIR* dir = ::opendir((base + "/fd").c_str());
    if (dir == nullptr) return {"cannot list " + base + "/fd"};
    total = 0;
    while (dirent* e = ::readdir(dir)) {
        if (e->d_name[0] == '.') continue;
        int fd = std::atoi(e->d_name);
        ++total;
        if (fd <= 2) continue;
        std::ifstream info(base + "/fdinfo/" + e->d_name);
        std::string line;
        unsigned long flags = 0;
        bool found = false;
        while (std::getline(info, line))
            if (line.rfind("flags:", 0) == 0) {
                flags = std::stoul(line.substr(6), nullptr, 8);
                found = true;
            }
        char target[256] = {};
        ::readlink((base + "/fd/" + e->d_name).c_str(), target, sizeof target - 1);
        if (!found || (flags & O_CLOEXEC) == 0)
            bad.push_back(std::string(e->d_name) + " -> " + target);
    }
    ::closedir(dir);
    return bad;
}

// The child is started with exactly 0-2 (run_process.hpp), so every other descriptor
// is minivmm's own: KVM's, the disk, the console's reopened stdout, eventfds, epoll, the
// signalfd, and, as root, a tap (in a network namespace of its own, unshare -n).
TEST_F(Lifecycle, EveryDescriptorOfARunningVmIsCloseOnExec) {
    REQUIRE_KVM();
    std::vector<std::string> argv = {MINIVMM_BINARY, "--demo", "spin", "--disk", disk_};
    bool tap = ::geteuid() == 0 && ::access("/usr/bin/unshare", X_OK) == 0;
    if (tap) {
        argv.insert(argv.begin(), {"/usr/bin/unshare", "--net"});
        argv.insert(argv.end(), {"--net", "mvfds0"});
    }
    BackgroundProcess vm(argv);
    ASSERT_GT(vm.pid(), 0);
    ASSERT_TRUE(vm.wait_for_output("spin demo: running", 30000)) << vm.output();
    size_t total = 0;
    // The signalfd is made in run(), before the threads start, so before the guest's output.
    auto bad = fds_without_cloexec(vm.pid(), total);
    EXPECT_EQ(bad, std::vector<std::string>{});
    // 0-2, /dev/kvm, the VM, the vCPU, the disk, stdout's reopening, epoll, the signalfd and
    // eventfds: the check did look at minivmm's own.
    EXPECT_GE(total, 12u) << "fewer descriptors than expected";
    auto r = vm.finish(SIGTERM, 30);
    EXPECT_EQ(r.exit_code, 143) << r.err;
}

// The VmFlags of every private anonymous mapping of `pid` that is exactly `kib` KiB large.
std::vector<std::string> vm_flags_of_mappings(pid_t pid, unsigned long kib) {
    std::ifstream smaps("/proc/" + std::to_string(pid) + "/smaps");
    std::vector<std::string> flags;
    std::string line;
    bool anonymous = false, sized = false;
    while (std::getline(smaps, line)) {
        unsigned long lo = 0, hi = 0;
        char perms[8] = {};
        unsigned long offset = 0, inode = 1;
        char dev[16] = {};
        int consumed = 0;
        if (std::sscanf(line.c_str(), "%lx-%lx %7s %lx %15s %lu%n", &lo, &hi, perms, &offset, dev,
                        &inode, &consumed) == 6) {
            std::string rest = line.substr(static_cast<size_t>(consumed));
            anonymous = inode == 0 && rest.find_first_not_of(' ') == std::string::npos;
            sized = (hi - lo) / 1024 == kib;
        } else if (line.rfind("VmFlags:", 0) == 0 && anonymous && sized) {
            flags.push_back(line + " ");
        }
    }
    return flags;
}

TEST_F(Lifecycle, GuestRamIsNeverExecutableAndNotInCoreDumps) {
    REQUIRE_KVM();
    // 40 MiB: no other mapping of minivmm has that size (malloc arenas reserve 64 MiB).
    BackgroundProcess vm({MINIVMM_BINARY, "--demo", "spin", "--mem", "40M"});
    ASSERT_GT(vm.pid(), 0);
    ASSERT_TRUE(vm.wait_for_output("spin demo: running", 30000)) << vm.output();
    auto flags = vm_flags_of_mappings(vm.pid(), 40 * 1024);
    ASSERT_EQ(flags.size(), 1u) << "the guest RAM mapping was not found in /proc/PID/smaps";
    EXPECT_NE(flags[0].find(" rd "), std::string::npos) << flags[0];
    EXPECT_NE(flags[0].find(" wr "), std::string::npos) << flags[0];
    EXPECT_EQ(flags[0].find(" ex "), std::string::npos) << flags[0];
    EXPECT_NE(flags[0].find(" dd "), std::string::npos) << flags[0];
    auto r = vm.finish(SIGTERM, 30);
    EXPECT_EQ(r.exit_code, 143) << r.err;
}

// The stop signals end the VM with their codes and flush the disk on the way out.
TEST_F(Lifecycle, SigtermAndSigintFlushTheDiskAndExitWithTheirCodes) {
    REQUIRE_KVM();
    for (int sig : {SIGTERM, SIGINT}) {
        BackgroundProcess vm(
            {MINIVMM_BINARY, "--demo", "spin", "--disk", disk_, "--log-level", "info"});
        ASSERT_GT(vm.pid(), 0);
        ASSERT_TRUE(vm.wait_for_output("spin demo: running", 30000)) << vm.output();
        auto r = vm.finish(sig, 30);
        EXPECT_FALSE(r.timed_out);
        EXPECT_EQ(r.exit_code, sig == SIGTERM ? 143 : 130) << r.err;
        EXPECT_NE(r.err.find(sig == SIGTERM ? "stopped by SIGTERM" : "stopped by SIGINT"),
                  std::string::npos) << r.err;
        EXPECT_NE(r.err.find("minivmm: info: disk " + disk_ + ": flushed at exit"),
                  std::string::npos) << r.err;
    }
}

// The number of the descriptor of `pid` that is open on `path`, or -1.
int fd_of(pid_t pid, const std::string& path) {
    std::string base = "/proc/" + std::to_string(pid) + "/fd";
    DIR* dir = ::opendir(base.c_str());
    if (dir == nullptr) return -1;
    int found = -1;
    while (dirent* e = ::readdir(dir)) {
        char target[512] = {};
        if (::readlink((base + "/" + e->d_name).c_str(), target, sizeof target - 1) > 0 &&
            path == target)
            found = std::atoi(e->d_name);
    }
    ::closedir(dir);
    return found;
}

// The flush at SIGTERM, seen from the outside: strace attached to a running (confined) VM sees
// the main
// thread's fdatasync of the image's descriptor at the end, and it succeeds. The spin demo never
// flushes, so that call is the exit's. (The stop signal itself does not show in the trace: it is
// read from a signalfd, never delivered.)
TEST_F(Lifecycle, TheFlushAtExitIsAnFdatasyncOfTheImage) {
    REQUIRE_KVM();
#ifdef MINIVMM_TEST_ASAN
    GTEST_SKIP() << "ASan build: LSan's leak check at exit cannot ptrace a process under strace";
#endif
    if (::access("/usr/bin/strace", X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/strace";
    BackgroundProcess vm({MINIVMM_BINARY, "--demo", "spin", "--disk", disk_});
    ASSERT_GT(vm.pid(), 0);
    ASSERT_TRUE(vm.wait_for_output("spin demo: running", 30000)) << vm.output();
    const pid_t pid = vm.pid();   // also the main thread's id
    int fd = fd_of(pid, disk_);
    ASSERT_GE(fd, 3);
    std::string log = dir_ + "/strace.log";
    BackgroundProcess tracer({"/usr/bin/strace", "-f", "-e", "trace=fdatasync", "-o", log, "-p",
                              std::to_string(pid)});
    ASSERT_GT(tracer.pid(), 0);
    if (!tracer.wait_for_output("attached", 10000)) {
        auto t = tracer.finish(SIGKILL, 5);
        GTEST_SKIP() << "strace cannot attach here (ptrace not permitted?): " << t.err;
    }
    auto r = vm.finish(SIGTERM, 30);
    EXPECT_EQ(r.exit_code, 143) << r.err;
    tracer.finish(0, 30);
    std::ifstream in(log);
    std::string trace((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // strace pads the thread id column: "4811  fdatasync(6)                      = 0".
    std::smatch call;
    ASSERT_TRUE(std::regex_search(trace, call, std::regex("(^|\n)" + std::to_string(pid) +
                                                          " +fdatasync\\(" + std::to_string(fd) +
                                                          "\\) += 0\n")))
        << "no successful fdatasync(" << fd << ") by the main thread " << pid << " in\n" << trace;
    // After the vCPU and I/O threads ended (joined before the flush).
    size_t first_exit = trace.find(" +++ exited with 0 +++");
    ASSERT_NE(first_exit, std::string::npos) << trace;
    EXPECT_LT(first_exit, static_cast<size_t>(call.position(0))) << trace;
}

} // namespace
