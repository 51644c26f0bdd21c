// Linux, with its own drivers, booted to init on minivmm's devices: the judge of the machine.
// The minimal kernel and initramfs of guest-images/ (their /init prints MINIVMM-* markers) on
// 1, 2 and 4 vCPUs as bzImage and PVH vmlinux, a disk as root that Linux writes, a read-only
// disk, a kernel without ACPI (the MP table and command-line devices), reboot, and the serial
// console driven through a pseudo-terminal. Every boot's log must be clean: each line that reads
// like a fault must be on the allow-list below, with the reason it is not one.
//
// Needs hardware virtualisation (VT-x/AMD-V): on a PVM host, or one without /dev/kvm, the suite
// skips here, saying so, and tools/test runs it inside tools/kvm-in-qemu, whose emulated CPU
// has AMD SVM. Needs the images (guest-images/build-kernel, build-initramfs, build-disk) and
// e2fsprogs' debugfs.
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "linux_images.hpp"
#include "pty_process.hpp"
#include "run_process.hpp"

namespace {

namespace fs = std::filesystem;
using minivmm::test::has;
using minivmm::test::file_bytes;
using minivmm::test::images_dir;
using minivmm::test::ProcessResult;
using minivmm::test::PtyProcess;
using minivmm::test::run_process;

// Lines of a Linux boot log that read like a fault of the VMM, and the ones we accept, each
// with why. A line matching FAULT_WORDS must match an ACCEPTED pattern.
const std::regex FAULT_WORDS(
    "error|fail|fatal|warn|bug|unable|can't|cannot|invalid|unsupported|not found|timed out|"
    "broken|corrupt|unstable|unknown|cpuid\\[|call trace|unhandled",
    std::regex::icase);
struct Accepted {
    const char* pattern;
    const char* why;
};
const Accepted ACCEPTED[] = {
    {"^PCI: Using host bridge windows from ACPI; if necessary, use \"pci=nocrs\" and report a bug$",
     "printed on every ACPI PC (QEMU's too): the advice is for broken firmware windows"},
    {"^tsc: Marking TSC unstable due to TSCs unsynchronized$",
     "an AMD CPU without the invariant-TSC bit and more than one CPU; kvm-clock is the "
     "clocksource, so nothing depends on the TSC being synchronised"},
    {"^clocksource: timekeeping watchdog on CPU[0-9]+: Marking clocksource 'tsc' as unstable "
     "because the skew is too large:$",
     "the clocksource watchdog comparing the TSC with kvm-clock over an interval in which the "
     "nested guest was descheduled (seen inside tools/kvm-in-qemu on a loaded host: QEMU's TCG "
     "vCPU threads starve): Linux stops trusting the TSC, which is not the clocksource anyway"},
    {"^tsc: Marking TSC unstable due to clocksource watchdog$", "the watchdog line above, its summary"},
    {"^CPUID\\[0d, [0-9a-f]{2}\\]: eax=[0-9a-f]{8} ebx=[0-9a-f]{8} ecx=[0-9a-f]{8} edx=[0-9a-f]{8}$",
     "inside tools/kvm-in-qemu only: QEMU's emulated SVM does not let the nested KVM see the "
     "guest's XSETBV, so the XSAVE size CPUID reports stays that of x87 alone and Linux's "
     "consistency check dumps leaf 0xd; on hardware the leaves agree"},
    {"^x86/fpu: .*", "the XSAVE check above, its summary line"},
};

// The lines of `log` that look like faults and are not accepted.
std::vector<std::string> unexplained_lines(const std::string& log) {
    std::vector<std::string> out;
    std::istringstream in(log);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();   // the console's CR LF
        if (!std::regex_search(line, FAULT_WORDS)) continue;
        if (line.rfind("minivmm-init:", 0) == 0) continue;   // our own init's report lines
        bool ok = false;
        for (const Accepted& a : ACCEPTED) ok = ok || std::regex_search(line, std::regex(a.pattern));
        if (!ok) out.push_back(line);
    }
    return out;
}

void expect_clean_log(const std::string& log) {
    for (const std::string& line : unexplained_lines(log))
        ADD_FAILURE() << "kernel log line reads like a fault and is not on the allow-list: "
                      << line;
}

// A private copy of the test disk (tests write to it, and a writable disk is locked).
fs::path copy_disk(const std::string& name) {
    fs::path copy = fs::temp_directory_path() /
                    ("minivmm-linux-" + name + "-" + std::to_string(::getpid()) + ".ext4");
    fs::copy_file(images_dir() / "disk/rootfs.ext4", copy, fs::copy_options::overwrite_existing);
    return copy;
}

ProcessResult boot(const std::string& kernel, std::vector<std::string> extra, int timeout_s = 60) {
    std::vector<std::string> argv = {MINIVMM_BINARY, "--kernel", (images_dir() / "kernel" / kernel).string(),
                                     "--mem", "256M", "--timeout", std::to_string(timeout_s)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, timeout_s + 30);
}

std::string initrd() { return (images_dir() / "initramfs/initramfs.cpio.gz").string(); }

struct BootCase {
    const char* kernel;
    int cpus;
};

class LinuxGuestBoots : public ::testing::TestWithParam<BootCase> {};

TEST_P(LinuxGuestBoots, ToInitWithEveryVcpuAndTheDiskAndPowersOff) {
    REQUIRE_FULL_LINUX();
    const BootCase c = GetParam();
    const std::string disk = (images_dir() / "disk/rootfs.ext4").string() + ",ro";
    auto r = boot(c.kernel, {"--cpus", std::to_string(c.cpus), "--initrd", initrd(), "--disk", disk,
                             "--cmdline", "console=ttyS0 minivmm.action=poweroff"});
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "MINIVMM-INIT-OK")) << r.out;
    // The local APIC's TSC-deadline mode spares Linux the APIC timer calibration.
    EXPECT_TRUE(has(r.out, "TSC deadline timer available")) << r.out;
    EXPECT_TRUE(has(r.out, "minivmm-init: cpus online " + std::to_string(c.cpus) + " ")) << r.out;
    if (c.cpus > 1) {
        EXPECT_TRUE(has(r.out, "smp: Brought up 1 node, " + std::to_string(c.cpus) + " CPUs"))
            << r.out;
    }
    EXPECT_TRUE(has(r.out, "minivmm-init: virtio virtio0 device-id 0x0002 driver virtio_blk"))
        << r.out;
    EXPECT_TRUE(has(r.out, "MINIVMM-DISK-OK")) << r.out;
    EXPECT_TRUE(has(r.out, "MINIVMM-POWEROFF")) << r.out;
    EXPECT_TRUE(has(r.out, "reboot: Power down")) << r.out;
    EXPECT_FALSE(has(r.out, "probe of virtio-mmio")) << "a device announced twice: " << r.out;
    expect_clean_log(r.out);
}

INSTANTIATE_TEST_SUITE_P(, LinuxGuestBoots,
                         ::testing::Values(BootCase{"bzImage", 1}, BootCase{"bzImage", 2},
                                           BootCase{"bzImage", 4}, BootCase{"vmlinux", 1},
                                           BootCase{"vmlinux", 2}, BootCase{"vmlinux", 4}),
                         [](const auto& info) {
                             return std::string(info.param.kernel) + "_" +
                                    std::to_string(info.param.cpus) + "cpus";
                         });

// The root file system on virtio-blk: what Linux wrote and synced is in the image, byte for
// byte, once minivmm has exited; the file system is consistent.
TEST(LinuxGuest, RootOnTheDiskWritesReachTheImage) {
    REQUIRE_FULL_LINUX();
    const fs::path disk = copy_disk("root");
    const int lines = 4096;   // 128 KiB
    auto r = boot("bzImage", {"--cpus", "2", "--disk", disk.string(), "--cmdline",
                              "console=ttyS0 root=/dev/vda rw minivmm.action=poweroff "
                              "minivmm.write=" + std::to_string(lines)});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "minivmm-init: root filesystem is the disk (")) << r.out;
    EXPECT_TRUE(has(r.out, "MINIVMM-WRITE-OK ")) << r.out;
    expect_clean_log(r.out);

    std::string expected;
    char line[40];
    for (int i = 1; i <= lines; ++i) {
        std::snprintf(line, sizeof line, "%08d minivmm write test\n", i);
        expected += line;
    }
    const fs::path out = disk.string() + ".written";
    auto dump = run_process({"/sbin/debugfs", "-R",
                             "dump /minivmm/written.txt " + out.string(), disk.string()});
    ASSERT_EQ(dump.exit_code, 0) << "debugfs (e2fsprogs) is needed: " << dump.err;
    const std::string found = file_bytes(out);
    EXPECT_TRUE(found == expected) << "the image does not hold what the guest wrote: "
                                   << found.size() << " bytes of " << expected.size();
    auto fsck = run_process({"/sbin/e2fsck", "-fn", disk.string()});
    EXPECT_EQ(fsck.exit_code, 0) << fsck.out << fsck.err;
    fs::remove(out);
    fs::remove(disk);
}

TEST(LinuxGuest, AReadOnlyDiskIsReadOnlyToLinuxAndStaysUnchanged) {
    REQUIRE_FULL_LINUX();
    const fs::path disk = copy_disk("ro");
    const std::string before = file_bytes(disk);
    auto r = boot("bzImage", {"--initrd", initrd(), "--disk", disk.string() + ",ro", "--cmdline",
                              "console=ttyS0 minivmm.action=poweroff minivmm.disk=rocheck"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "MINIVMM-RO-OK")) << r.out;
    EXPECT_TRUE(file_bytes(disk) == before) << "the read-only image changed";
    fs::remove(disk);
}

// A kernel that does not use ACPI finds the vCPUs and the IOAPIC in the MP table and the disk
// on the command line (virtio_mmio.device=, added because of acpi=off). Without ACPI, Linux's
// power-off only halts the CPUs; reboot=k makes `reboot -f` reset through the i8042, which
// ends the VM with 0.
TEST(LinuxGuest, WithoutAcpiTheMpTableAndCommandLineDevicesAreEnough) {
    REQUIRE_FULL_LINUX();
    const std::string disk = (images_dir() / "disk/rootfs.ext4").string() + ",ro";
    auto r = boot("bzImage", {"--cpus", "2", "--initrd", initrd(), "--disk", disk, "--log-level",
                              "info", "--cmdline",
                              "console=ttyS0 acpi=off reboot=k minivmm.action=reboot"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "Intel MultiProcessor Specification v1.4")) << r.out;
    EXPECT_TRUE(has(r.out, "minivmm-init: cpus online 2 ")) << r.out;
    EXPECT_TRUE(has(r.out, "virtio_mmio.device=4K@0x")) << r.out;
    EXPECT_TRUE(has(r.out, "MINIVMM-DISK-OK")) << r.out;
    EXPECT_TRUE(has(r.out, "MINIVMM-REBOOT")) << r.out;
    EXPECT_TRUE(has(r.err, "the guest rebooted (i8042 reset)")) << r.err;
    // Without ACPI Linux checks its timer through the IOAPIC pin the MP table names for IRQ 0;
    // with the PIT wired elsewhere it logged "APIC timer disabled due to verification failure".
    expect_clean_log(r.out);
}

TEST(LinuxGuest, RebootEndsTheVmWithZero) {
    REQUIRE_FULL_LINUX();
    auto r = boot("vmlinux", {"--initrd", initrd(), "--log-level", "info", "--cmdline",
                              "console=ttyS0 minivmm.action=reboot"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "MINIVMM-REBOOT")) << r.out;
    EXPECT_TRUE(has(r.err, "minivmm: info: the guest rebooted")) << r.err;
}

// The serial console as a person uses it: a shell on a terminal, a command typed, its output
// read back; Ctrl-a x quits with 130 and leaves the terminal as it was.
TEST(LinuxGuest, TheSerialConsoleRunsAShellAndCtrlAXQuits) {
    REQUIRE_FULL_LINUX();
    PtyProcess vm({MINIVMM_BINARY, "--kernel", (images_dir() / "kernel/bzImage").string(),
                   "--initrd", initrd(), "--timeout", "120", "--cmdline",
                   "console=ttyS0 minivmm.action=shell"});
    ASSERT_GT(vm.pid(), 0);
    EXPECT_TRUE(vm.wait_for_output("starting a shell", 90000)) << vm.output();
    EXPECT_TRUE(vm.wait_for_output("# ", 20000)) << vm.output();
    EXPECT_TRUE(vm.type("echo hello-$((6*7))\r"));
    EXPECT_TRUE(vm.wait_for_output("hello-42", 20000)) << vm.output();
    EXPECT_TRUE(vm.type("\x01x"));
    EXPECT_EQ(vm.finish(20), 130) << "minivmm did not quit on Ctrl-a x: " << vm.output();
    EXPECT_TRUE(vm.mode_restored());
}

TEST(LinuxGuestLog, TheAllowListCatchesFaultsAndPassesWhatItExplains) {
    EXPECT_TRUE(unexplained_lines("tsc: Marking TSC unstable due to TSCs unsynchronized\r\n"
                                  "clocksource: timekeeping watchdog on CPU1: Marking clocksource "
                                  "'tsc' as unstable because the skew is too large:\n"
                                  "tsc: Marking TSC unstable due to clocksource watchdog\n"
                                  "virtio_blk virtio0: [vda] 131072 512-byte logical blocks\n")
                    .empty());
    auto bad = unexplained_lines("virtio-mmio: probe of virtio-mmio.0 failed with error -16\n"
                                 "PCI: Fatal: No config space access function found\n"
                                 "ACPI Error: AE_BAD_PARAMETER\nok line\n");
    EXPECT_EQ(bad.size(), 3u);
}

} // namespace
