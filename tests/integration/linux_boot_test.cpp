// Boots the minimal Linux kernel of guest-images/build-kernel as a bzImage (64-bit boot
// protocol) and as a vmlinux (PVH), with the busybox initramfs and two vCPUs, and checks the
// early boot log lines that prove minivmm's inputs were used. On a host with hardware
// virtualisation the guest must reach init and power off (exit 0). On PVM hosts
// (KVM's instruction emulator runs guest CPL 0 code there) the kernel stops at the first
// instruction that emulator lacks: minivmm must
// report a KVM internal error (exit 121) with the instruction bytes; the early lines are
// still asserted. The test says which case applied. Needs /dev/kvm and the images
// (${MINIVMM_IMAGES:-~/.cache/minivmm/images}); skips, saying which is missing, otherwise.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "linux_images.hpp"
#include "run_process.hpp"

namespace {

using minivmm::test::host_has_hardware_virtualisation;
using minivmm::test::images_dir;
using minivmm::test::run_process;
namespace fs = std::filesystem;

// acpi_force_table_verification: checksum every table at its first sight (Linux skips that by
// default early in boot), so "Incorrect checksum" below would catch a bad table.
const char* CMDLINE = "console=ttyS0 earlyprintk=serial noxsave panic=-1 "
                      "acpi_force_table_verification minivmm.action=poweroff";

void boot_and_check(const fs::path& kernel) {
    REQUIRE_KVM();
    fs::path initrd = images_dir() / "initramfs/initramfs.cpio.gz";
    if (!fs::exists(kernel))
        GTEST_SKIP() << "needs " << kernel << " (guest-images/build-kernel builds it)";
    if (!fs::exists(initrd))
        GTEST_SKIP() << "needs " << initrd << " (guest-images/build-initramfs builds it)";
    bool hardware = host_has_hardware_virtualisation();
    std::cout << "[ INFO     ] " << (hardware
        ? "host has VT-x/AMD-V: expecting a full boot to init and power-off"
        : "host has no VT-x/AMD-V (PVM): expecting the early boot log, then a KVM internal error")
              << std::endl;

    auto r = run_process({MINIVMM_BINARY, "--kernel", kernel.string(), "--initrd", initrd.string(),
                          "--mem", "256M", "--cpus", "2", "--cmdline", CMDLINE, "--timeout", "600"},
                         660);
    ASSERT_FALSE(r.timed_out) << r.out;
    const std::string& log = r.out;
    for (std::string needle : {
             std::string("Linux version 6.1"),
             std::string("Command line: ") + CMDLINE,
             std::string("BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable"),
             std::string("BIOS-e820: [mem 0x000000000009fc00-0x00000000000fffff] reserved"),
             std::string("BIOS-e820: [mem 0x0000000000100000-0x000000000fffffff] usable"),
             std::string("Hypervisor detected: KVM"),
             std::string("ACPI: RSDP 0x00000000000E0000"),
             std::string("ACPI: XSDT 0x"),
             std::string("ACPI: FACP 0x"),
             std::string("ACPI: DSDT 0x"),
             std::string("ACPI: APIC 0x"),
             std::string("Allowing 2 CPUs"),
             std::string("printk: console [ttyS0] enabled"),
         })
        EXPECT_NE(log.find(needle), std::string::npos) << "missing: " << needle << "\n" << log;
    EXPECT_EQ(log.find("Incorrect checksum"), std::string::npos) << log;
    EXPECT_EQ(log.find("ACPI BIOS Error"), std::string::npos) << log;
    if (hardware) {
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_NE(log.find("MINIVMM-INIT-OK"), std::string::npos) << log;
        EXPECT_NE(log.find("MINIVMM-POWEROFF"), std::string::npos) << log;
    } else {
        EXPECT_EQ(r.exit_code, 121) << r.err;
        EXPECT_NE(r.err.find("KVM internal error"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("instruction bytes: "), std::string::npos) << r.err;
        std::cout << "[ INFO     ] the guest stopped where PVM's emulator gave up: "
                  << r.err.substr(0, r.err.find('\n')) << std::endl;
    }
}

TEST(LinuxBoot, BzImageBootsAtTheSixtyFourBitEntry) {
    boot_and_check(images_dir() / "kernel/bzImage");
}

TEST(LinuxBoot, VmlinuxBootsThroughPvh) {
    boot_and_check(images_dir() / "kernel/vmlinux");
}

} // namespace
