// Many VMs at once: 20 Linux guests (MINIVMM_MANY_VMS sets the number) on this host, each with
// its own minivmm process, 64 MiB and the test disk shared read-only. Every one reaches init,
// checks the disk and powers off with exit status 0; then the same with one SIGKILLed in the
// middle of its boot, while the others boot too: they must not notice.
//
// Needs hardware virtualisation (tools/test runs it inside tools/kvm-in-qemu elsewhere).
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "linux_images.hpp"
#include "run_process.hpp"

namespace {

using minivmm::test::has;
using minivmm::test::BackgroundProcess;
using minivmm::test::images_dir;
using minivmm::test::ProcessResult;

size_t vm_count() {
    const char* env = std::getenv("MINIVMM_MANY_VMS");
    return env ? static_cast<size_t>(std::max(2, std::atoi(env))) : 20;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// `count` VMs started at once: the minimal Linux with its initramfs, 64 MiB, the test disk
// read-only (its lock is shared), checked by init, then power-off.
std::vector<std::unique_ptr<BackgroundProcess>> start_vms(size_t count) {
    std::vector<std::unique_ptr<BackgroundProcess>> vms;
    for (size_t i = 0; i < count; ++i)
        vms.push_back(std::make_unique<BackgroundProcess>(std::vector<std::string>{
            MINIVMM_BINARY, "--kernel", (images_dir() / "kernel/bzImage").string(), "--initrd",
            (images_dir() / "initramfs/initramfs.cpio.gz").string(), "--mem", "64M", "--disk",
            (images_dir() / "disk/rootfs.ext4").string() + ",ro", "--timeout", "300", "--cmdline",
            "console=ttyS0 minivmm.disk=ro"}));
    return vms;
}

// Waits for every VM but `skip`; each must have checked its disk and powered off with 0.
// Returns how many did.
int expect_all_power_off(std::vector<std::unique_ptr<BackgroundProcess>>& vms, size_t skip = SIZE_MAX) {
    int clean = 0;
    for (size_t i = 0; i < vms.size(); ++i) {
        if (i == skip) continue;
        ProcessResult r = vms[i]->finish(0, 400);
        std::printf("[ INFO     ] VM %zu: exit status %d\n", i, r.exit_code);
        std::fflush(stdout);
        SCOPED_TRACE("VM " + std::to_string(i));
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_TRUE(has(r.out, "MINIVMM-INIT-OK")) << r.out;
        EXPECT_TRUE(has(r.out, "MINIVMM-DISK-OK")) << r.out;
        EXPECT_TRUE(has(r.out, "MINIVMM-POWEROFF")) << r.out;
        clean += r.exit_code == 0 && has(r.out, "MINIVMM-DISK-OK") && has(r.out, "MINIVMM-POWEROFF");
    }
    return clean;
}

TEST(LinuxGuestMany, TwentyAtOnceAllReachInitAndPowerOff) {
    REQUIRE_FULL_LINUX();
    const size_t count = vm_count();
    const auto start = std::chrono::steady_clock::now();
    auto vms = start_vms(count);
    const int clean = expect_all_power_off(vms);
    std::printf("[ INFO     ] %d of %zu VMs at once reached init and powered off with 0, %.1f s in all\n",
                clean, count, seconds_since(start));
}

// One VM is killed in the middle of its boot, when the others are booting too.
TEST(LinuxGuestMany, OneKilledMidBootLeavesTheOthersAlone) {
    REQUIRE_FULL_LINUX();
    const size_t count = vm_count(), killed = count / 2;
    const auto start = std::chrono::steady_clock::now();
    auto vms = start_vms(count);
    EXPECT_TRUE(vms[killed]->wait_for_output("Unpacking initramfs", 600000))
        << vms[killed]->output();
    ProcessResult k = vms[killed]->finish(SIGKILL, 30);
    const double killed_at = seconds_since(start);
    EXPECT_EQ(k.signal, SIGKILL);
    EXPECT_FALSE(has(k.out, "MINIVMM-INIT-OK")) << "killed after its boot, not in the middle";
    const int clean = expect_all_power_off(vms, killed);
    std::printf("[ INFO     ] VM %zu killed mid-boot after %.1f s; %d of the other %zu powered off "
                "with 0, %.1f s in all\n",
                killed, killed_at, clean, count - 1, seconds_since(start));
}

} // namespace
