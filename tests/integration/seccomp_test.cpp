// Seccomp, checked on a KVM host. Seccomp is on by default: every ending of a VM (guest status,
// power-off and reboot, triple fault with the register dump, the timeout, SIGTERM and SIGINT, a
// PVH kernel, a disk, a tap, --serial file:, --trace-exits and --stats) runs confined without a
// violation (exit 148 and "forbidden system call" would name the call), ends as it does under
// --no-seccomp, and every thread of a running VM is in seccomp filter mode (and none under
// --no-seccomp). They skip without /dev/kvm, and in sanitizer builds, where minivmm runs
// without filters by default and LSan's leak check at exit would break them (SECCOMP_BY_DEFAULT).
#include <algorithm>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "confined_build.hpp"
#include "run_process.hpp"
#include "scratch_disk_test.hpp"
#include "sandbox/seccomp_filter.hpp"


namespace {

using minivmm::test::BackgroundProcess;
using minivmm::test::ProcessResult;
using minivmm::test::run_process;

void expect_no_violation(const ProcessResult& r, const std::string& what) {
    EXPECT_FALSE(r.timed_out) << what;
    EXPECT_NE(r.exit_code, 148) << what << "\n" << r.err;
    EXPECT_EQ(r.signal, 0) << what << "\n" << r.err;
    EXPECT_EQ(r.err.find("forbidden system call"), std::string::npos) << what << "\n" << r.err;
}

// The output minus the `long` demo's TSC-ticks line, which varies from run to run.
std::string without_timing(const std::string& out) {
    std::string kept;
    size_t start = 0;
    while (start < out.size()) {
        size_t end = out.find('\n', start);
        end = end == std::string::npos ? out.size() : end + 1;
        std::string line = out.substr(start, end - start);
        if (line.find("TSC ticks") == std::string::npos) kept += line;
        start = end;
    }
    return kept;
}

std::string join(const std::vector<std::string>& args) {
    std::string s;
    for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
    return s;
}

// A scratch directory with a 1 MiB raw disk image.
class SeccompTest : public minivmm::test::ScratchDiskTest {};

// The default (no option) against --no-seccomp: same exit code, same guest output.
TEST_F(SeccompTest, EveryDemoEndsConfinedAsItDoesUnconfined) {
    REQUIRE_CONFINED_BUILD();
    struct Case {
        std::vector<std::string> args;
        int code;
    };
    const Case cases[] = {
        {{"--demo", "hello"}, 0},
        {{"--demo", "status"}, 42},
        {{"--demo", "long"}, 0},
        // The explain port: KVM_TRANSLATE and a pagemap pread on the vCPU thread.
        {{"--demo", "paging", "--show-memory"}, 0},
        {{"--demo", "ports", "--stats"}, 0},
        {{"--demo", "hello", "--trace-exits"}, 0},
        {{"--demo", "triple-fault"}, 120},
        {{"--demo", "poweroff"}, 0},
        {{"--demo", "reboot"}, 0},
        {{"--demo", "spin", "--timeout", "1"}, 124},
        {{"--demo", "echo", "--timeout", "1"}, 124},   // stdin is /dev/null: it waits for input
        // A disk gives the demo the in-kernel irqchip and the I/O thread an ioeventfd.
        {{"--demo", "status", "--disk", disk_}, 42},
        {{"--demo", "reboot", "--disk", disk_ + ",ro,serial=seccomp"}, 0},
        {{"--demo", "spin", "--disk", disk_, "--timeout", "1", "--stats"}, 124},
        {{"--demo", "hello", "--serial", "none"}, 0},
        {{"--seccomp", "--demo", "status"}, 42},   // the explicit spelling of the default
    };
    for (const auto& c : cases) {
        std::vector<std::string> argv = {MINIVMM_BINARY};
        argv.insert(argv.end(), c.args.begin(), c.args.end());
        auto confined = run_process(argv, 60);
        expect_no_violation(confined, join(c.args));
        EXPECT_EQ(confined.exit_code, c.code) << join(c.args) << "\n" << confined.err;
        if (c.args[0] == "--seccomp") argv.erase(argv.begin() + 1);
        argv.insert(argv.begin() + 1, "--no-seccomp");
        auto free = run_process(argv, 60);
        EXPECT_EQ(free.exit_code, c.code) << "--no-seccomp " << join(c.args) << "\n" << free.err;
        EXPECT_EQ(without_timing(confined.out), without_timing(free.out)) << join(c.args);
    }
}

TEST_F(SeccompTest, SerialFileGetsTheOutputConfined) {
    REQUIRE_CONFINED_BUILD();
    std::string serial = dir_ + "/serial.txt";
    auto r = run_process({MINIVMM_BINARY, "--demo", "status", "--serial", "file:" + serial});
    expect_no_violation(r, "--serial file:");
    EXPECT_EQ(r.exit_code, 42) << r.err;
    std::ifstream in(serial);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("status demo"), std::string::npos) << text;
}

TEST_F(SeccompTest, SigtermAndSigintStopAConfinedVmWithADisk) {
    REQUIRE_CONFINED_BUILD();
    for (int sig : {SIGTERM, SIGINT}) {
        BackgroundProcess vm({MINIVMM_BINARY, "--demo", "spin", "--disk", disk_});
        ASSERT_GT(vm.pid(), 0);
        ASSERT_TRUE(vm.wait_for_output("spin demo: running", 30000)) << vm.output();
        auto r = vm.finish(sig, 30);
        expect_no_violation(r, strsignal(sig));
        EXPECT_EQ(r.exit_code, sig == SIGTERM ? 143 : 130) << r.err;
    }
}

TEST(Seccomp, PvhKernelBootsConfined) {
    REQUIRE_CONFINED_BUILD();
    auto r = run_process({MINIVMM_BINARY, "--kernel", MINIVMM_PVH_GUEST, "--mem", "64M",
                          "--cmdline", "status=7"});
    expect_no_violation(r, "pvh");
    EXPECT_EQ(r.exit_code, 7) << r.err;
}

// --net: the tap is created by minivmm in a network namespace of its own (unshare -n, root).
TEST(Seccomp, VmWithATapRunsConfined) {
    REQUIRE_CONFINED_BUILD();
    if (::geteuid() != 0 || ::access("/usr/bin/unshare", X_OK) != 0)
        GTEST_SKIP() << "needs root and /usr/bin/unshare for a network namespace";
    auto r = run_process({"/usr/bin/unshare", "--net", MINIVMM_BINARY, "--demo", "status",
                          "--net", "tap=mvsc0,mac=52:54:00:12:34:56"});
    expect_no_violation(r, "--net");
    EXPECT_EQ(r.exit_code, 42) << r.err;
}

// The "Seccomp:" mode of every thread of a running VM (/proc/PID/task/TID/status): 2 is filter.
std::vector<int> thread_seccomp_modes(pid_t pid) {
    std::vector<int> modes;
    std::string tasks = "/proc/" + std::to_string(pid) + "/task";
    DIR* dir = ::opendir(tasks.c_str());
    if (dir == nullptr) return modes;
    while (dirent* e = ::readdir(dir)) {
        if (e->d_name[0] == '.') continue;
        std::ifstream status(tasks + "/" + e->d_name + "/status");
        std::string line;
        while (std::getline(status, line))
            if (line.rfind("Seccomp:", 0) == 0) modes.push_back(std::stoi(line.substr(8)));
    }
    ::closedir(dir);
    return modes;
}

// The main thread loads its filter after starting the others: poll for a short while.
TEST_F(SeccompTest, EveryThreadOfARunningVmIsConfinedByDefaultAndNoneWithNoSeccomp) {
    REQUIRE_CONFINED_BUILD();
    for (bool confined : {true, false}) {
        std::vector<std::string> argv = {MINIVMM_BINARY, "--demo", "spin", "--disk", disk_};
        if (!confined) argv.push_back("--no-seccomp");
        BackgroundProcess vm(argv);
        ASSERT_GT(vm.pid(), 0);
        ASSERT_TRUE(vm.wait_for_output("spin demo: running", 30000)) << vm.output();
        std::vector<int> modes;
        for (int i = 0; i < 100; ++i) {
            modes = thread_seccomp_modes(vm.pid());
            if (!confined || std::count(modes.begin(), modes.end(), 2) ==
                                 static_cast<long>(modes.size()))
                break;
            ::usleep(20000);
        }
        // Main, the I/O thread and the vCPU at least.
        EXPECT_GE(modes.size(), 3u);
        for (int mode : modes)
            EXPECT_EQ(mode, confined ? 2 : 0) << (confined ? "default" : "--no-seccomp");
        auto r = vm.finish(SIGTERM, 30);
        expect_no_violation(r, "spin");
        EXPECT_EQ(r.exit_code, 143) << r.err;
    }
}

} // namespace
