// The command runner (minivmm --kernel K --initrd I -- CMD): the minimal kernel boots, the
// runner's own init (appended to the busybox initramfs of guest-images/) runs CMD, whose
// stdout and stderr come back on minivmm's and whose status is minivmm's exit code. CMD is a
// busybox applet of that initramfs. Needs hardware virtualisation, like the LinuxGuest suites
// (tools/test runs it inside tools/kvm-in-qemu on hosts without it).
#include <algorithm>
#include <fstream>
#include <sstream>
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "linux_images.hpp"
#include "run_process.hpp"
#include "temp_dir.hpp"

namespace {

using minivmm::test::has;
using minivmm::test::images_dir;
using minivmm::test::ProcessResult;

constexpr int TIMEOUT_S = 240;   // minivmm's --timeout in tests that expect none

// minivmm --kernel bzImage --initrd initramfs OPTIONS -- CMD...
ProcessResult run(const std::vector<std::string>& options, const std::vector<std::string>& cmd,
                  int process_timeout_s = TIMEOUT_S + 30) {
    std::vector<std::string> argv = {MINIVMM_BINARY, "--kernel",
                                     (images_dir() / "kernel/bzImage").string(), "--initrd",
                                     (images_dir() / "initramfs/initramfs.cpio.gz").string()};
    argv.insert(argv.end(), options.begin(), options.end());
    if (std::find(options.begin(), options.end(), "--timeout") == options.end())
        argv.insert(argv.end(), {"--timeout", std::to_string(TIMEOUT_S)});
    argv.push_back("--");
    argv.insert(argv.end(), cmd.begin(), cmd.end());
    return minivmm::test::run_process(argv, process_timeout_s);
}

std::string sequence(int from, int to, size_t bytes) {
    std::string s;
    for (int i = from; i <= to && s.size() < bytes; ++i) s += std::to_string(i) + "\n";
    return s.substr(0, bytes);
}

// FNV-1a, to name a mismatch without printing a MiB.
uint64_t checksum(const std::string& s) {
    uint64_t h = 1469598103934665603ULL;
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    return h;
}

TEST(LinuxGuestRunner, ExitCodesAreTheCommandsExactly) {
    REQUIRE_FULL_LINUX();
    struct Case {
        std::vector<std::string> cmd;
        int code;
    };
    const std::vector<Case> cases = {
        {{"true"}, 0},
        {{"false"}, 1},
        {{"sh", "-c", "exit 42"}, 42},
        {{"sh", "-c", "exit 255"}, 255},
        {{"sh", "-c", "kill -9 $$"}, 128 + 9},   // killed by a signal: 128 + its number
        {{"sh", "-c", "kill -TERM $$"}, 128 + 15},
    };
    for (const Case& c : cases) {
        auto r = run({}, c.cmd);
        ASSERT_FALSE(r.timed_out) << c.cmd.back();
        EXPECT_EQ(r.exit_code, c.code) << c.cmd.back() << "\nstderr: " << r.err;
        EXPECT_EQ(r.out, "") << c.cmd.back() << ": nothing but CMD's output on stdout";
    }
}

TEST(LinuxGuestRunner, CommandNotFoundIs127WithOneLine) {
    REQUIRE_FULL_LINUX();
    auto r = run({}, {"no-such-command", "arg"});
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 127) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(has(r.err, "minivmm-init: no-such-command: No such file or directory")) << r.err;
}

// 1 MiB on each stream, written at the same time, each compared byte for byte: nothing lost
// at the end, nothing crossed over, no "\n" turned into "\r\n". The data is made in the
// guest's /tmp first and written with cat, in large writes: each write to a console is a
// virtio chain the guest's hvc driver waits for (about 11 ms each under nested emulation, so
// seq's line-sized writes would take minutes).
TEST(LinuxGuestRunner, StdoutAndStderrAreSeparateAndComplete) {
    REQUIRE_FULL_LINUX();
    const size_t mib = 1 << 20;
    auto r = run({"--mem", "256M"},
                 {"sh", "-c",
                  "seq 1 200000 | head -c 1048576 > /tmp/o && "
                  "seq 300000 500000 | head -c 1048576 > /tmp/e && "
                  "{ cat /tmp/o & cat /tmp/e >&2 & wait; }"});
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
    const std::string out = sequence(1, 200000, mib), err = sequence(300000, 500000, mib);
    EXPECT_EQ(r.out.size(), mib);
    EXPECT_EQ(r.err.size(), mib) << r.err.substr(0, 500);
    EXPECT_EQ(checksum(r.out), checksum(out)) << "stdout differs";
    EXPECT_EQ(checksum(r.err), checksum(err)) << "stderr differs";
}

// stdin is /dev/null (cat ends at once), the directory is / (no share holds the host's), the
// environment is the runner's own; the kernel's log goes to --serial's file, not to stdout.
TEST(LinuxGuestRunner, StdinDirectoryEnvironmentAndTheKernelLogOnTheSerial) {
    REQUIRE_FULL_LINUX();
    const std::string log = "/tmp/minivmm-runner-serial-" + std::to_string(::getpid()) + ".log";
    auto r = run({"--serial", "file:" + log},
                 {"sh", "-c", "cat; pwd; echo \"$HOME $TERM $PATH\"; cat /proc/cmdline >&2"});
    const std::string serial = minivmm::test::file_bytes(log);
    ::unlink(log.c_str());
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "/\n/root dumb /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
    EXPECT_TRUE(has(r.err, "rdinit=/minivmm/init")) << r.err;
    EXPECT_TRUE(has(serial, "Linux version")) << serial.substr(0, 2000);
}

TEST(LinuxGuestRunner, TimeoutGives124) {
    REQUIRE_FULL_LINUX();
    auto r = run({"--timeout", "30"}, {"sleep", "1000"}, 90);
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 124) << r.err;
    EXPECT_TRUE(has(r.err, "timeout: stopped after 30 s")) << r.err;
}

// An init that never starts (the kernel runs busybox's sleep instead of the runner's init:
// "rdinit=/bin/sleep 1000", the kernel passing "1000" on as its argument) ends the VM at
// --boot-timeout with 118 and the state report.
TEST(LinuxGuestRunner, InitNotReachedGivesTheBootTimeoutCode) {
    REQUIRE_FULL_LINUX();
    const auto start = std::chrono::steady_clock::now();
    auto r = run({"--boot-timeout", "20", "--cmdline", "rdinit=/bin/sleep 1000"}, {"true"}, 90);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 118) << r.err;
    EXPECT_TRUE(has(r.err, "boot timeout: the guest's init did not start within 20 s")) << r.err;
    EXPECT_TRUE(has(r.err, "vcpu0:")) << "the state report: " << r.err;
    EXPECT_LT(seconds, 60.0);
}

// Once the init has started, --boot-timeout no longer counts: CMD outlives it.
TEST(LinuxGuestRunner, BootTimeoutStopsCountingWhenInitStarts) {
    REQUIRE_FULL_LINUX();
    auto r = run({"--boot-timeout", "20"}, {"sh", "-c", "sleep 25; exit 7"});
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 7) << r.err;
}

// Linux's pvpanic driver reports the panic at once: the panic code, within 5 s of the
// command's start.
TEST(LinuxGuestRunner, KernelPanicGivesThePanicCodeAtOnce) {
    REQUIRE_FULL_LINUX();
    auto r = run({"--log-level", "info"}, {"sh", "-c", "echo c > /proc/sysrq-trigger"});
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 119) << r.err;
    const std::string marker = "s after init started)";
    const size_t at = r.err.find(marker);
    ASSERT_NE(at, std::string::npos) << r.err;
    const size_t from = r.err.rfind(", ", at);
    ASSERT_NE(from, std::string::npos) << r.err;
    const double after_init = std::stod(r.err.substr(from + 2, at - from - 2));
    EXPECT_LT(after_init, 5.0) << r.err;
}

// A guest that powers off before its init reported a status is never a success.
TEST(LinuxGuestRunner, PowerOffWithoutAStatusIs117) {
    REQUIRE_FULL_LINUX();
    auto r = run({}, {"poweroff", "-f"});
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 117) << r.err;
    EXPECT_TRUE(has(r.err, "before its init reported the command's status")) << r.err;
}

// No --initrd: the guest's root is the host's, read-only under a tmpfs overlay (virtio-9p);
// CMD starts in the host's current directory and sees its files; its writes there stay in
// the guest's overlay, while a --share DIR,rw takes them to the host.
TEST(LinuxGuestRunner, WithoutAnInitrdTheHostsRootIsTheGuestsAndSharesWriteBack) {
    REQUIRE_FULL_LINUX();
    minivmm::test::TempDir here("minivmm-runner-cwd"), out("minivmm-runner-rw");
    ASSERT_FALSE(here.path.empty() || out.path.empty());
    std::ofstream(here.path / "hello.txt") << "hello from the host\n";
    const std::string cmd =
        "cat hello.txt; pwd; echo guest-only > hello.txt; cat hello.txt; "
        "echo written > " + out.path.string() + "/out.txt; "
        "echo overlay > /etc/minivmm-overlay-test && cat /etc/minivmm-overlay-test";
    std::ostringstream line;
    line << "cd " << here.path.string() << " && exec " << MINIVMM_BINARY << " --kernel "
         << (images_dir() / "kernel/bzImage").string() << " --timeout " << TIMEOUT_S
         << " --share " << out.path.string() << ",rw -- sh -c '" << cmd << "'";
    auto r = minivmm::test::run_process({"/bin/sh", "-c", line.str()}, TIMEOUT_S + 30);
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "hello from the host\n" + here.path.string() + "\nguest-only\noverlay\n")
        << r.err;
    // The host's files are as they were; the rw share got the write.
    EXPECT_EQ(minivmm::test::file_bytes(here.path / "hello.txt"), "hello from the host\n");
    EXPECT_FALSE(std::filesystem::exists("/etc/minivmm-overlay-test"));
    EXPECT_EQ(minivmm::test::file_bytes(out.path / "out.txt"), "written\n");
}

// The kernel the user brings: Debian's cloud kernel (linux-image-cloud-amd64, 6.1) builds
// virtio-mmio, virtio-console and pvpanic-mmio as modules, finds virtio-mmio devices only
// through ACPI (no VIRTIO_MMIO_CMDLINE_DEVICES) and has no 9p, so it runs CMD with the
// initramfs of guest-images/build-cloud-kernel, whose /etc/minivmm/modules the runner's init
// loads first. Its log (--serial) tells a missing module from a hang.
TEST(LinuxGuestRunner, DebiansCloudKernelRunsTheCommandWithItsModules) {
    REQUIRE_FULL_LINUX();
    const auto cloud = images_dir() / "cloud";
    for (const char* f : {"vmlinuz", "initramfs.cpio.gz"})
        if (!std::filesystem::exists(cloud / f))
            GTEST_SKIP() << "needs " << (cloud / f).string()
                         << " (guest-images/build-cloud-kernel)";
    const std::string log = "/tmp/minivmm-runner-cloud-" + std::to_string(::getpid()) + ".log";
    auto r = minivmm::test::run_process(
        {MINIVMM_BINARY, "--kernel", (cloud / "vmlinuz").string(), "--initrd",
         (cloud / "initramfs.cpio.gz").string(), "--serial", "file:" + log, "--timeout",
         std::to_string(TIMEOUT_S), "--", "sh", "-c",
         "uname -r; echo on-stderr >&2; exit 42"},
        TIMEOUT_S + 30);
    const std::string serial = minivmm::test::file_bytes(log);
    std::filesystem::remove(log);
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 42) << r.err << "\n"
                               << serial.substr(serial.size() > 3000 ? serial.size() - 3000 : 0);
    EXPECT_EQ(r.out, minivmm::test::file_bytes(cloud / "version")) << r.err;
    EXPECT_EQ(r.err, "on-stderr\n");
}

} // namespace
